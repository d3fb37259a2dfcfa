"""The one-screen "new client" form (M1, C1, C2): who, where, how, which tariff, and the
technician's visit booked in the same step."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from connections import hooks
from connections.models import Building, ClientCard, ConnectionType, Stage
from connections.services import surveys, workflow
from connections.services.clients import client_create
from ispcrm.forms import BootstrapMixin
from ispcrm.models import Branch
from ispcrm.validators import normalize_phone, validate_inn


def on_network(building: Building | None) -> bool:
    """The building already has connected clients: a survey day can be booked at once."""
    return building is not None and building.clients.filter(stage=Stage.ACTIVE).exists()


def branch_for(user, building: Building | None) -> Branch | None:
    """The branch the card will belong to, as ``client_create`` chooses it."""
    if getattr(user, "branch_id", None):
        return user.branch
    if building is None:
        return None
    return Branch.objects.filter(city_id=building.street.city_id).order_by("pk").first()


def _label(name: str):
    """The card field's own (translated) name, as the full card form shows it."""
    return capfirst(ClientCard._meta.get_field(name).verbose_name)  # stays lazy


def may_book(user) -> bool:
    return user.has_role(*workflow.allowed_roles("request_expertise"))


class NewClientForm(BootstrapMixin, forms.Form):
    """Type checks only: the card service normalises the phone and checks the INN, billing
    checks the tariff; their errors land on these fields (``apply_service_errors``)."""

    kind = forms.ChoiceField(label=_("Client"), choices=ClientCard.Kind.choices,
                             initial=ClientCard.Kind.PERSON, widget=forms.RadioSelect)
    name = forms.CharField(label=_label("name"), max_length=255)
    phone = forms.CharField(label=_("Phone"), max_length=32)
    inn = forms.CharField(label=_("INN"), max_length=12, required=False)
    building = forms.ModelChoiceField(
        queryset=Building.objects.select_related("street__city"), widget=forms.HiddenInput,
        error_messages={"required": _("Choose the building: start typing the street."),
                        "invalid_choice": _("Choose the building: start typing the street.")})
    premises = forms.CharField(label=_label("premises"), max_length=50, required=False)
    connection_type = forms.ChoiceField(label=_label("connection_type"),
                                        choices=ConnectionType.choices,
                                        initial=ConnectionType.LAN)
    tariff = forms.TypedChoiceField(
        label=_("Tariff"), coerce=int,
        error_messages={"required": _("Choose the tariff agreed with the client."),
                        "invalid_choice": _("This tariff is not sold for the chosen "
                                            "connection type.")})
    book = forms.BooleanField(label=_("Book the survey"), required=False)
    urgent = forms.BooleanField(label=_("Urgent (the technical director approves)"),
                                required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="off")
        self.fields["phone"].widget.attrs.update(inputmode="tel", autocomplete="off",
                                                 placeholder="+7 912 345-67-89")
        self.fields["inn"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        self.fields["premises"].widget.attrs.update(autocomplete="off",
                                                    placeholder=_("e.g. 17 or оф. 305"))
        choices = hooks.tariff_choices(self.picked_building(), self.value_of("connection_type"))
        self.fields["tariff"].choices = [("", _("Choose a tariff…")), *choices]
        if len(choices) == 1:
            self.initial.setdefault("tariff", choices[0][0])

    def value_of(self, name: str):
        """The field's submitted value, or its initial one."""
        value = self[name].value()
        return value if value not in (None, "") else self.fields[name].initial

    def picked_building(self) -> Building | None:
        pk = self["building"].value()
        if not str(pk or "").isdigit():
            return None
        if getattr(self, "_building", None) is None or self._building.pk != int(pk):
            self._building = (Building.objects.select_related("street__city")
                              .filter(pk=pk).first())
        return self._building

    def building_label(self) -> str:
        building = self.picked_building()
        return building.address if building else ""

    def clean_phone(self) -> str:
        # Checked here too, so every mistake shows at once; the service normalises again.
        return normalize_phone(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean()
        if data.get("kind") == ClientCard.Kind.PERSON:
            data["inn"] = ""  # a field hidden for a person cannot hold a stale value
        elif data.get("kind") == ClientCard.Kind.COMPANY:
            inn = data.get("inn", "").strip()
            if not inn:
                self.add_error("inn", _("A company needs its INN."))
            else:
                try:
                    validate_inn(inn)
                except ValidationError as exc:
                    self.add_error("inn", exc)
        if data.get("urgent"):
            data["book"] = True  # an urgent survey is a booking that waits for approval
        if data.get("book") and not may_book(self.user):
            self.add_error("book", _("Only a manager books the survey: open the card and "
                                     "pass it to the lead manager."))
        elif data.get("book") and not on_network(data.get("building")):
            self.add_error("book", _("The building is not on the network yet: request the "
                                     "survey from the card once access is arranged."))
        return data

    @transaction.atomic
    def save(self):
        """Open the card, agree the tariff and book the survey as one unit: if the survey
        cannot be booked, no card is left behind (the caller shows why)."""
        data = self.cleaned_data
        card = client_create(
            actor=self.user, kind=data["kind"], name=data["name"], phone=data["phone"],
            inn=data["inn"], building=data["building"], premises=data["premises"],
            connection_type=data["connection_type"])
        if hooks.agree_tariff:  # billing records the commercial terms
            hooks.agree_tariff(card, data["tariff"], self.user)
        if data["book"]:
            card = workflow.fire(card=card, name="request_expertise", actor=self.user,
                                 payload={"urgent": data["urgent"]})
        return card, surveys.current(card) if data["book"] else None
