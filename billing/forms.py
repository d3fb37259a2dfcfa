"""Forms of the billing pages. They check types only; the services validate the business
rules, and the views attach a service's ``ValidationError`` to these fields."""

import re
import uuid
from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import LedgerEntry, Payment, Promotion, Service, Tariff
from connections.models import ConnectionType
from ispcrm.forms import BootstrapMixin

CASH_ID = re.compile(r"^cash-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_cash_id() -> str:
    """The external id of a cash payment, made when the form is shown: posting the same
    form twice (a double click, a reload) is then one payment."""
    return f"cash-{uuid.uuid4()}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


# --- The cashier (M3) -----------------------------------------------------------------------

class PaymentForm(BootstrapMixin, forms.Form):
    account = forms.CharField(widget=forms.HiddenInput, max_length=20)
    cash_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    # Parsed by the service ("1 500,50" is fine), so the error names the amount typed.
    amount = forms.CharField(label=_("Amount, ₽"), max_length=32)
    channel = forms.ChoiceField(label=_("How paid"), choices=Payment.Channel.choices,
                                initial=Payment.Channel.CASH)
    receipt = forms.CharField(
        label=_("Receipt number"), required=False, max_length=100,
        help_text=_("The number on the terminal receipt or bank document (not for cash)."))
    comment = forms.CharField(label=_("Comment"), required=False, max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update(
            inputmode="decimal", autocomplete="off", autofocus=True, placeholder="1 500",
            **{"class": "form-control form-control-lg"})
        self.fields["receipt"].widget.attrs.update(autocomplete="off")
        self.fields["comment"].widget.attrs.update(autocomplete="off")
        # Only the channels a cashier takes by hand; bank statements and the cabinet
        # arrive by themselves.
        self.fields["channel"].choices = [
            (code, label) for code, label in Payment.Channel.choices
            if code not in (Payment.Channel.CABINET,)]

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if channel == Payment.Channel.CASH:
            if not CASH_ID.match(data.get("cash_id") or ""):
                raise ValidationError(_("The form is out of date: open the cashier again."))
            data["external_id"] = data["cash_id"]
        elif channel:
            receipt = (data.get("receipt") or "").strip()
            if not receipt:
                self.add_error("receipt", _("Type the receipt or document number: it keeps "
                                            "the payment from being credited twice."))
            data["external_id"] = receipt
        return data


class PaymentCancelForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Why is the payment cancelled?"), max_length=255,
                             widget=forms.TextInput(attrs={"autofocus": True,
                                                           "autocomplete": "off"}))


class PaymentFilterForm(BootstrapMixin, forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("Any channel")), *Payment.Channel.choices])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Payment.Status.choices])
    q = forms.CharField(label=_("Account or payer"), required=False, max_length=100)


# --- The account's actions ------------------------------------------------------------------

class TariffChangeForm(BootstrapMixin, forms.Form):
    WHEN_CHOICES = [
        ("tomorrow", _("From tomorrow (the rest of the month recalculated by days)")),
        ("next_month", _("From the 1st of next month")),
    ]
    tariff = forms.ModelChoiceField(label=_("New tariff"), queryset=Tariff.objects.none(),
                                    empty_label=None)
    when = forms.ChoiceField(label=_("When"), choices=WHEN_CHOICES, initial="tomorrow",
                             widget=forms.RadioSelect)

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        tariffs = Tariff.objects.open_on(today)
        if account is not None:
            client = account.client
            tariffs = tariffs.filter(segment__in=[Tariff.Segment.ANY, client.kind])
            # connection_types is a JSON list (empty: every type): filtered in Python,
            # a catalogue has a few dozen tariffs at most.
            tariffs = [t for t in tariffs if t.sold_for(client.connection_type)]
            ids = [t.pk for t in tariffs]
            self.fields["tariff"].queryset = Tariff.objects.filter(pk__in=ids)
        else:
            self.fields["tariff"].queryset = tariffs
        self.fields["tariff"].label_from_instance = _tariff_label

    @property
    def from_next_period(self) -> bool:
        return self.cleaned_data.get("when") == "next_month"


