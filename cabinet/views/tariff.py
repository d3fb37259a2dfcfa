"""Tariff, pause and resume from the cabinet (C5, C6; issue 6, items 4 and 5).

- ``tariff``: the current tariff, the scheduled change (cancellable), the tariffs offered at
  his address and connection type, the pause, and his tariff history.
- ``tariff_change``: GET shows what the change costs — from tomorrow (the rest of the month
  recalculated by days) or from the 1st — POST applies the chosen one. A tariff not offered to
  him is a 404 whatever the form says.
- ``pause``: GET with dates shows the sums of the pause (the monthly fee returned, the pause
  fee charged) before the POST starts it; ``resume`` ends a running pause today.

The services (billing.services.accounts, billing.services.pauses) check every rule again;
what they refuse is shown as a message. Post/Redirect/Get; in a staff "see as client" view
``cabinet_view`` refuses the POSTs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import Account
from billing.services.accounts import tariff_change as change_tariff
from billing.services.accounts import tariff_change_cancel
from billing.services.pauses import pause_resume, pause_start
from billing.services.pricing import monthly_price, subscription_on
from cabinet import selectors
from cabinet.access import cabinet_view
from cabinet.forms.tariff import NEXT_MONTH, TOMORROW, PauseForm, TariffChangeForm
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors
from tickets.views.common import report


def _day(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _account(request) -> Account:
    """His account; the tariff pages have nothing to show before the contract."""
    account = request.cabinet.account
    if account is None:
        raise Http404(_("There is no account yet: the contract is not signed."))
    return account


def _offered(request, tariff_id, today):
    """A tariff offered to him, by id; any other id (another client's view of the catalogue,
    a closed tariff, a made-up number) is a 404."""
    for tariff in selectors.tariffs_offered(request.cabinet.card, today=today):
        if str(tariff.pk) == str(tariff_id):
            return tariff
    raise Http404(_("This tariff is not offered at your address."))


@require_GET
@cabinet_view
def tariff(request):
    account = request.cabinet.account
    today = timezone.localdate()
    if account is None:  # before the contract: the tariff is agreed with the manager
        return render(request, "cabinet/tariff/index.html", {"account": None})
    current = subscription_on(account, today)
    offered = [t for t in selectors.tariffs_offered(request.cabinet.card, today=today)
               if current is None or t.pk != current.tariff_id]
    scheduled = selectors.scheduled_change(account, today=today)
    return render(request, "cabinet/tariff/index.html", {
        "account": account, "today": today, "current": current,
        "current_fee": monthly_price(current, today.replace(day=1)) if current else None,
        "scheduled": scheduled,
        "offered": offered,
        "pause": selectors.open_pause(account, today=today),
        "can_pause": account.status == Account.Status.ACTIVE,
        "history": account.subscriptions.select_related("tariff", "promotion")
        .order_by("-start", "-pk"),
    })


@require_http_methods(["GET", "POST"])
@cabinet_view
def tariff_change(request):
    account = _account(request)
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else request.GET
    tariff = _offered(request, data.get("tariff"), today)
    form = TariffChangeForm(data if request.method == "POST" else None,
                            initial={"tariff": tariff.pk, "when": data.get("when", TOMORROW)})
    if request.method == "POST" and form.is_valid():
        try:
            new = change_tariff(account=account, tariff=tariff, actor=request.user,
                                from_next_period=form.from_next_period)
        except (ValidationError, RuleViolation) as exc:
            messages.error(request, _("The tariff was not changed: %(reason)s")
                           % {"reason": " ".join(_messages(exc))})
        else:
            messages.success(request, _("Tariff «%(tariff)s» from %(day)s.")
                             % {"tariff": new.tariff.name, "day": _day(new.start)})
        return redirect("cabinet:tariff")
    quotes = {when: selectors.tariff_change_quote(account, tariff, today=today,
                                                  from_next_period=when == NEXT_MONTH)
              for when in (TOMORROW, NEXT_MONTH)}
    return render(request, "cabinet/tariff/change.html", {
        "account": account, "tariff": tariff, "form": form,
        "current": subscription_on(account, today),
        "scheduled": selectors.scheduled_change(account, today=today),
        "tomorrow": quotes[TOMORROW], "next_month": quotes[NEXT_MONTH],
        "balance_after": account.balance - quotes[TOMORROW].difference,
    }, status=400 if form.is_bound else 200)


@require_POST
@cabinet_view
def tariff_cancel(request):
    account = _account(request)
    report(request, lambda: tariff_change_cancel(account=account, actor=request.user),
           _("The scheduled tariff change is cancelled; the current tariff goes on."))
    return redirect("cabinet:tariff")


@require_http_methods(["GET", "POST"])
@cabinet_view
def pause(request):
    account = _account(request)
    today = timezone.localdate()
    current = selectors.open_pause(account, today=today)
    quote = None
    if request.method == "POST":
        form = PauseForm(request.POST, today=today)
        if form.is_valid():
            data = form.cleaned_data
            try:
                started = pause_start(account=account, start=data["start"], end=data["end"],
                                      actor=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except RuleViolation as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Pause from %(start)s; service resumes on %(end)s.")
                                 % {"start": _day(started.start), "end": _day(started.end)})
                return redirect("cabinet:pause")
    elif "start" in request.GET or "end" in request.GET:
        form = PauseForm(request.GET, today=today)  # the dates chosen: show the sums
        if form.is_valid():
            quote = selectors.pause_quote(account, start=form.cleaned_data["start"],
                                          end=form.cleaned_data["end"], today=today)
    else:
        form = PauseForm(today=today)
    subscription = subscription_on(account, today)
    return render(request, "cabinet/tariff/pause.html", {
        "account": account, "today": today, "form": form, "quote": quote, "current": current,
        "can_pause": account.status == Account.Status.ACTIVE and current is None,
        "pause_fee": subscription.tariff.pause_fee if subscription else None,
    }, status=400 if form.is_bound and form.errors else 200)


@require_POST
@cabinet_view
def resume(request):
    account = _account(request)
    report(request, lambda: pause_resume(account=account, actor=request.user),
           _("Service resumed from today; the monthly fee for the rest of the month is "
             "charged."))
    return redirect("cabinet:pause")


def _messages(exc) -> list[str]:
    return exc.messages if isinstance(exc, ValidationError) else [str(exc)]
