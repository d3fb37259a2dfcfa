"""The accountant's payments: every payment with filters and totals, and cancelling a
mistaken one (a reversing entry; the original stays in the ledger)."""

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.forms import PaymentCancelForm, PaymentFilterForm
from billing.models import Payment
from billing.services.payments import payment_cancel
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors
from ispcrm.templatetags.ispcrm import money

from .common import safe_next

PAGE_SIZE = 50


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(form: PaymentFilterForm):
    payments = Payment.objects.select_related("account__client", "taken_by", "cancelled_by")
    if not form.is_valid():
        return payments.none()
    data = form.cleaned_data
    # Whole local days, as a range on paid_at, so the index on it is used.
    if data["date_from"]:
        payments = payments.filter(paid_at__gte=_start_of(data["date_from"]))
    if data["date_to"]:
        payments = payments.filter(paid_at__lt=_start_of(data["date_to"] + timedelta(days=1)))
    if data["channel"]:
        payments = payments.filter(channel=data["channel"])
    if data["status"]:
        payments = payments.filter(status=data["status"])
    query = data["q"].strip()
    if query:
        condition = (Q(payer__icontains=query) | Q(account__client__name__icontains=query)
                     | Q(external_id=query))
        if query.isdigit():
            condition |= Q(account__number__startswith=query)
        payments = payments.filter(condition)
    return payments


@login_required
@permission_required("billing.view_payment", raise_exception=True)
def payment_list(request):
    params = request.GET.copy()
    if not params:
        # Opened from the menu: this month's payments (the totals of the month at a glance).
        params["date_from"] = timezone.localdate().replace(day=1).isoformat()
    form = PaymentFilterForm(params)
    payments = _filtered(form)
    completed = Q(status=Payment.Status.COMPLETED)
    totals = payments.order_by().aggregate(
        count=Count("pk"), completed_count=Count("pk", filter=completed),
        completed_sum=Sum("amount", filter=completed),
        cancelled_count=Count("pk", filter=Q(status=Payment.Status.CANCELLED)),
        cancelled_sum=Sum("amount", filter=Q(status=Payment.Status.CANCELLED)))
    paginator = Paginator(payments.order_by("-paid_at", "-pk"), PAGE_SIZE)
    paginator.count = totals["count"]  # counted with the totals already
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "billing/payment_list.html", {
        "form": form, "page": page, "totals": totals,
        "can_cancel": request.user.has_perm("billing.change_payment"),
    })


@login_required
@permission_required("billing.change_payment", raise_exception=True)
def payment_cancel_view(request, pk: int):
    payment = get_object_or_404(Payment.objects.select_related("account__client", "taken_by"),
                                pk=pk)
    form = PaymentCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and payment.status == Payment.Status.CANCELLED:
        messages.info(request, _("The payment was already cancelled."))
        return _back(request)
    if request.method == "POST" and form.is_valid():
        try:
            payment_cancel(payment=payment, reason=form.cleaned_data["reason"],
                           actor=request.user)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except RuleViolation as exc:
            messages.error(request, _("The payment was not cancelled: %(reason)s")
                           % {"reason": exc})
            return _back(request)
        else:
            payment.account.refresh_from_db(fields=["balance"])
            messages.success(request, _(
                "Payment of %(amount)s to account %(account)s cancelled. The balance is now "
                "%(balance)s.") % {"amount": money(payment.amount),
                                   "account": payment.account.number,
                                   "balance": money(payment.account.balance)})
            return _back(request)
    return render(request, "billing/payment_cancel.html", {
        "payment": payment, "form": form, "next": safe_next(request)})


def _back(request):
    return redirect(safe_next(request) or "billing:payment_list")
