"""The filter of the client's history (C6): what kind of entries, over which dates."""

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import LedgerEntry
from ispcrm.forms import BootstrapMixin

Kind = LedgerEntry.Kind

# The filter's groups in the client's words, and the ledger kinds each one shows.
KIND_GROUPS = {
    "payments": (_("Payments"), (Kind.PAYMENT,)),
    "charges": (_("Charges"), (Kind.CHARGE,)),
    "bonuses": (_("Bonuses"), (Kind.BONUS,)),
    "corrections": (_("Corrections and refunds"), (Kind.CORRECTION, Kind.REFUND)),
}

DATE_ERROR = _("Enter a date like 31.12.2026.")


class DateInput(forms.DateInput):
    """The browser's date picker; it sends and shows ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class HistoryFilterForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("What to show"), required=False,
        choices=[("", _("Everything")), *((key, label) for key, (label, _kinds)
                                          in KIND_GROUPS.items())])
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput(),
                                error_messages={"invalid": DATE_ERROR})
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput(),
                              error_messages={"invalid": DATE_ERROR})

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data

    def filters(self) -> dict:
        """The valid part of the filter (a bad date is reported and left out, the rest still
        applies): ``kinds`` (ledger kinds or None for all), ``date_from``, ``date_to``."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        kind = data.get("kind") or ""
        return {"kind": kind, "kinds": KIND_GROUPS[kind][1] if kind else None,
                "date_from": data.get("date_from"), "date_to": data.get("date_to")}
