"""The client card: who the client is, where, how he is connected and who leads him."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory
from ispcrm.models import Branch
from ispcrm.validators import format_phone

from . import guards
from .address import Building


class Stage(models.TextChoices):
    """The five stages of the connection standard (CS-1…CS-5) and their side exits."""

    COMMERCIAL = "commercial", _("Commercial")
    EXPERTISE = "expertise", _("Technical expertise")
    CONTRACT = "contract", _("Contract")
    INSTALLATION = "installation", _("Installation")
    ACTIVATION = "activation", _("Activation")
    ACTIVE = "active", _("Active")
    NETWORK_DEVELOPMENT = "network_development", _("Network development")
    CANCELLED = "cancelled", _("Cancelled")
    TERMINATED = "terminated", _("Terminated")


class ConnectionType(models.TextChoices):
    LAN = "lan", _("LAN")
    RADIO = "radio", _("Radio")
    LEASED_LINE = "leased_line", _("Leased line")
    SATELLITE = "satellite", _("Satellite")


OPEN_STAGES = (Stage.COMMERCIAL, Stage.EXPERTISE, Stage.CONTRACT, Stage.INSTALLATION,
               Stage.ACTIVATION)


def fired_by(*role_names: str):
    """A transition's permission: any of these roles (superusers always, API.md)."""
    def allowed(card, user) -> bool:
        return user.is_authenticated and user.has_role(*role_names)
    allowed.roles = role_names
    return allowed


