"""The cabinet's first page (issue 6, item 2): the balance and the pay button first (on a
phone, above the fold), then the tariff, the next charge, how long the money lasts, a debt
and its block date, a pause, an outage at his building and his open requests. Before the
contract there is no account: the page tells where the connection stands instead."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Account
from billing.money import ZERO
from billing.services.pricing import monthly_price, subscription_on
from cabinet import selectors
from cabinet.access import cabinet_view
from connections.models import Stage

#: The connection stage in the client's words (Q4: he always sees the stage).
STAGE_TEXT = {
    Stage.COMMERCIAL: _("We have your application. A manager will agree the tariff and the "
                        "terms with you."),
    Stage.EXPERTISE: _("Our engineers are checking how to connect your building."),
    Stage.CONTRACT: _("Your building can be connected. The next step is signing the "
                      "contract."),
    Stage.INSTALLATION: _("The contract is signed. Our crew will come to install the "
                          "connection."),
    Stage.ACTIVATION: _("The connection is installed and is being switched on."),
    Stage.ACTIVE: _("You are connected."),
    Stage.NETWORK_DEVELOPMENT: _("Your building cannot be connected yet. We will let you know "
                                 "when our network reaches it."),
    Stage.CANCELLED: _("The application was cancelled."),
    Stage.TERMINATED: _("The contract has ended."),
}

#: What the account's status means for the service, in plain words.
STATUS_TEXT = {
    Account.Status.PENDING: _("The internet is switched on when the connection is done."),
    Account.Status.ACTIVE: _("The internet is on."),
    Account.Status.BLOCKED: _("The internet is switched off for a debt."),
    Account.Status.PAUSED: _("The internet is paused at your request."),
    Account.Status.CLOSED: _("The contract has ended."),
}


@cabinet_view
def home(request):
    card, account = request.cabinet.card, request.cabinet.account
    today = timezone.localdate()
    context = {
        "card": card, "account": account, "today": today,
        "stage_text": STAGE_TEXT.get(card.stage, ""),
        "show_stage": account is None or account.status == Account.Status.PENDING,
        "outages": selectors.building_outages(card),
        "open_requests": selectors.open_requests_count(card),
    }
    if account is not None:
        subscription = subscription_on(account, today)
        next_charge = selectors.next_charge(account, today=today)
        context.update({
            "status_text": STATUS_TEXT.get(account.status, ""),
            "subscription": subscription,
            "monthly_fee": (monthly_price(subscription, today.replace(day=1))
                            if subscription else None),
            "next_charge": next_charge,
            # What to pay before the 1st so that the charge does not leave a debt.
            "short_by": (max(next_charge.amount - account.balance, ZERO)
                         if next_charge else ZERO),
            "forecast": selectors.balance_lasts(account, today=today),
            "debt": selectors.debt_state(account, today=today),
            "pause": selectors.open_pause(account, today=today),
            "scheduled": selectors.scheduled_change(account, today=today),
        })
    return render(request, "cabinet/home.html", context)