def _tariff_label(tariff: Tariff) -> str:
    from ispcrm.templatetags.ispcrm import money

    return _("%(name)s — %(fee)s a month, %(speed)s Mbit/s") % {
        "name": tariff.name, "fee": money(tariff.monthly_fee), "speed": tariff.speed_mbps}


class PauseForm(BootstrapMixin, forms.Form):
    start = forms.DateField(label=_("Pause from"), widget=DateInput)
    end = forms.DateField(label=_("Service resumes on"), widget=DateInput,
                          help_text=_("From 1 to 90 days."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start"].initial = today
        self.fields["end"].initial = today + timedelta(days=14)
        self.fields["start"].widget.attrs["min"] = today.isoformat()


class DeferralForm(BootstrapMixin, forms.Form):
    until = forms.DateField(label=_("Deferred until (inclusive)"), widget=DateInput,
                            help_text=_("At most 30 days ahead."))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["until"].initial = today + timedelta(days=7)
        self.fields["until"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=30)).isoformat())


class NeverBlockForm(BootstrapMixin, forms.Form):
    value = forms.BooleanField(label=_("Never block this client"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False,
                             help_text=_("E.g. a school or a hospital. The debt is still "
                                         "chased with notices and claims."))


# --- Filters of the account page ------------------------------------------------------------

class LedgerFilterForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("Any kind")), *LedgerEntry.Kind.choices])
    period = forms.CharField(label=_("Charged for month"), required=False,
                             widget=forms.TextInput(attrs={"type": "month"}))
    date_from = forms.DateField(label=_("Posted from"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Posted to"), required=False, widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # a compact row above the table
            attrs = field.widget.attrs
            attrs["class"] = attrs["class"].replace("form-select", "form-select form-select-sm")
            attrs["class"] = attrs["class"].replace("form-control", "form-control form-control-sm")

    def clean_period(self):
        value = self.cleaned_data["period"]
        if not value:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not match or not 1 <= int(match[2]) <= 12:
            raise ValidationError(_("A month, e.g. 2026-11."))
        return date(int(match[1]), int(match[2]), 1)


# --- The catalogue (D5) ---------------------------------------------------------------------

class TariffForm(BootstrapMixin, forms.ModelForm):
    connection_types = forms.MultipleChoiceField(
        label=_("Connection types"), required=False, choices=ConnectionType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: sold for every connection type."))

    class Meta:
        model = Tariff
        fields = ["name", "description", "segment", "connection_types", "speed_mbps",
                  "monthly_fee", "connection_fee", "pause_fee", "included_hours", "hour_price",
                  "dunning_days", "outage_compensation_hours", "valid_from", "valid_to"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}),
                   "valid_from": DateInput, "valid_to": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="off")

    def clean_connection_types(self):
        return sorted(self.cleaned_data["connection_types"])


class TariffCloseForm(BootstrapMixin, forms.Form):
    valid_to = forms.DateField(label=_("Sold until"), widget=DateInput,
                               help_text=_("From this day the tariff is not sold; clients "
                                           "on it keep it."))

    def __init__(self, *args, tariff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tariff = tariff
        self.fields["valid_to"].initial = timezone.localdate()

    def clean_valid_to(self):
        day = self.cleaned_data["valid_to"]
        if self.tariff is not None and day <= self.tariff.valid_from:
            raise ValidationError(
                _("A tariff closes after it opens: it is sold from %(day)s.")
                % {"day": self.tariff.valid_from.strftime("%d.%m.%Y")})
        return day


class ServiceForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Service
        fields = ["name", "code", "monthly_fee", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="off")


class PromotionForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Promotion
        fields = ["name", "tariff", "discount_percent", "months", "new_clients_only",
                  "districts", "valid_from", "valid_to"]
        widgets = {"valid_from": DateInput, "valid_to": DateInput,
                   "districts": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="off")
        self.fields["tariff"].empty_label = _("Every tariff")
        self.fields["districts"].queryset = (self.fields["districts"].queryset
                                             .select_related("city").order_by("city__name",
                                                                              "name"))

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_to")
        if start and end and end <= start:
            self.add_error("valid_to", _("A promotion ends after it starts."))
        return data


class ServiceAddForm(BootstrapMixin, forms.Form):
    service = forms.ModelChoiceField(label=_("Service"),
                                     queryset=Service.objects.filter(active=True))
