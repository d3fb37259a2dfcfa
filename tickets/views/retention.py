"""Retention calls for the sales side (R2, R5): a manager's call list for the day with why
each client is on it, and the call page with the situation's script, the checklist ticked
during the call and the outcome. Managers see their own calls; the heads see all."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ispcrm.errors import RuleViolation
from ispcrm.forms import BootstrapMixin, apply_service_errors
from tickets.models import CallScript, RetentionCall, Situation
from tickets.services import retention as service

from .common import describe, page_of


def retention_only(view):
    """Signed in as a manager or a head of sales, else 403."""
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not service.may_work(request.user):
            raise PermissionDenied(_("Retention calls are for the sales managers."))
        return view(request, *args, **kwargs)
    return wrapped


class CallForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"),
                                choices=[c for c in RetentionCall.Outcome.choices if c[0]])
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))


def calls_for(user):
    calls = RetentionCall.objects.select_related("client__account", "manager", "script")
    return calls if service.sees_all(user) else calls.filter(manager=user)


def reason_labels(call) -> list[str]:
    labels = dict(RetentionCall.Reason.choices)
    return [str(labels.get(code, code)) for code in call.reasons]


@retention_only
def call_list(request):
    day = parse_date(request.GET.get("day", "") or "") or timezone.localdate()
    calls = calls_for(request.user).filter(due=day).order_by("status", "manager__last_name",
                                                             "pk")
    page = page_of(request, calls)
    return render(request, "tickets/retention/list.html", {
        "day": day, "page": page, "sees_all": service.sees_all(request.user),
        "rows": [(call, reason_labels(call), getattr(call.client, "account", None))
                 for call in page.object_list],
        "open_count": calls.filter(status=RetentionCall.Status.OPEN).count()})


def chosen_script(request, call):
    """The script of the situation asked for (the manager may switch as the talk turns),
    else the call's own."""
    situation = request.GET.get("situation") or request.POST.get("situation")
    if situation in Situation.values:
        return CallScript.objects.filter(active=True, situation=situation).order_by(
            "order", "pk").first()
    return call.script


def own_call(request, pk: int):
    call = get_object_or_404(RetentionCall.objects.select_related(
        "client__account", "client__branch", "manager", "called_by", "script"), pk=pk)
    if not (service.sees_all(request.user) or call.manager_id == request.user.pk):
        raise PermissionDenied(_("This call is assigned to another manager."))
    return call


@retention_only
def call_page(request, pk: int):
    call = own_call(request, pk)
    script = chosen_script(request, call)
    form = CallForm(request.POST or None, initial={"notes": call.notes})
    if request.method == "POST" and form.is_valid():
        answers = {key[len("item-"):]: True for key in request.POST if key.startswith("item-")}
        try:
            service.record_call(call, request.user, form.cleaned_data["outcome"],
                                form.cleaned_data["notes"], answers, script=script)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except (RuleViolation, PermissionDenied) as exc:
            messages.error(request, describe(exc))
        else:
            messages.success(request, _("The call is recorded."))
            return redirect("tickets:retention")
    checklist = script.checklist.all() if script else []
    return render(request, "tickets/retention/call.html", {
        "call": call, "script": script, "form": form, "reasons": reason_labels(call),
        "account": getattr(call.client, "account", None),
        "situations": Situation.choices, "situation": script.situation if script else "",
        "checklist": [(item, call.answers.get(str(item.pk), False)) for item in checklist],
        "done": call.status == RetentionCall.Status.DONE})


urlpatterns = [
    path("retention/", call_list, name="retention"),
    path("retention/<int:pk>/", call_page, name="retention_call"),
]
