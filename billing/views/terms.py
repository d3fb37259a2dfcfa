"""The commercial terms on the client card (CS-1): what the lead manager agreed — tariff,
additional services, their volume, the payment order — beside the survey's estimate, which
may change them. Managers edit them until the contract is signed.

Registered in ``BillingConfig.ready()`` through ``connections.cards``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from billing.models import Service, Tariff, Terms
from billing.services.terms import tariff_choices, terms_set
from connections.models import ClientCard, Stage, Survey
from ispcrm import roles
from ispcrm.forms import BootstrapMixin

# terms_set refuses other stages: from the contract on, the terms live in the account.
EDITABLE = (Stage.COMMERCIAL, Stage.EXPERTISE, Stage.CONTRACT, Stage.NETWORK_DEVELOPMENT)


class TermsForm(BootstrapMixin, forms.Form):
    tariff = forms.TypedChoiceField(label=gettext_lazy("Tariff"), coerce=int, required=False,
                                    empty_value=None)
    services = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Additional services"), required=False,
        queryset=Service.objects.filter(active=True), widget=forms.CheckboxSelectMultiple)
    volume = forms.CharField(label=gettext_lazy("Volume of services"), required=False,
                             max_length=255,
                             help_text=gettext_lazy("E.g. 12 workplaces, 2 static IP "
                                                    "addresses."))
    payment_order = forms.ChoiceField(label=gettext_lazy("Payment order"),
                                      choices=Terms.PaymentOrder.choices)
    notes = forms.CharField(label=gettext_lazy("Other terms"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, card: ClientCard, current: Tariff | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = tariff_choices(card.building, card.connection_type)
        if current is not None and current.pk not in dict(choices):
            choices.insert(0, (current.pk, current.name))  # keep what was agreed visible
        self.fields["tariff"].choices = [("", _("— not chosen —")), *choices]


def _can_edit(user, card: ClientCard) -> bool:
    return card.stage in EDITABLE and user.has_role(*roles.SALES)


def _terms(card: ClientCard) -> Terms | None:
    return (Terms.objects.filter(client=card).select_related("tariff", "updated_by")
            .prefetch_related("services").first())


def _estimate(card: ClientCard) -> Survey | None:
    """The latest survey result with an estimate: its total may change the terms (CS-2)."""
    return (Survey.objects.filter(card=card, status=Survey.Status.DONE, estimate__isnull=False)
            .prefetch_related("estimate").order_by("-recorded_at", "-id").distinct().first())


def terms_section(request, card: ClientCard) -> dict | None:
    terms = _terms(card)
    editable = _can_edit(request.user, card)
    if terms is None and not editable:
        return None
    form = None
    if editable:
        initial = {"tariff": terms.tariff_id, "services": list(terms.services.all()),
                   "volume": terms.volume, "payment_order": terms.payment_order,
                   "notes": terms.notes} if terms else {}
        form = TermsForm(card=card, current=terms.tariff if terms else None, initial=initial,
                         auto_id="terms-%s")
    return {"template": "billing/terms_section.html", "terms": terms,
            "estimate": _estimate(card), "form": form}


@login_required
@permission_required("connections.view_clientcard", raise_exception=True)
@require_POST
def terms_edit(request, pk: int):
    card = get_object_or_404(ClientCard.objects.select_related("building", "branch"), pk=pk)
    terms = Terms.objects.filter(client=card).select_related("tariff").first()
    form = TermsForm(request.POST, card=card, current=terms.tariff if terms else None)
    try:
        if not request.user.has_role(*roles.SALES):
            raise PermissionDenied(_("Only the lead manager, the head of sales or the "
                                     "commercial director agree the terms."))
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        data = form.cleaned_data
        tariff = Tariff.objects.get(pk=data["tariff"]) if data["tariff"] else None
        terms_set(card=card, actor=request.user, tariff=tariff, services=list(data["services"]),
                  volume=data["volume"], payment_order=data["payment_order"],
                  notes=data["notes"])
    except (PermissionDenied, ValidationError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, _("Terms not saved: %(errors)s") % {"errors": text})
    else:
        messages.success(request, _("Commercial terms saved."))
    return redirect(reverse("connections:client_detail", args=[card.pk]) + "#terms")
