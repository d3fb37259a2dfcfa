"""Server time of the first-diagnosis screens (M6) for a building with 500 clients: the
building page and ``GET /api/v1/buildings/{id}/clients/`` (issue 5's benchmark).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/ispcrm_bench100   # seed_demo 100000
    DEBUG=0 SECRET_KEY=x .venv/bin/python -m bench.building [--repeat 30]

The first run gives the building with the most clients 500 of them (bulk, idempotent, then
ANALYZE), with accounts and an open ticket for every tenth. In-process through Django's test
client as the demo `support` user; prints the median, the 95th percentile and the query
count. Figures go to docs/BENCHMARKS.md; nothing here asserts a time."""

import argparse
import os

from bench.workflow import measure

CLIENTS = 500


def fill(building, manager) -> int:
    """Cards (active, with accounts) until the building has ``CLIENTS``."""
    from billing.models import Account
    from connections.models import ClientCard
    from tickets.models import Category, Ticket

    missing = CLIENTS - building.clients.count()
    if missing <= 0:
        return 0
    cards = []
    for n in range(missing):
        card = ClientCard(name=f"Житель Дома {n}", phone=f"+7998{n:07d}", building=building,
                          premises=f"кв. {n + 1}", branch=manager.branch,
                          lead_manager=manager, stage="active")
        card.search_text = card.name.casefold()
        cards.append(card)
    ClientCard.objects.bulk_create(cards)
    Account.objects.bulk_create(
        Account(number=str(20_000_000 + card.pk), client=card, status="active")
        for card in cards)
    category = Category.objects.order_by("pk").first()
    if category is not None:
        Ticket.objects.bulk_create(
            Ticket(client=card, branch=manager.branch, category=category, channel="phone",
                   subject="Нет связи") for card in cards[::10])
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from connections.models import Building, ClientCard
    from ispcrm.models import User

    settings.ALLOWED_HOSTS = ["*"]
    manager = User.objects.get(username="manager")
    building = Building.objects.annotate(n=Count("clients")).order_by("-n", "pk").first()
    added = fill(building, manager)
    if added and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    user = User.objects.get(username="support")
    page = Client()
    page.force_login(user)
    token, _ = Token.objects.get_or_create(user=user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    print(f"{ClientCard.objects.count()} cards; building {building} has "
          f"{building.clients.count()} clients (added {added})")
    print(f"{'path':52} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for client, path in [(page, f"/buildings/{building.pk}/"),
                         (api, f"/api/v1/buildings/{building.pk}/clients/?page_size=500")]:
        median, p95, count = measure(client, path, args.repeat)
        print(f"{path:52} {median:10.1f} {p95:8.1f} {count:8d}")


if __name__ == "__main__":
    main()
