"""Billing's part of ``manage.py seed_demo``: tariffs, services, a promotion, and an account
for every card past the contract stage with a plausible ledger (connection fee, payments,
the current month charged by the real charge run). Bulk inserts; balances are computed from
the very entries inserted, so ``check_balances`` agrees."""

import datetime
import time
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from billing.models import (
    Account,
    AccountService,
    LedgerEntry,
    Payment,
    Promotion,
    Service,
    Subscription,
    Tariff,
)
from billing.money import month_start
from billing.services.accounts import account_number_for
from billing.services.charges import charge_run
from connections.models import ClientCard, Stage

BATCH = 5000
D = Decimal

# name, segment, connection types, monthly fee, connection fee, speed, pause fee, hours
TARIFFS = (
    ("Домашний 100", "person", ["lan"], D("500"), D("0"), 100, D("50"), None),
    ("Домашний 300", "person", ["lan"], D("750"), D("0"), 300, D("50"), None),
    ("Домашний 500", "person", ["lan"], D("950"), D("0"), 500, D("50"), None),
    ("Загородный радио 50", "any", ["radio"], D("1200"), D("3000"), 50, D("100"), None),
    ("Спутник 20", "any", ["satellite"], D("3500"), D("15000"), 20, D("300"), None),
    ("Бизнес 200", "company", ["lan", "radio"], D("3000"), D("5000"), 200, D("0"), D("2")),
    ("Бизнес Оптика 1000", "company", ["leased_line", "lan"], D("12000"), D("25000"), 1000,
     D("0"), D("8")),
)
SERVICES = (("static-ip", "Статический IP-адрес", D("150")),
            ("router-rent", "Аренда Wi-Fi роутера", D("200")))
ACCOUNT_STATUS = {Stage.INSTALLATION: "pending", Stage.ACTIVATION: "pending",
                  Stage.ACTIVE: "active", Stage.TERMINATED: "closed"}


def _catalog() -> tuple[list[Tariff], list[Service]]:
    start = datetime.date(2023, 1, 1)
    tariffs = []
    for name, segment, types, fee, connect, speed, pause, hours in TARIFFS:
        tariff, _ = Tariff.objects.get_or_create(name=name, defaults={
            "segment": segment, "connection_types": types, "monthly_fee": fee,
            "connection_fee": connect, "speed_mbps": speed, "pause_fee": pause,
            "included_hours": hours, "hour_price": D("1500") if hours else None,
            "valid_from": start})
        tariffs.append(tariff)
    services = [Service.objects.get_or_create(code=code, defaults={"name": name,
                                                                   "monthly_fee": fee})[0]
                for code, name, fee in SERVICES]
    Promotion.objects.get_or_create(name="Первый месяц за полцены", defaults={
        "discount_percent": D("50"), "months": 1, "valid_from": start})
    return tariffs, services


def _tariff_for(card, tariffs, rng) -> Tariff:
    fits = [t for t in tariffs if t.segment in ("any", card.kind)
            and (not t.connection_types or card.connection_type in t.connection_types)]
    return rng.choice(fits or tariffs)


def seed_billing(s) -> None:
    started = time.monotonic()
    rng = s.rng("billing")
    tariffs, services = _catalog()
    today = timezone.localdate()
    cards = (ClientCard.objects.filter(stage__in=list(ACCOUNT_STATUS), account__isnull=True)
             .only("pk", "kind", "connection_type", "stage", "created_at").order_by("pk"))
    total = 0
    while chunk := list(cards[:BATCH]):  # the cards handled leave the filter (account set)
        accounts, plans = [], []
        for card in chunk:
            status = ACCOUNT_STATUS[card.stage]
            opened = timezone.localtime(card.created_at).date()
            if status == "active" and rng.random() < 0.03:
                status = "blocked"
            accounts.append(Account(
                number=account_number_for(card.pk), client_id=card.pk, status=status,
                activated_on=opened + datetime.timedelta(days=3) if status != "pending" else None,
                closed_on=_closed_on(opened, today, rng) if status == "closed" else None))
            plans.append((card, _tariff_for(card, tariffs, rng), opened))
        Account.objects.bulk_create(accounts)
        subscriptions, extras, entries, payments = [], [], [], []
        for account, (card, tariff, opened) in zip(accounts, plans, strict=True):
            subscriptions.append(Subscription(
                account=account, tariff=tariff, start=opened,
                end=account.closed_on if account.status == "closed" else None))
            if account.status == "active" and rng.random() < 0.15:
                extras.append(AccountService(account=account, service=rng.choice(services),
                                             start=opened))
            at = card.created_at
            if tariff.connection_fee:
                entries.append(LedgerEntry(
                    account=account, kind="charge", amount=-tariff.connection_fee,
                    created_at=at, description="Плата за подключение",
                    period=month_start(opened), charge_kind="connection_fee", idem_key="conn"))
            # Most pay the connection fee and some months ahead; some owe (dunning has work).
            months_ahead = rng.choice((0, 1, 1, 2, 3, 6)) if account.status != "blocked" else 0
            paid = tariff.connection_fee + tariff.monthly_fee * months_ahead
            if account.status == "blocked":
                paid = max(D("0"), tariff.connection_fee - tariff.monthly_fee)
            if paid:
                payments.append((account, paid, at + datetime.timedelta(hours=2)))
        Subscription.objects.bulk_create(subscriptions)
        AccountService.objects.bulk_create(extras)
        Payment.objects.bulk_create([
            Payment(account=account, amount=amount, channel=rng.choice(
                ("cash", "card", "terminal", "bank")), external_id=f"demo-{account.pk}",
                paid_at=at)
            for account, amount, at in payments])
        for payment in Payment.objects.filter(account__in=accounts).order_by("pk"):
            entries.append(LedgerEntry(
                account_id=payment.account_id, kind="payment", amount=payment.amount,
                created_at=payment.paid_at, description="Платёж",
                payment=payment, idem_key=f"pay:{payment.pk}"))
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH)
        balances: dict[int, Decimal] = {}
        for entry in entries:
            balances[entry.account_id] = balances.get(entry.account_id, D("0")) + entry.amount
        _set_balances(balances)
        _index_account_numbers([a.pk for a in accounts])
        total += len(accounts)
    if total:
        s.log(f"billing: {total} accounts in {time.monotonic() - started:.1f} s")
        if connection.vendor == "postgresql":
            # The planner's statistics still say these tables are empty (the seed is one
            # transaction, autovacuum sees nothing yet): without this the run's joins are
            # planned as nested loops over sequential scans.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE billing_account, billing_subscription, "
                               "billing_ledgerentry, billing_accountservice")
        result = charge_run(day=today)
        s.log(f"billing: this month charged to {result.fees} accounts "
              f"({time.monotonic() - started:.1f} s)")


def _closed_on(opened: datetime.date, today: datetime.date, rng) -> datetime.date:
    """Some day after activation and before today."""
    span = max(5, (today - opened).days)
    return min(today, opened + datetime.timedelta(days=4 + rng.randrange(span)))


def _set_balances(balances: dict[int, Decimal]) -> None:
    from connections.management.commands.seed_demo import update_rows

    update_rows(Account, ("balance",), list(balances.items()))


def _index_account_numbers(account_ids: list[int]) -> None:
    """Make the new account numbers findable in the search box (ClientCard.search_text)."""
    placeholders = ", ".join(["%s"] * len(account_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE connections_clientcard SET search_text = "
            "connections_clientcard.search_text || ' ' || a.number "
            "FROM billing_account a WHERE a.client_id = connections_clientcard.id "
            f"AND a.id IN ({placeholders})", account_ids)
