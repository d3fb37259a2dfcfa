"""Forms of the cabinet's tariff and pause pages. They check the input; the billing services
check the business rules again when the client confirms."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.forms import DateInput
from billing.services.pauses import MAX_PAUSE_DAYS
from ispcrm.forms import BootstrapMixin

TOMORROW, NEXT_MONTH = "tomorrow", "next_month"


class TariffChangeForm(BootstrapMixin, forms.Form):
    """The change to a tariff offered to him (the view looks the id up among those)."""

    tariff = forms.IntegerField(widget=forms.HiddenInput)
    when = forms.ChoiceField(
        label=_("When"), widget=forms.RadioSelect, initial=TOMORROW,
        choices=[(TOMORROW, _("From tomorrow (the rest of the month recalculated by days)")),
                 (NEXT_MONTH, _("From the 1st of next month"))])

    @property
    def from_next_period(self) -> bool:
        return self.cleaned_data["when"] == NEXT_MONTH


class PauseForm(BootstrapMixin, forms.Form):
    """The pause's dates as billing takes them: the first day off and the day service
    resumes (the pause is the days in between, the resume day not included)."""

    start = forms.DateField(label=_("Pause from"), widget=DateInput)
    end = forms.DateField(label=_("Service resumes on"), widget=DateInput,
                          help_text=_("From 1 to 90 days."))

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["start"].initial = self.today
        self.fields["end"].initial = self.today + timedelta(days=14)
        self.fields["start"].widget.attrs["min"] = self.today.isoformat()
        self.fields["end"].widget.attrs["min"] = (self.today + timedelta(days=1)).isoformat()

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and start < self.today:
            self.add_error("start", _("A pause cannot start in the past."))
        if start and end and not 1 <= (end - start).days <= MAX_PAUSE_DAYS:
            self.add_error("end", _("A pause lasts from 1 to %(max)s days.")
                           % {"max": MAX_PAUSE_DAYS})
        return data
