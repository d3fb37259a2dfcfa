"""The accountant's page (D12): a month's closing files for 1C — the sales as EnterpriseData
XML, the acts register and the payments register — made on demand for any month, and the
list of those made automatically on the first working day of each month.

Thin: the figures come from reports.selectors.accounting, the files from reports.onec via
the background exports (the buttons post to ``reports:export_start``)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.money import month_start, next_month_start
from reports.exports import download_response, is_expired, job_title
from reports.models import ExportJob
from reports.onec import jobs
from reports.onec.config import onec_config
from reports.selectors import accounting as figures

AUTOMATIC_MONTHS = 12


def accounting_view(view):
    """Sign in first; then only the accountant, the director and superusers."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not jobs.can_use_accounting(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _period(request):
    value = request.GET.get("month", "")
    if value:
        try:
            return jobs.parse_period(value)
        except ValidationError:
            messages.warning(request, _("Choose a month."))
    return jobs.previous_month(timezone.localdate())


def _automatic_rows() -> list[dict]:
    """The automatic exports of the latest months: a row per month, a cell per kind."""
    found = list(ExportJob.objects.filter(automatic=True, kind__in=jobs.KINDS)
                 .order_by("-period", "kind"))
    periods = sorted({job.period for job in found}, reverse=True)[:AUTOMATIC_MONTHS]
    totals = figures.totals_by_month(periods)
    now = timezone.now()
    rows = []
    for period in periods:
        cells = {job.kind: job for job in found if job.period == period}
        rows.append({
            "period": period, "totals": totals[period],
            "files": [{"kind": kind, "job": cells.get(kind),
                       "expired": bool(cells.get(kind)) and is_expired(cells[kind], now)}
                      for kind in jobs.KINDS],
        })
    return rows


@accounting_view
def accounting(request):
    period = _period(request)
    today = timezone.localdate()
    config = onec_config()
    context = {
        "title": _("Accounting: 1C exchange"),
        "period": period,
        "previous": jobs.previous_month(period),
        "next": next_month_start(period) if period < month_start(today) else None,
        "acts": figures.act_totals(period),
        "reconciliation": figures.reconciliation(period),
        "payments": figures.payment_totals(period),
        "kinds": [{"kind": kind, "title": job_title(ExportJob(kind=kind))}
                  for kind in jobs.KINDS],
        "automatic": _automatic_rows(),
        "config": config,
        "first_working_day": jobs.first_working_day(today),
    }
    return render(request, "reports/accounting/index.html", context)


def _job(public_id) -> ExportJob:
    return get_object_or_404(ExportJob, public_id=public_id, kind__in=jobs.KINDS)


@accounting_view
def accounting_download(request, public_id):
    """A 1C file of any month, automatic or asked for by a colleague: the month's closing
    files are the accounting department's, not one person's."""
    job = _job(public_id)
    if job.status != ExportJob.Status.DONE or not job.file or is_expired(job):
        raise Http404
    return download_response(job)


@accounting_view
@require_POST
def accounting_rebuild(request, public_id):
    """Build an automatic file again (it failed, or its link expired)."""
    job = _job(public_id)
    if not job.automatic:
        raise Http404
    if jobs.rebuild(job):
        messages.success(request, _("The file is being built again."))
    url = reverse("reports:accounting")
    return redirect(f"{url}?month={job.period:%Y-%m}#automatic")
