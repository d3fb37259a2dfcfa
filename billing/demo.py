"""Billing's part of ``manage.py seed_demo``: tariffs, services, a promotion, and an account
for every card past the contract stage with a plausible ledger (connection fee, payments,
the current month charged by the real charge run); commercial terms with the tariff for
every card with an account and every card still in the funnel, and the contracts' money
terms from them. The ledger follows the connection workflow's seed: the fee is charged
when the contract was signed and paid when the card says it was. Bulk inserts; balances
are computed from the very entries inserted, so ``check_balances`` agrees."""

import datetime
import time
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from billing.models import (
    Account,
    AccountService,
    LedgerEntry,
    Payment,
    Promotion,
    Service,
    Subscription,
    Tariff,
    Terms,
)
from billing.money import month_start
from billing.services.accounts import account_number_for
from billing.services.charges import charge_run
from connections.models import ClientCard, Contract, Stage

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
# Cards before the contract is signed: their preliminary terms name the tariff (CS-1).
OPEN_FUNNEL = (Stage.COMMERCIAL, Stage.EXPERTISE, Stage.CONTRACT, Stage.NETWORK_DEVELOPMENT)


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
             .only("pk", "kind", "connection_type", "stage", "created_at", "lead_manager_id",
                   "fee_paid_at", "activated_at", "terminated_at").order_by("pk"))
    total = 0
    while chunk := list(cards[:BATCH]):  # the cards handled leave the filter (account set)
        signed = _contracts(chunk)
        accounts, plans = [], []
        for card in chunk:
            status = ACCOUNT_STATUS[card.stage]
            if status == "active" and rng.random() < 0.03:
                status = "blocked"
            when = _Timeline(card, signed.get(card.pk), today, rng)
            accounts.append(Account(
                number=account_number_for(card.pk), client_id=card.pk, status=status,
                activated_on=when.activated_on if status != "pending" else None,
                closed_on=when.closed_on if status == "closed" else None))
            plans.append((card, _tariff_for(card, tariffs, rng), when))
        Account.objects.bulk_create(accounts)
        subscriptions, extras, entries, payments, stamps = [], [], [], [], []
        for account, (card, tariff, when) in zip(accounts, plans, strict=True):
            subscriptions.append(Subscription(
                account=account, tariff=tariff, start=when.opened,
                end=max(when.closed_on, when.opened + datetime.timedelta(days=1))
                if account.status == "closed" else None))
            if account.status == "active" and rng.random() < 0.15:
                extras.append(AccountService(account=account, service=rng.choice(services),
                                             start=when.activated_on or when.opened))
            if tariff.connection_fee:
                entries.append(LedgerEntry(
                    account=account, kind="charge", amount=-tariff.connection_fee,
                    created_at=when.signed_at, description="Плата за подключение",
                    period=month_start(when.opened), charge_kind="connection_fee",
                    idem_key="conn"))
            paid_at = when.fee_paid_at
            if paid_at is None and not tariff.connection_fee:
                # Nothing to pay: the fee counts as paid when the contract is signed.
                paid_at = when.signed_at
                stamps.append((card.pk, paid_at))
            if paid_at is None:
                continue  # waits for the payment (the installation waits too)
            # Most pay the connection fee and some months ahead; some owe (dunning has
            # work), the blocked ones paid only the connection fee.
            months_ahead = rng.choice((0, 1, 1, 2, 3, 6)) if account.status != "blocked" else 0
            paid = tariff.connection_fee + tariff.monthly_fee * months_ahead
            if paid:
                payments.append((account, paid, paid_at))
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
        _update(Account, ("opened_at",), [(account.pk, when.signed_at) for account, (
            _card, _tariff, when) in zip(accounts, plans, strict=True)])
        _update(ClientCard, ("fee_paid_at",), stamps)
        extra_services = {service.account_id: service.service_id for service in extras}
        _agree_terms([(card, tariff, extra_services.get(account.pk))
                      for account, (card, tariff, _when) in zip(accounts, plans, strict=True)],
                     rng)
        total += len(accounts)
    agreed = _terms_of_the_open_funnel(tariffs, s.rng("billing:terms"))
    if total or agreed:
        s.log(f"billing: {total} accounts, terms for {agreed} more cards "
              f"in {time.monotonic() - started:.1f} s")
    if total:
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


