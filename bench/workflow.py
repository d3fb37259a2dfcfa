"""Server time of the client card page for a client with five years of history and of the
pipeline board with 10,000 open cards (issue 4's benchmark), with their SQL query counts.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/ispcrm_bench
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo --clients 20000
    .venv/bin/python -m bench.workflow [--repeat 20]

The first run adds what the demo lacks (bulk, idempotent, then ANALYZE): open cards in the
first branch up to 10,000, and one client, «Пятилетний Клиент», with 60 months of charges
and payments, tariff changes, 40 card edits and the whole stage log. Runs in-process through
Django's test client signed in as the demo `manager`; prints the median and 95th percentile.
Figures go to docs/BENCHMARKS.md; nothing here asserts a time."""

import argparse
import datetime as dt
import os
import random
import statistics
import time
from decimal import Decimal

OPEN_CARDS = 10_000
FIVE_YEAR_NAME = "Пятилетний Клиент"


def add_open_cards(branch, manager) -> int:
    from django.utils import timezone

    from connections.models import OPEN_STAGES, Building, ClientCard

    have = ClientCard.objects.filter(branch=branch, stage__in=OPEN_STAGES).count()
    if have >= OPEN_CARDS:
        return 0
    rng = random.Random(4)
    buildings = list(Building.objects.filter(street__city=branch.city).values_list("pk",
                                                                                 flat=True))
    now = timezone.now()
    cards = []
    for n in range(OPEN_CARDS - have):
        card = ClientCard(
            name=f"Открытый Клиент {n}", phone=f"+7999{n:07d}", building_id=rng.choice(
                buildings), premises=str(rng.randint(1, 200)), branch=branch,
            lead_manager=manager, stage=rng.choice(OPEN_STAGES),
            stage_changed_at=now - dt.timedelta(hours=rng.randint(1, 24 * 40)))
        card.search_text = card.name.casefold()
        cards.append(card)
    ClientCard.objects.bulk_create(cards, batch_size=5000)
    return len(cards)


def five_year_client(branch, manager):
    """A client active since five years ago with its whole history (idempotent)."""
    from django.db import connection
    from django.utils import timezone

    from billing.models import Account, LedgerEntry, Payment, Subscription, Tariff
    from connections.models import Building, ClientCard, Stage, StageLog
    from connections.services.clients import client_update

    card = ClientCard.objects.filter(name=FIVE_YEAR_NAME).first()
    if card is not None:
        return card
    now = timezone.now()
    start = (now - dt.timedelta(days=5 * 365)).replace(day=1)
    card = ClientCard.objects.create(
        name=FIVE_YEAR_NAME, phone="+79990000001", branch=branch, lead_manager=manager,
        building=Building.objects.filter(street__city=branch.city).first(), premises="1",
        stage=Stage.ACTIVE, stage_changed_at=start, activated_at=start, fee_paid_at=start)
    steps = [("request_expertise", "commercial", "expertise"),
             ("record_expertise", "expertise", "contract"),
             ("sign_contract", "contract", "installation"),
             ("schedule_installation", "installation", "installation"),
             ("complete_installation", "installation", "activation"),
             ("activate", "activation", "active")]
    StageLog.objects.bulk_create(
        StageLog(card=card, transition=name, source=source, target=target, actor=manager,
                 at=start - dt.timedelta(days=10 - i), summary=name)
        for i, (name, source, target) in enumerate(steps))
    tariffs = list(Tariff.objects.order_by("pk")[:5])
    account = Account.objects.create(number=str(10_000_000 + card.pk), client=card,
                                     status="active", activated_on=start.date())
    for i, tariff in enumerate(tariffs):
        Subscription.objects.create(
            account=account, tariff=tariff, start=(start + dt.timedelta(days=365 * i)).date(),
            end=(start + dt.timedelta(days=365 * (i + 1))).date() if i < 4 else None)
    entries, payments, balance = [], [], Decimal("0")
    for month in range(60):
        day = (start + dt.timedelta(days=31 * month)).replace(day=1)
        entries.append(LedgerEntry(account=account, kind="charge", amount=Decimal("-600.00"),
                                   period=day.date(), charge_kind="monthly_fee",
                                   idem_key=f"fee:{day:%Y-%m}", description="Абонентская плата",
                                   created_at=day))
        payment = Payment(account=account, amount=Decimal("600.00"), channel="cash",
                          external_id=f"bench-5y-{month}", paid_at=day)
        payments.append(payment)
    Payment.objects.bulk_create(payments)
    for payment in payments:
        entries.append(LedgerEntry(account=account, kind="payment", amount=payment.amount,
                                   payment=payment, idem_key=f"pay:{payment.pk}",
                                   description="Платёж", created_at=payment.paid_at))
    LedgerEntry.objects.bulk_create(entries)
    balance = sum(e.amount for e in entries)
    Account.objects.filter(pk=account.pk).update(balance=balance)
    for i in range(40):
        client_update(card=card, actor=manager, notes=f"Звонок {i}: всё работает")
    connection.close()
    return card


def measure(client, path: str, repeat: int):
    from django.db import connection

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):  # survives the reconnect at request start
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from connections.models import OPEN_STAGES, ClientCard
    from connections.selectors import client_history
    from ispcrm.models import User

    settings.ALLOWED_HOSTS = ["*"]
    manager = User.objects.get(username="manager")
    branch = manager.branch
    added = add_open_cards(branch, manager)
    card = five_year_client(branch, manager)
    if added and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
    history = len(client_history(card, manager))
    page = Client()
    page.force_login(manager)
    open_cards = ClientCard.objects.filter(branch=branch, stage__in=OPEN_STAGES).count()
    print(f"{ClientCard.objects.count()} cards, {open_cards} open in {branch} (added {added});"
          f" the five-year client has {history} history events")
    print(f"{'page':44} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for label, path in [("client card, 5 years of history", f"/clients/{card.pk}/"),
                        ("pipeline board, 10,000 open cards", reverse("connections:pipeline")),
                        ("pipeline, overdue only", reverse("connections:pipeline")
                         + "?overdue=1")]:
        median, p95, count = measure(page, path, args.repeat)
        print(f"{label:44} {median:10.1f} {p95:8.1f} {count:8d}")


if __name__ == "__main__":
    main()
