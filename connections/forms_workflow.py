"""Forms of the connection standard's actions on the client card. They check types only;
the workflow services check the rules and the views show their errors.

A transition's form turns its data into the payload ``workflow.fire`` takes (the same
payload the API accepts, API.md)."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from connections.models import SLOTS, CardDocument, ColleagueQuestion, EstimateLine, Installation
from connections.services.documents import UPLOAD_KINDS
from ispcrm.forms import BootstrapMixin


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _text(rows: int = 2, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


YES_NO = [("true", _("Yes, the client can be connected")),
          ("false", _("No technical possibility"))]


class WorkflowForm(BootstrapMixin, forms.Form):
    def payload(self) -> dict:
        """The cleaned data as JSON-like values, as the API would send them."""
        return {name: _plain(value) for name, value in self.cleaned_data.items()
                if value not in (None, "")}


def _plain(value):
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- Transitions ---------------------------------------------------------------------------

class RequestSurveyForm(WorkflowForm):
    """request_expertise and reopen: the survey request with the access arrangements."""

    urgent = forms.BooleanField(
        label=_("Urgent survey"), required=False,
        help_text=_("Waits for the technical director's approval, then any working day."))
    access_premises = forms.BooleanField(label=_("Access to the premises agreed"),
                                         required=False)
    access_technical_floor = forms.BooleanField(label=_("Access to the technical floor agreed"),
                                                required=False)
    access_roof = forms.BooleanField(label=_("Access to the roof agreed"), required=False)
    access_notes = forms.CharField(label=_("Access notes"), required=False, max_length=2000,
                                   widget=_text(placeholder=_("Whom to call, keys, entrance "
                                                              "code")))


class ExpertiseResultForm(WorkflowForm):
    possible = forms.TypedChoiceField(label=_("Result"), choices=YES_NO,
                                      coerce=lambda value: value == "true",
                                      widget=forms.RadioSelect)
    nonstandard = forms.BooleanField(label=_("Non-standard installation"), required=False)
    notes = forms.CharField(label=_("Result notes"), required=False, max_length=5000,
                            widget=_text(3))


class EstimateLineForm(BootstrapMixin, forms.Form):
    """One estimate row; numbers are parsed by the survey service, which names the line."""

    item = forms.CharField(label=_("Item"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=EstimateLine.Kind.choices,
                             initial=EstimateLine.Kind.EQUIPMENT, required=False)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20, initial="шт.")
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=20,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    unit_price = forms.CharField(label=_("Unit price, ₽"), required=False, max_length=20,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def line(self) -> dict | None:
        data = self.cleaned_data
        if not any(data.get(key) for key in ("item", "quantity", "unit_price")):
            return None  # a blank row
        def number(key):  # "1 500" as typed → "1500"; the service parses it
            return "".join(str(data.get(key) or "").split())

        return {"item": data.get("item", ""),
                "kind": data.get("kind") or EstimateLine.Kind.EQUIPMENT,
                "unit": data.get("unit") or "шт.", "quantity": number("quantity"),
                "unit_price": number("unit_price")}


EstimateFormSet = forms.formset_factory(EstimateLineForm, extra=8, max_num=60,
                                        absolute_max=60)


class SignContractForm(WorkflowForm):
    """Signing takes the drafted contract as it is; other terms are set by drafting again."""


class ScheduleForm(WorkflowForm):
    date = forms.DateField(label=_("Day"), widget=DateInput)
    time = forms.TypedChoiceField(
        label=_("Time"), required=False, coerce=lambda v: dt.time.fromisoformat(v),
        empty_value=None,
        choices=[("", _("first free"))] + [(s.strftime("%H:%M"), s.strftime("%H:%M"))
                                            for s in SLOTS])
    crew = forms.ModelChoiceField(label=_("Crew"), queryset=None, required=False,
                                  empty_label=_("the least loaded free crew"))
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int,
                                      choices=Installation.Priority.choices,
                                      initial=Installation.Priority.NORMAL)
    special_equipment = forms.CharField(
        label=_("Special equipment to order"), required=False, max_length=2000,
        widget=_text(), help_text=_("Goes to the chief engineer's list."))
    temporary_modem = forms.BooleanField(label=_("Temporary modem connection"),
                                         required=False)

    def __init__(self, *args, crews=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["crew"].queryset = crews

    def payload(self) -> dict:
        payload = super().payload()
        payload.setdefault("special_equipment", "")
        payload["temporary_modem"] = self.cleaned_data["temporary_modem"]
        return payload


class CompleteForm(WorkflowForm):
    ip_address = forms.CharField(label=_("Client's IP address"), max_length=45,
                                 widget=forms.TextInput(attrs={"placeholder": "10.20.30.40",
                                                               "autocomplete": "off"}))


class ActivateForm(WorkflowForm):
    pass


class TerminateForm(WorkflowForm):
    reason = forms.CharField(label=_("Why the client leaves"), max_length=255)
    controllable = forms.BooleanField(
        label=_("Controllable churn"), required=False,
        help_text=_("We could have kept him (price, quality, service); not: moved out of "
                    "coverage, business closed."))


class CancelForm(WorkflowForm):
    reason = forms.CharField(label=_("Why the client gives up"), max_length=255)


TRANSITION_FORMS = {
    "request_expertise": RequestSurveyForm,
    "reopen": RequestSurveyForm,
    "record_expertise": ExpertiseResultForm,
    "sign_contract": SignContractForm,
    "schedule_installation": ScheduleForm,
    "complete_installation": CompleteForm,
    "activate": ActivateForm,
    "terminate": TerminateForm,
    "cancel": CancelForm,
}


# --- The actions around the transitions ----------------------------------------------------

class SurveyDecisionForm(WorkflowForm):
    approve = forms.TypedChoiceField(
        label=_("Decision"), widget=forms.RadioSelect, coerce=lambda v: v == "true",
        choices=[("true", _("Approve the urgent survey")),
                 ("false", _("Decline: the next regular survey day"))], initial="true")
    date = forms.DateField(label=_("Survey day"), required=False, widget=DateInput,
                           help_text=_("Empty: the next working day."))


class ContractDraftForm(WorkflowForm):
    nonstandard = forms.BooleanField(
        label=_("Non-standard terms"), required=False,
        help_text=_("Needs approval by the head of sales and the commercial director."))
    connection_fee = forms.DecimalField(
        label=_("Connection fee, ₽"), required=False, min_value=0, max_digits=12,
        decimal_places=2, localize=True,
        help_text=_("Empty: the tariff's fee. Another fee makes the terms non-standard."))


class ContractDisputeForm(WorkflowForm):
    clause = forms.CharField(label=_("Disputed clause"), max_length=2000, widget=_text(3))


class ContractResolveForm(WorkflowForm):
    resolution = forms.CharField(label=_("Lawyer's resolution"), max_length=2000,
                                 widget=_text(3))


class OverrideForm(WorkflowForm):
    reason = forms.CharField(label=_("Why install before payment"), max_length=2000,
                             widget=_text())


class ConfirmForm(WorkflowForm):
    pass


class ApproveForm(WorkflowForm):
    pass


class AskForm(WorkflowForm):
    role = forms.ChoiceField(label=_("Ask"), choices=ColleagueQuestion.ROLE_CHOICES)
    question = forms.CharField(label=_("Question"), max_length=5000, widget=_text(3))


class AnswerForm(WorkflowForm):
    answer = forms.CharField(label=_("Answer"), max_length=5000, widget=_text(3))


class DocumentForm(WorkflowForm):
    kind = forms.ChoiceField(label=_("Document"), choices=[
        (kind, CardDocument.Kind(kind).label) for kind in UPLOAD_KINDS])
    title = forms.CharField(label=_("Title"), required=False, max_length=200,
                            help_text=_("Empty: the kind of document."))
    number = forms.CharField(label=_("Number"), required=False, max_length=40)
    file = forms.FileField(
        label=_("Scan"), required=False,  # the service says what is wrong with it
        help_text=_("PDF, JPG or PNG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={
            "accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}))
