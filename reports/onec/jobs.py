"""The 1C exchange as background exports (``ExportJob``): three kinds of file per month, made
on demand from the accounting page and automatically on the first working day of a month
for the month before.

Kinds (registered in ``reports.exports.EXPORTS``):

- ``1c_sales`` — the EnterpriseData XML of the month's sales (``reports.onec.sales``);
- ``1c_sales_register`` — the same acts as an Excel register;
- ``1c_payments`` — the month's payments register (Excel).

The parameters of all three are ``{"period": "YYYY-MM-01"}``. Who may make and download
them: the director and the accountant (and superusers) — ``can_use_accounting``.

Automatically: beat runs ``monthly_exports`` every morning; on the month's first working day
(the production calendar, ``ispcrm.workcalendar``) or any later day that finds them missing,
it issues the previous month's acts first (idempotent: they are normally there since the 1st,
06:00) and creates one ``automatic`` job per kind and month — the unique constraint
``export_automatic_once_per_month`` makes that once, however often beat fires."""

from contextlib import suppress
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.money import month_start
from ispcrm import roles
from ispcrm.workcalendar import WorkCalendar
from reports.models import ExportJob

SALES = "1c_sales"
SALES_REGISTER = "1c_sales_register"
PAYMENTS = "1c_payments"
KINDS = (SALES, SALES_REGISTER, PAYMENTS)
XML_CONTENT_TYPE = "application/xml; charset=utf-8"

ACCOUNTING_ROLES = (roles.DIRECTOR, roles.ACCOUNTANT)


def can_use_accounting(user) -> bool:
    """The month's closing files are for the accountant and the director."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name__in=ACCOUNTING_ROLES).exists()


def parse_period(value) -> date:
    """``2026-11``, ``2026-11-01`` or a date → the month's first day."""
    if isinstance(value, date):
        return month_start(value)
    text = str(value or "").strip()
    try:
        return month_start(date.fromisoformat(text[:7] + "-01"))
    except ValueError:
        raise ValidationError({"period": _("Choose a month.")}) from None


def clean_params(params: dict, user) -> dict:
    period = parse_period(params.get("period") or params.get("month"))
    if period > month_start(timezone.localdate()):
        raise ValidationError({"period": _("The month has not begun yet.")})
    return {"period": period.isoformat()}


# --- What each kind builds --------------------------------------------------------------------

def write_sales(params: dict, target, on_progress) -> tuple[str, int]:
    from .sales import sales_filename, write_sales_xml

    period = parse_period(params["period"])
    totals = write_sales_xml(period, target, on_progress=on_progress)
    return sales_filename(period), totals.acts


def build_sales_register(params: dict):
    from reports.selectors.accounting import act_totals

    from .registers import sales_register_filename, sales_register_sheet

    period = parse_period(params["period"])
    return (sales_register_filename(period), [sales_register_sheet(period)],
            act_totals(period)["count"] + 1)


def build_payments_register(params: dict):
    from reports.selectors.accounting import payment_totals

    from .registers import payments_register_filename, payments_register_sheets

    period = parse_period(params["period"])
    return (payments_register_filename(period), payments_register_sheets(period),
            payment_totals(period)["count"] + 1)


def export_specs() -> dict:
    """The kinds for ``reports.exports.register`` (called from there, once it is defined)."""
    from reports.exports import ExportSpec

    return {
        SALES: ExportSpec(gettext_lazy("1C: sales of the month (EnterpriseData XML)"),
                          write=write_sales, allowed=can_use_accounting, clean=clean_params,
                          content_type=XML_CONTENT_TYPE, inline=False),
        SALES_REGISTER: ExportSpec(gettext_lazy("1C: acts register of the month"),
                                   build_sales_register, allowed=can_use_accounting,
                                   clean=clean_params),
        PAYMENTS: ExportSpec(gettext_lazy("1C: payments register of the month"),
                             build_payments_register, allowed=can_use_accounting,
                             clean=clean_params),
    }


# --- Automatically, once a month ------------------------------------------------------------

def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def first_working_day(month: date) -> date:
    """The month's first working day by the nationwide production calendar."""
    return WorkCalendar().add_working_days(month_start(month), 0)


def monthly_exports(today: date | None = None) -> list[ExportJob]:
    """On the first working day of a month (or later, if that day was missed) make the
    previous month's automatic 1C files, once. Returns the jobs created now."""
    from billing.services.documents import monthly_documents_issue
    from reports.exports import export_start

    today = today or timezone.localdate()
    if today < first_working_day(today):
        return []
    period = previous_month(today)
    have = set(ExportJob.objects.filter(automatic=True, period=period, kind__in=KINDS)
               .values_list("kind", flat=True))
    missing = [kind for kind in KINDS if kind not in have]
    if not missing:
        return []
    # The acts first: normally issued on the 1st at 06:00; again is a no-op.
    monthly_documents_issue(period=period)
    created = []
    for kind in missing:
        # Another run may have made it a moment ago: the constraint keeps it once.
        with suppress(IntegrityError):
            created.append(export_start(kind, {"period": period.isoformat()}, None,
                                        automatic=True, period=period))
    return created


def rebuild(job: ExportJob) -> bool:
    """Build an automatic job's file again — it failed, or its link expired — keeping the
    row, the month's one and only. False if it is queued or running already."""
    from reports.exports import enqueue_build

    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in (ExportJob.Status.FAILED, ExportJob.Status.DONE):
            return False
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.QUEUED, error="", progress_done=0, file="",
            started_at=None, finished_at=None, expires_at=None)
        transaction.on_commit(lambda: enqueue_build(job.pk))
    return True