class ClientCard(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("full name or company name"), max_length=255)
    phone = models.CharField(_("phone"), max_length=16, help_text=_("Stored as +79123456789."))
    email = models.EmailField(_("email"), blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    building = models.ForeignKey(Building, models.PROTECT, related_name="clients",
                                 verbose_name=_("building"))
    premises = models.CharField(_("premises"), max_length=50, blank=True,
                                help_text=_("Flat or office number."))
    connection_type = models.CharField(_("connection type"), max_length=12,
                                       choices=ConnectionType.choices,
                                       default=ConnectionType.LAN)
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="clients",
                               verbose_name=_("branch"))
    lead_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="led_clients", verbose_name=_("lead manager"),
    )
    referrer = models.ForeignKey("self", models.SET_NULL, null=True, blank=True,
                                 related_name="referred_clients", verbose_name=_("referred by"))
    # Moves only by the transitions below, fired through connections.services.workflow.
    stage = FSMField(_("stage"), max_length=24, choices=Stage.choices, default=Stage.COMMERCIAL,
                     protected=True)
    stage_changed_at = models.DateTimeField(_("stage since"), default=timezone.now)
    # Stamped by billing when the connection fee is covered (CS-4, CS-5, CS-6).
    fee_paid_at = models.DateTimeField(_("connection fee paid"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    # CS-6: working days from the fee payment to activation, stored at activation.
    connection_days = models.DecimalField(_("connection time, working days"), max_digits=6,
                                          decimal_places=2, null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated"), null=True, blank=True)
    termination_reason = models.CharField(_("reason for leaving"), max_length=255, blank=True)
    termination_controllable = models.BooleanField(_("controllable churn"), null=True,
                                                   blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # SP-2: how the client agreed to be contacted about requests.
    support_channel = models.CharField(
        _("agreed support channel"), max_length=10, blank=True,
        choices=[("phone", _("Phone")), ("email", _("Email")), ("messenger", _("Messenger")),
                 ("cabinet", _("Personal cabinet"))])
    messenger_id = models.CharField(_("messenger chat id"), max_length=64, blank=True,
                                    db_index=True)
    # The personal cabinet's login of this client: he sees only this card's data.
    cabinet_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
        related_name="client_card", verbose_name=_("cabinet login"))
    # Name, phones, INN, email and address in one lower-cased line, so the search box is one
    # trigram-indexed LIKE per word on PostgreSQL (see refresh_search_text).
    search_text = models.TextField(editable=False, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The stage log, not the field history, records stage moves (who, why, payload).
    history = HistoricalRecords(bases=[AuditedHistory],
                                excluded_fields=["updated_at", "search_text", "stage",
                                                 "stage_changed_at"])

    class Meta:
        verbose_name = _("client card")
        verbose_name_plural = _("client cards")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone"]),
            models.Index(fields=["-created_at"]),
            models.Index(fields=["stage", "-created_at"]),
            models.Index(fields=["lead_manager", "stage"]),
            # A manager's home page: his open cards least recently touched, and the overdue
            # ones by stage age, read in index order up to the 50 shown (issue 8: at a
            # million cards a demo manager holds 78,000 open ones; sorting them took 0.3 s).
            models.Index(fields=["lead_manager", "updated_at"], name="card_open_manager_updated",
                         condition=models.Q(stage__in=OPEN_STAGES)),
            models.Index(fields=["lead_manager", "stage_changed_at"],
                         name="card_open_manager_changed",
                         condition=models.Q(stage__in=OPEN_STAGES)),
            models.Index(fields=["branch", "stage", "stage_changed_at"]),
            models.Index(fields=["activated_at"]),
            # The director's summary reads the day's terminations (reports.selectors).
            models.Index(fields=["terminated_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="company") | ~models.Q(inn=""),
                name="clientcard_company_has_inn",
                violation_error_message=_("A company needs its INN."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    def refresh_search_text(self) -> None:
        """Rebuild ``search_text``; bulk writers call this themselves. The phone is there as
        dialled both ways (7912… and 8912…); the account number once billing opened one."""
        digits = self.phone.lstrip("+")
        local = "8" + digits[1:] if digits.startswith("7") else ""
        building = self.building
        account = getattr(self, "account", None) if self.pk else None  # billing adds it
        parts = (self.name, digits, local, self.inn, self.email, building.street.name,
                 building.house, self.premises, account.number if account else "")
        self.search_text = " ".join(part for part in parts if part).casefold()

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    # The connection standard (API.md). The methods only move the stage; what each
    # transition does and records is in connections.services.workflow.

    @transition(stage, source=Stage.COMMERCIAL, target=Stage.EXPERTISE,
                permission=fired_by("manager"))
    def request_expertise(self):
        """Open a survey request in the technical department work log (CS-2)."""

    @transition(stage, source=Stage.NETWORK_DEVELOPMENT, target=Stage.EXPERTISE,
                permission=fired_by("manager", "noc_head", "technical_director"))
    def reopen(self):
        """The network has grown: survey again (CS-2)."""

    @transition(stage, source=Stage.EXPERTISE,
                target=RETURN_VALUE(Stage.CONTRACT, Stage.NETWORK_DEVELOPMENT),
                permission=fired_by("noc_head"), conditions=[guards.survey_scheduled])
    def record_expertise(self, possible: bool):
        """The NOC head's result: go on to the contract, or wait for the network."""
        return Stage.CONTRACT if possible else Stage.NETWORK_DEVELOPMENT

    @transition(stage, source=Stage.CONTRACT, target=Stage.INSTALLATION,
                permission=fired_by("manager"),
                conditions=[guards.positive_expertise, guards.nonstandard_approved,
                            guards.no_open_dispute, guards.Extra("sign_contract")])
    def sign_contract(self):
        """Both sides signed (CS-3); billing opens the account."""

    @transition(stage, source=Stage.INSTALLATION, target=Stage.INSTALLATION,
                permission=fired_by("crew_leader"),
                conditions=[guards.contract_signed, guards.paid_or_override])
    def schedule_installation(self):
        """The crew leader plans a crew, a day and a time (CS-4)."""

    @transition(stage, source=Stage.INSTALLATION, target=Stage.ACTIVATION,
                permission=fired_by("crew_leader"), conditions=[guards.installation_scheduled])
    def complete_installation(self):
        """The works act is signed with the client's IP address (CS-4)."""

    @transition(stage, source=Stage.ACTIVATION, target=Stage.ACTIVE,
                permission=fired_by("subscriber_dept"),
                conditions=[guards.contract_signed, guards.fee_paid, guards.works_act_with_ip])
    def activate(self):
        """The subscriber department takes the client into service (CS-5)."""

    @transition(stage, source=Stage.ACTIVE, target=Stage.TERMINATED,
                permission=fired_by("manager", "subscriber_dept"))
    def terminate(self):
        """The client leaves (R1: with a reason, controllable or not)."""

    @transition(stage, source=[*OPEN_STAGES, Stage.NETWORK_DEVELOPMENT],
                target=Stage.CANCELLED, permission=fired_by("manager"))
    def cancel(self):
        """The client changed his mind before service started."""

    @property
    def address(self) -> str:
        base = self.building.address
        return f"{base}, {self.premises}" if self.premises else base


class ClientContact(models.Model):
    """Another person to talk to at the client: an accountant, an IT admin, a relative."""

    client = models.ForeignKey(ClientCard, models.CASCADE, related_name="contacts",
                               verbose_name=_("client"))
    name = models.CharField(_("full name"), max_length=255)
    role = models.CharField(_("role"), max_length=100, blank=True,
                            help_text=_("E.g. accountant, IT admin."))
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    email = models.EmailField(_("email"), blank=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)
