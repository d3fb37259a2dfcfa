"""The cash desk (M3: a payment in a few seconds). One box finds the account by number, phone
or name as the cashier types; the amount gets the focus; Enter credits; the result shows the
new balance and whether service came back, and the desk is ready for the next client.

A cash payment's external id is made when the form is shown and travels in it, so a form
posted twice (a double click, a reload, a retry after a lost answer) is one payment."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils.translation import gettext as _

from billing.forms import PaymentForm, new_cash_id
from billing.models import Account
from billing.services.payments import payment_accept
from connections.models import ClientCard
from connections.selectors import client_search
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors

RESULTS = 10


def _accounts_matching(query: str) -> QuerySet[ClientCard]:
    """Cards with an account whose search text matches (it holds the account number)."""
    return (client_search(query, limit=None).filter(account__isnull=False)
            .select_related("account")[:RESULTS])


def _account(number: str) -> Account | None:
    number = (number or "").strip()
    if not number:
        return None
    return (Account.objects.select_related("client__building__street__city")
            .filter(number=number).first())


def _chosen(account: Account) -> dict:
    return {
        "account": account,
        "recent_payments": list(account.payments.select_related("taken_by")
                                .order_by("-paid_at")[:3]),
    }


@login_required
@permission_required("billing.add_payment", raise_exception=True)
def cashier(request):
    context = {"query": "", "results": None, "account": None, "form": None, "result": None}
    if request.method == "POST":
        account = _account(request.POST.get("account"))
        form = PaymentForm(request.POST)
        if account is None:
            form.add_error(None, _("Choose the account first: type its number, the phone "
                                   "or the name."))
        elif form.is_valid():
            data = form.cleaned_data
            was_blocked = account.status == Account.Status.BLOCKED
            try:
                payment, created = payment_accept(
                    account=account, amount=data["amount"], channel=data["channel"],
                    external_id=data["external_id"], comment=data["comment"],
                    actor=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc, rename={"external_id": "receipt"})
            except RuleViolation as exc:
                form.add_error(None, str(exc))
            else:
                account.refresh_from_db()
                context["result"] = {
                    "payment": payment, "created": created, "account": account,
                    "unblocked": was_blocked and account.status != Account.Status.BLOCKED,
                    "still_blocked": account.status == Account.Status.BLOCKED,
                }
                return render(request, "billing/cashier.html", context)
        if account is not None:
            context.update(_chosen(account))
        context["form"] = form
        return render(request, "billing/cashier.html", context)

    query = request.GET.get("q", "").strip()
    account = _account(request.GET.get("account"))
    if account is None and query:
        results = list(_accounts_matching(query))
        if len(results) == 1:  # Enter on a full account number or phone: take it
            account = results[0].account
        context.update(query=query, results=results)
    if account is not None:
        context.update(_chosen(account))
        context["form"] = PaymentForm(initial={"account": account.number,
                                               "cash_id": new_cash_id()})
    return render(request, "billing/cashier.html", context)


@login_required
@permission_required("billing.add_payment", raise_exception=True)
def cashier_search(request):
    """The accounts matching what the cashier typed, as he types."""
    query = request.GET.get("q", "").strip()
    return render(request, "billing/partials/cashier_results.html", {
        "query": query, "results": _accounts_matching(query) if query else [],
    })
