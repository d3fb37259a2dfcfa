"""Billing's events in the client's history (GET /clients/{id}/history/, the card): every
ledger entry, tariff subscriptions and pauses, and the notices sent."""

from django.utils import formats
from django.utils.translation import gettext as _

from billing.models import LedgerEntry, Notice, Pause, Subscription
from billing.selectors import account_of
from ispcrm.audit import ChangeEvent


def _money(amount) -> str:
    return formats.number_format(amount, 2, force_grouping=True) + " ₽"


def billing_events(card, user=None) -> list[ChangeEvent]:
    if user is not None and not user.has_perm("billing.view_account"):
        return []
    account = account_of(card)
    if account is None:
        return []
    events = [ChangeEvent(at=account.opened_at, kind="account_opened", actor=None,
                          summary=_("Account %(number)s opened") % {"number": account.number})]
    for entry in LedgerEntry.objects.filter(account=account).select_related("created_by"):
        events.append(ChangeEvent(
            at=entry.created_at, kind=entry.kind,
            actor=str(entry.created_by) if entry.created_by_id else None,
            summary=f"{entry.description}: {_money(entry.amount)}"))
    for item in Subscription.objects.filter(account=account).select_related("tariff",
                                                                            "created_by"):
        events.append(ChangeEvent(
            at=item.created_at, kind="tariff",
            actor=str(item.created_by) if item.created_by_id else None,
            summary=_("Tariff «%(tariff)s» from %(day)s") % {
                "tariff": item.tariff.name, "day": item.start.strftime("%d.%m.%Y")}))
    for pause in Pause.objects.filter(account=account).select_related("created_by"):
        events.append(ChangeEvent(
            at=pause.created_at, kind="pause",
            actor=str(pause.created_by) if pause.created_by_id else None,
            summary=_("Pause %(start)s – %(end)s") % {
                "start": pause.start.strftime("%d.%m.%Y"),
                "end": pause.end.strftime("%d.%m.%Y")}))
    for notice in Notice.objects.filter(account=account).select_related("sent_by"):
        events.append(ChangeEvent(
            at=notice.sent_at, kind="notice",
            actor=str(notice.sent_by) if notice.sent_by_id else None,
            summary=_("%(kind)s sent by %(channel)s to %(recipient)s") % {
                "kind": notice.get_kind_display(), "channel": notice.get_channel_display(),
                "recipient": notice.recipient}))
    return events


