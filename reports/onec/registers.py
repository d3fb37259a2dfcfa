"""The month's registers for the accountant, as Excel (reports.excel): the acts register —
the same acts as the 1C message, one row each — and the payments register.

Rows are generators over the streamed selectors; each sheet ends with a totals row (labelled
in the first text column), computed while the rows go by, so a register of 100,000 rows is
written in constant memory."""

from collections.abc import Iterator
from datetime import date

from django.utils.translation import gettext as _

from billing.models import Payment
from billing.money import ZERO, month_start
from reports.excel import Column, Sheet
from reports.selectors import accounting

from .config import OnecConfig, onec_config
from .lines import document_total, sale_lines
from .sales import _is_company, retail_number


def _kind_label(act: dict) -> str:
    if not _is_company(act):
        return _("Person")
    return _("Sole trader") if len(act["inn"].strip()) == 12 else _("Company")


def sales_register_sheet(period: date, config: OnecConfig | None = None) -> Sheet:
    """One row per act: date, number, counterparty, INN, KPP, amount without VAT, VAT, total;
    the 1C document the act went into (its own, or the individuals' monthly summary)."""
    config = config or onec_config()
    period = month_start(period)
    columns = [
        Column(_("Date"), "date"), Column(_("Act"), "text", 18),
        Column(_("Counterparty"), "text", 40), Column(_("Kind"), "text", 14),
        Column(_("INN"), "text", 14), Column(_("KPP"), "text", 12),
        Column(_("Account"), "text", 12),
        Column(_("Amount without VAT"), "money"), Column(_("VAT"), "money"),
        Column(_("Total"), "money"), Column(_("1C document"), "text", 18),
    ]

    summary = retail_number(period)

    def rows() -> Iterator[list]:
        net_sum = vat_sum = total_sum = ZERO
        count = 0
        for act in accounting.acts_of_month(period):
            _lines, amount, vat = sale_lines(act["lines"], config)
            if amount <= ZERO:
                continue
            total = document_total(amount, vat, config)
            net = total - vat
            separate = _is_company(act) or config.persons == "each"
            count += 1
            net_sum, vat_sum, total_sum = net_sum + net, vat_sum + vat, total_sum + total
            yield [act["issued_on"], act["number"], act["name"], _kind_label(act),
                   act["inn"], act["kpp"] if _is_company(act) else "", act["account_number"],
                   net, vat, total, act["number"] if separate else summary]
        yield [None, _("Total: %(count)s acts") % {"count": count}, None, None, None, None,
               None, net_sum, vat_sum, total_sum, None]

    return Sheet(_("Acts %(month)s") % {"month": f"{period:%m.%Y}"}, columns, rows())


def payments_register_sheets(period: date) -> list[Sheet]:
    """The month's completed payments (one row each, a totals row), and the totals per
    channel on a second sheet."""
    period = month_start(period)
    channels = dict(Payment.Channel.choices)
    columns = [
        Column(_("Paid at"), "datetime"), Column(_("Account"), "text", 12),
        Column(_("Payer"), "text", 40), Column(_("INN"), "text", 14),
        Column(_("Channel"), "text", 18), Column(_("Amount"), "money"),
        Column(_("External id"), "text", 28),
    ]

    def rows() -> Iterator[list]:
        count, total = 0, ZERO
        for payment in accounting.payments_of_month(period):
            count += 1
            total += payment["amount"]
            yield [payment["paid_at"], payment["account_number"], payment["payer"],
                   payment["inn"], str(channels.get(payment["channel"], payment["channel"])),
                   payment["amount"], payment["external_id"]]
        yield [None, None, _("Total: %(count)s payments") % {"count": count}, None, None,
               total, None]

    by_channel = accounting.payment_totals(period)
    channel_rows = [[str(row["label"]), row["count"], row["total"]]
                    for row in by_channel["channels"]]
    channel_rows.append([_("In all"), by_channel["count"], by_channel["total"]])
    return [
        Sheet(_("Payments %(month)s") % {"month": f"{period:%m.%Y}"}, columns, rows()),
        Sheet(_("By channel"), [Column(_("Channel"), "text", 22), Column(_("Payments"), "int"),
                                Column(_("Amount"), "money")], channel_rows),
    ]


def sales_register_filename(period: date) -> str:
    return f"1c-acts-register-{month_start(period):%Y-%m}.xlsx"


def payments_register_filename(period: date) -> str:
    return f"1c-payments-register-{month_start(period):%Y-%m}.xlsx"


__all__ = [
    "payments_register_filename", "payments_register_sheets",
    "sales_register_filename", "sales_register_sheet",
]
