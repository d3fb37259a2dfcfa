"""The accountant's bank pages: upload a statement, and the queue of incoming transfers that
found no account. Thin: parse the request, call billing.services.bank, show the outcome."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.models import BankStatement, BankTransfer
from billing.services.bank import (
    MAX_STATEMENT_BYTES,
    check_statement_size,
    statement_import,
    transfer_assign,
    transfer_ignore,
)
from ispcrm.errors import RuleViolation

PAGE_SIZE = 50


def _error_text(exc: ValidationError) -> str:
    return " ".join(dict.fromkeys(exc.messages))  # the same text may sit under two keys


@login_required
@permission_required("billing.view_bankstatement", raise_exception=True)
def bank_import(request):
    """GET: the upload form and the statements uploaded so far; POST: import one file."""
    if request.method == "POST":
        if not request.user.has_perm("billing.add_bankstatement"):
            raise PermissionDenied
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose the statement file first."))
            return redirect("billing:bank_import")
        try:
            check_statement_size(upload.size)
            statement = statement_import(data=upload.read(), file_name=upload.name,
                                         actor=request.user)
        except ValidationError as exc:
            messages.error(request, _("The statement was not imported, nothing from it was "
                                      "saved. %(reason)s") % {"reason": _error_text(exc)})
            return redirect("billing:bank_import")
        messages.success(request, _(
            "Statement %(file)s imported. New payments: %(imported)s (waiting for an account: "
            "%(unmatched)s). Imported before: %(duplicates)s.") % {
            "file": statement.file_name, "imported": statement.imported,
            "unmatched": statement.unmatched, "duplicates": statement.duplicates})
        return redirect(f"{reverse('billing:bank_import')}?statement={statement.pk}")

    statements = BankStatement.objects.select_related("uploaded_by")
    latest_id = request.GET.get("statement", "")
    latest = (statements.filter(pk=int(latest_id)).first() if latest_id.isdigit() else None)
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/bank_import.html", {
        "page": page, "latest": latest,
        "credited": latest.imported - latest.unmatched if latest else 0,
        "can_upload": request.user.has_perm("billing.add_bankstatement"),
        "max_mb": MAX_STATEMENT_BYTES // (1024 * 1024),
        "waiting": BankTransfer.objects.filter(status=BankTransfer.Status.UNMATCHED).count(),
    })


@login_required
@permission_required("billing.view_banktransfer", raise_exception=True)
def bank_queue(request):
    """Incoming transfers waiting for an account (``?status=`` shows the handled ones,
    ``?statement=`` one upload's)."""
    status = request.GET.get("status", BankTransfer.Status.UNMATCHED)
    if status not in BankTransfer.Status.values and status != "all":
        status = BankTransfer.Status.UNMATCHED
    transfers = BankTransfer.objects.select_related("statement", "account", "handled_by")
    if status != "all":
        transfers = transfers.filter(status=status)
    statement_id = request.GET.get("statement", "")
    if statement_id.isdigit():
        transfers = transfers.filter(statement_id=int(statement_id))
    page = Paginator(transfers.order_by("doc_date", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "billing/bank_queue.html", {
        "page": page, "status": status, "statuses": BankTransfer.Status.choices,
        "statement_id": statement_id if statement_id.isdigit() else "",
        "can_handle": request.user.has_perm("billing.change_banktransfer"),
    })


def _back_to_queue(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   request.is_secure()):
        return redirect(target)
    return redirect("billing:bank_queue")


@login_required
@permission_required("billing.change_banktransfer", raise_exception=True)
@require_POST
def bank_transfer_assign(request, pk: int):
    transfer = get_object_or_404(BankTransfer, pk=pk)
    try:
        transfer = transfer_assign(transfer=transfer, account=request.POST.get("account", ""),
                                   actor=request.user)
    except ValidationError as exc:
        messages.error(request, _("Transfer № %(number)s not credited: %(reason)s") % {
            "number": transfer.doc_number, "reason": _error_text(exc)})
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Transfer № %(number)s credited to account %(account)s.")
                         % {"number": transfer.doc_number, "account": transfer.account.number})
    return _back_to_queue(request)


@login_required
@permission_required("billing.change_banktransfer", raise_exception=True)
@require_POST
def bank_transfer_ignore(request, pk: int):
    transfer = get_object_or_404(BankTransfer, pk=pk)
    try:
        transfer = transfer_ignore(transfer=transfer, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Transfer № %(number)s marked as not a client payment.")
                         % {"number": transfer.doc_number})
    return _back_to_queue(request)