class _Timeline:
    """When the connection workflow's seed says the account's moments were: opened at the
    contract's signing, the fee paid, activated, closed. Cards without that history (made
    some other way) get plausible moments from their opening."""

    def __init__(self, card, signed_at, today: datetime.date, rng):
        self.signed_at = signed_at or card.created_at
        self.opened = timezone.localtime(self.signed_at).date()
        self.fee_paid_at = card.fee_paid_at if signed_at else (
            card.created_at + datetime.timedelta(hours=2))
        self.activated_on = (timezone.localtime(card.activated_at).date() if card.activated_at
                             else self.opened + datetime.timedelta(days=3))
        self.closed_on = (timezone.localtime(card.terminated_at).date() if card.terminated_at
                          else _closed_on(self.opened, today, rng))


def _contracts(cards) -> dict[int, datetime.datetime]:
    """When each card's contract was signed."""
    return dict(Contract.objects.filter(card__in=[card.pk for card in cards],
                                        signed_at__isnull=False)
                .values_list("card_id", "signed_at"))


def _agree_terms(rows, rng) -> None:
    """Commercial terms (CS-1) with the tariff each card was sold, and the contracts' money
    terms from it (the connection seed drafts contracts before tariffs exist)."""
    agreed = set(Terms.objects.filter(client_id__in=[card.pk for card, _t, _s in rows])
                 .values_list("client_id", flat=True))
    rows = [row for row in rows if row[0].pk not in agreed]
    terms = []
    for card, tariff, _service in rows:
        company = card.kind == "company"
        order = rng.choices(("monthly", "quarterly", "yearly", "deferred"),
                            weights=(70, 18, 10, 2) if company else (95, 2, 3, 0))[0]
        terms.append(Terms(client_id=card.pk, tariff=tariff, payment_order=order,
                           volume=f"{rng.randint(2, 40)} рабочих мест" if company else "",
                           updated_by_id=card.lead_manager_id))
    Terms.objects.bulk_create(terms, batch_size=BATCH)
    Terms.services.through.objects.bulk_create(
        [Terms.services.through(terms_id=term.pk, service_id=service)
         for term, (_card, _tariff, service) in zip(terms, rows, strict=True) if service],
        batch_size=BATCH)
    with translation.override(settings.LANGUAGE_CODE):  # the contract's text, as shown
        orders = {value: str(label) for value, label in Terms.PaymentOrder.choices}
    services = {service.pk: service for service in Service.objects.all()}
    by_card = {card.pk: (tariff, service, term.payment_order)
               for term, (card, tariff, service) in zip(terms, rows, strict=True)}
    updates = []
    for pk, card_id in Contract.objects.filter(card_id__in=list(by_card)).values_list(
            "pk", "card_id"):
        tariff, service, order = by_card[card_id]
        extra = [{"name": services[service].name,
                  "monthly_fee": str(services[service].monthly_fee)}] if service else []
        updates.append((pk, tariff.name, tariff.monthly_fee, tariff.connection_fee,
                        {"services": extra, "payment_order": orders[order],
                         "speed_mbps": tariff.speed_mbps}))
    _update(Contract, ("tariff_name", "monthly_fee", "connection_fee", "terms"), updates)


def _terms_of_the_open_funnel(tariffs, rng) -> int:
    """The tariff agreed with the clients still in the funnel (the contract is drafted
    from it); cards that already have terms keep them."""
    cards = list(ClientCard.objects.filter(stage__in=OPEN_FUNNEL, terms__isnull=True)
                 .only("pk", "kind", "connection_type", "lead_manager_id").order_by("pk"))
    for start in range(0, len(cards), BATCH):
        _agree_terms([(card, _tariff_for(card, tariffs, rng), None)
                      for card in cards[start:start + BATCH]], rng)
    return len(cards)


def _update(model, columns, rows) -> None:
    from connections.management.commands.seed_demo import update_rows

    for start in range(0, len(rows), BATCH):
        update_rows(model, columns, rows[start:start + BATCH])


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
