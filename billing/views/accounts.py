"""The account page (the full ledger, tariffs over time, pauses, documents, notices) and the
actions on an account: tariff change, pause, promised payment, deferral, «never block».

Each action is a small form page, also shown as a modal on the client card; both post here
and come back with a message. Thin: parse, call the service, say what happened or why not."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.forms import (
    DeferralForm,
    LedgerFilterForm,
    NeverBlockForm,
    PauseForm,
    ServiceAddForm,
    TariffChangeForm,
)
from billing.models import Account, Document
from billing.selectors import set_balance_after
from billing.services.accounts import (
    service_add,
    service_remove,
    tariff_change,
    tariff_change_cancel,
)
from billing.services.dunning import deferral_grant, never_block_set, promised_payment_grant
from billing.services.pauses import pause_resume, pause_start
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors

from .common import account_or_404, back_to, safe_next, summary

PAGE_SIZE = 50

PROMISED_INTRO = gettext_lazy(
    "A few days of service on credit, once a calendar month, only with a debt. A blocked "
    "account is unblocked at once; unless paid, it is blocked the day after the promise ends. "
    "The client is told by email or SMS.")


def _data(request):
    """The posted data, or None for a GET (an empty POST is still a POST)."""
    return request.POST if request.method == "POST" else None


def _day(value) -> str:
    return value.strftime("%d.%m.%Y")


@login_required
@permission_required("billing.view_account", raise_exception=True)
def account_detail(request, number: str):
    account = account_or_404(number)
    filters = LedgerFilterForm(request.GET or None)
    entries = account.entries.select_related("created_by", "payment")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["kind"]:
            entries = entries.filter(kind=data["kind"])
        if data["period"]:
            entries = entries.filter(period=data["period"])
        if data["date_from"]:
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(created_at__date__lte=data["date_to"])
    page = Paginator(entries.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    set_balance_after(account, page.object_list)
    user = request.user
    return render(request, "billing/account_detail.html", {
        "section": {**summary(account), **action_forms(request, account),
                    "promised_intro": PROMISED_INTRO},
        "card": account.client,
        "filters": filters,
        "filtered": filters.is_bound and any(request.GET.get(k) for k in filters.fields),
        "page": page,
        "payments": (account.payments.select_related("taken_by").order_by("-paid_at")[:30]
                     if user.has_perm("billing.view_payment") else None),
        "subscriptions": account.subscriptions.select_related("tariff", "promotion",
                                                              "created_by")
        .order_by("-start"),
        "pauses": account.pauses.select_related("created_by").order_by("-start"),
        "account_services": account.services.select_related("service").order_by("-start"),
        "service_form": (ServiceAddForm(auto_id="svc-%s")
                         if user.has_perm("billing.add_accountservice")
                         and account.status != Account.Status.CLOSED else None),
        "promised_payments": account.promised_payments.select_related("granted_by")
        .order_by("-granted_on")[:12],
        "documents": (Document.objects.filter(account=account).order_by("-period", "kind")
                      if user.has_perm("billing.view_document") else None),
        "notices": (account.notices.select_related("sent_by").order_by("-sent_at")[:50]
                    if user.has_perm("billing.view_notice") else None),
        "claims": (account.claims.order_by("-created_on")
                   if user.has_perm("billing.view_claim") else None),
    })


def action_forms(request, account: Account) -> dict:
    """The forms of the actions this user may take, for the modals."""
    user = request.user
    forms_ = {}
    if user.has_perm("billing.add_subscription") and account.status != Account.Status.CLOSED:
        forms_["tariff_form"] = TariffChangeForm(account=account, auto_id="tc-%s")
    if user.has_perm("billing.add_pause") and account.status == Account.Status.ACTIVE:
        forms_["pause_form"] = PauseForm(auto_id="pause-%s")
    if user.has_perm("billing.change_account"):
        forms_["deferral_form"] = DeferralForm(auto_id="def-%s")
        forms_["never_block_form"] = NeverBlockForm(
            auto_id="nb-%s", initial={"value": not account.never_block,
                                      "reason": account.never_block_reason})
    return forms_


def _action(request, account: Account, form, *, call, done, refused, title, submit,
            intro="", danger=False):
    """Run an action's POST, or show its form page. ``call(cleaned_data)`` runs the service;
    ``done(result)`` is the success message; ``refused`` names the action for a refusal."""
    if request.method == "POST" and form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except RuleViolation as exc:
            messages.error(request, refused % {"reason": exc})
            return back_to(request, account)
        else:
            messages.success(request, done(result))
            return back_to(request, account)
    return render(request, "billing/account_action.html", {
        "account": account, "card": account.client, "form": form, "title": title,
        "submit": submit, "intro": intro, "danger": danger, "next": safe_next(request),
    })


@login_required
@permission_required("billing.add_subscription", raise_exception=True)
def account_tariff_change(request, number: str):
    account = account_or_404(number)
    form = TariffChangeForm(_data(request), account=account)
    return _action(
        request, account, form,
        call=lambda data: tariff_change(account=account, tariff=data["tariff"],
                                        from_next_period=form.from_next_period,
                                        actor=request.user),
        done=lambda new: _("Tariff «%(tariff)s» from %(day)s.")
        % {"tariff": new.tariff.name, "day": _day(new.start)},
        refused=_("The tariff was not changed: %(reason)s"),
        title=_("Change the tariff"), submit=_("Change the tariff"),
        intro=_("Tariffs on sale for this client's connection and kind."))


@login_required
@permission_required("billing.add_subscription", raise_exception=True)
def account_tariff_change_cancel(request, number: str):
    account = account_or_404(number)
    return _action(
        request, account, forms.Form(_data(request)),
        call=lambda data: tariff_change_cancel(account=account, actor=request.user),
        done=lambda _result: _("The scheduled tariff change is cancelled; the current "
                               "tariff goes on."),
        refused=_("The change was not cancelled: %(reason)s"),
        title=_("Cancel the scheduled tariff change"), submit=_("Cancel the change"),
        danger=True)


@login_required
@permission_required("billing.add_pause", raise_exception=True)
def account_pause(request, number: str):
    account = account_or_404(number)
    form = PauseForm(_data(request))
    return _action(
        request, account, form,
        call=lambda data: pause_start(account=account, start=data["start"], end=data["end"],
                                      actor=request.user),
        done=lambda pause: _("Pause from %(start)s; service resumes on %(end)s.")
        % {"start": _day(pause.start), "end": _day(pause.end)},
        refused=_("The pause was not started: %(reason)s"),
        title=_("Pause the service"), submit=_("Pause"),
        intro=_("The unused monthly fee comes back; the tariff's pause fee is charged "
                "instead."))


@login_required
@permission_required("billing.add_pause", raise_exception=True)
def account_resume(request, number: str):
    account = account_or_404(number)
    return _action(
        request, account, forms.Form(_data(request)),
        call=lambda data: pause_resume(account=account, actor=request.user),
        done=lambda _result: _("Service resumed from today; the monthly fee for the rest of "
                               "the month is charged."),
        refused=_("The service was not resumed: %(reason)s"),
        title=_("Resume the service"), submit=_("Resume"))


@login_required
@permission_required("billing.add_promisedpayment", raise_exception=True)
def account_promised_payment(request, number: str):
    account = account_or_404(number)
    return _action(
        request, account, forms.Form(_data(request)),
        call=lambda data: promised_payment_grant(account=account, actor=request.user),
        done=lambda result: _("Promised payment granted: service stays on through %(day)s.")
        % {"day": _day(result.promised_until)},
        refused=_("No promised payment: %(reason)s"),
        title=_("Promised payment"), submit=_("Grant a promised payment"),
        intro=PROMISED_INTRO)


@login_required
@permission_required("billing.change_account", raise_exception=True)
def account_deferral(request, number: str):
    account = account_or_404(number)
    form = DeferralForm(_data(request))
    return _action(
        request, account, form,
        call=lambda data: deferral_grant(account=account, until=data["until"],
                                         reason=data["reason"], actor=request.user),
        done=lambda result: _("Payment deferred through %(day)s: no notice and no block "
                              "until then.") % {"day": _day(result.deferred_until)},
        refused=_("No deferral: %(reason)s"),
        title=_("Defer the payment"), submit=_("Defer"))


@login_required
@permission_required("billing.change_account", raise_exception=True)
def account_never_block(request, number: str):
    account = account_or_404(number)
    form = NeverBlockForm(_data(request),
                          initial={"value": not account.never_block,
                                   "reason": account.never_block_reason})
    return _action(
        request, account, form,
        call=lambda data: never_block_set(account=account, value=data["value"],
                                          reason=data["reason"], actor=request.user),
        done=lambda result: (_("The client is marked «never block».") if result.never_block
                             else _("The «never block» mark is taken off.")),
        refused=_("Not changed: %(reason)s"),
        title=_("Never block"), submit=_("Save"))


@login_required
@permission_required("billing.add_accountservice", raise_exception=True)
def account_service_add(request, number: str):
    account = account_or_404(number)
    form = ServiceAddForm(_data(request))
    return _action(
        request, account, form,
        call=lambda data: service_add(account=account, service=data["service"],
                                      actor=request.user),
        done=lambda item: _("%(service)s added from today.") % {"service": item.service.name},
        refused=_("The service was not added: %(reason)s"),
        title=_("Add a service"), submit=_("Add from today"))


@login_required
@permission_required("billing.add_accountservice", raise_exception=True)
def account_service_remove(request, number: str, pk: int):
    account = account_or_404(number)
    item = get_object_or_404(account.services.select_related("service"), pk=pk)
    return _action(
        request, account, forms.Form(_data(request)),
        call=lambda data: service_remove(account=account, item=item, actor=request.user),
        done=lambda _result: _("%(service)s stopped from today; the rest of the month is "
                               "returned.") % {"service": item.service.name},
        refused=_("The service was not stopped: %(reason)s"),
        title=_("Stop %(service)s") % {"service": item.service.name}, submit=_("Stop"),
        danger=True)
