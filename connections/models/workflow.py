"""What the connection standard keeps beside the card: per-branch settings, the stage log,
documents and "ask a colleague" questions (CS-1…CS-7)."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ispcrm import roles
from ispcrm.models import Branch

from .clients import ClientCard, ConnectionType, Stage


def _weekdays(value: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        days = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        days = [-1]
    if not days or any(day < 0 or day > 6 for day in days):
        raise ValidationError(_("List weekdays as numbers 0 (Monday) … 6 (Sunday), e.g. 1,3."))


class WorkflowSettings(models.Model):
    """A branch's survey days, guaranteed terms and contract series. A branch without a row
    uses the defaults (``for_branch``)."""

    branch = models.OneToOneField(Branch, models.CASCADE, related_name="workflow_settings",
                                  verbose_name=_("branch"))
    survey_weekdays = models.CharField(
        _("survey weekdays"), max_length=13, default="1,3", validators=[_weekdays],
        help_text=_("0 = Monday … 6 = Sunday. The standard surveys on Tuesday and Thursday."))
    survey_capacity = models.PositiveSmallIntegerField(
        _("surveys per day"), default=6, validators=[MinValueValidator(1)])
    survey_term_days = models.PositiveSmallIntegerField(
        _("guaranteed survey term, working days"), default=5,
        validators=[MaxValueValidator(60)])
    install_term_lan = models.PositiveSmallIntegerField(_("installation term: LAN"), default=2)
    install_term_radio = models.PositiveSmallIntegerField(_("installation term: radio"),
                                                          default=5)
    install_term_leased_line = models.PositiveSmallIntegerField(
        _("installation term: leased line"), default=10)
    install_term_satellite = models.PositiveSmallIntegerField(
        _("installation term: satellite"), default=15)
    contract_series = models.CharField(
        _("contract series"), max_length=10, blank=True,
        help_text=_("Prefix of this branch's contract numbers, e.g. MSK. Empty: the branch id."))

    class Meta:
        verbose_name = _("workflow settings")
        verbose_name_plural = _("workflow settings")

    def __str__(self) -> str:
        return str(self.branch)

    @classmethod
    def for_branch(cls, branch: Branch) -> "WorkflowSettings":
        found = getattr(branch, "_workflow_settings_cache", None)
        if found is None:
            found = cls.objects.filter(branch=branch).first() or cls(branch=branch)
            branch._workflow_settings_cache = found
        return found

    @property
    def weekdays(self) -> list[int]:
        return sorted({int(part) for part in self.survey_weekdays.split(",") if part.strip()})

    def install_term(self, connection_type: str) -> int:
        return getattr(self, f"install_term_{connection_type}",
                       self.install_term_lan)

    @property
    def series(self) -> str:
        return self.contract_series or f"{self.branch_id:02d}"


class StageLog(models.Model):
    """One row per fired transition (CS-7): who, when, from, to, with what payload."""

    card = models.ForeignKey(ClientCard, models.CASCADE, related_name="stage_log",
                             verbose_name=_("client"))
    transition = models.CharField(_("transition"), max_length=32)
    source = models.CharField(_("from"), max_length=24, choices=Stage.choices)
    target = models.CharField(_("to"), max_length=24, choices=Stage.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    payload = models.JSONField(_("payload"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    summary = models.CharField(_("summary"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("stage log row")
        verbose_name_plural = _("stage log")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["card", "at"]), models.Index(fields=["target", "at"])]

    def __str__(self) -> str:
        return f"{self.card_id}: {self.source} → {self.target}"


class CardDocument(models.Model):
    """A document that proves a stage's result or that the standard asks to keep: the
    expertise act, the contract, the owner's permission, a lease, the works act."""

    class Kind(models.TextChoices):
        EXPERTISE_ACT = "expertise_act", _("Expertise act")
        ESTIMATE = "estimate", _("Estimate")
        CONTRACT = "contract", _("Contract")
        OWNER_PERMISSION = "owner_permission", _("Building owner's permission")
        LEASE = "lease", _("Equipment placement lease")
        WORK_ORDER = "work_order", _("Work order")
        WORKS_ACT = "works_act", _("Act of completed works")
        OTHER = "other", _("Other")

    card = models.ForeignKey(ClientCard, models.CASCADE, related_name="documents",
                             verbose_name=_("client"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    number = models.CharField(_("number"), max_length=40, blank=True)
    file = models.FileField(_("scan"), upload_to="card_documents/%Y/%m/", blank=True)
    stage_log = models.ForeignKey(StageLog, models.SET_NULL, null=True, blank=True,
                                  related_name="documents", verbose_name=_("transition"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("added by"))
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("client document")
        verbose_name_plural = _("client documents")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.title} {self.number}".strip()


class ColleagueQuestion(models.Model):
    """"Ask a colleague" (CS-1): the lead manager asks a technical or commercial head about
    the client; the question lands in that role's queue and is answered on the card."""

    ROLE_CHOICES = [
        (roles.CHIEF_ENGINEER, _("Chief engineer")),
        (roles.NOC_HEAD, _("NOC head")),
        (roles.HEAD_OF_SALES, _("Head of sales")),
        (roles.COMMERCIAL_DIRECTOR, _("Commercial director")),
    ]

    card = models.ForeignKey(ClientCard, models.CASCADE, related_name="questions",
                             verbose_name=_("client"))
    role = models.CharField(_("ask"), max_length=24, choices=ROLE_CHOICES)
    question = models.TextField(_("question"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                 verbose_name=_("asked by"))
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("answered by"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("question to a colleague")
        verbose_name_plural = _("questions to colleagues")
        ordering = ["asked_at", "id"]
        indexes = [models.Index(fields=["role", "answered_at"])]

    def __str__(self) -> str:
        return self.question[:60]


__all__ = ["CardDocument", "ColleagueQuestion", "ConnectionType", "StageLog",
           "WorkflowSettings"]
