"""Server-side time of the hot staff pages and API calls on whatever data the database has.

    DATABASE_URL=postgres://… .venv/bin/python -m bench.pages [--repeat 20]

Runs in-process through Django's test client (no network, no browser), signed in as the demo
`manager`, and prints the median and 95th percentile per path. Figures go to
docs/BENCHMARKS.md; nothing here asserts a time."""

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--user", default="manager")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from connections.models import Building, ClientCard
    from ispcrm.models import User

    settings.ALLOWED_HOSTS = ["*"]
    user = User.objects.get(username=args.user)
    card = ClientCard.objects.order_by("pk")[ClientCard.objects.count() // 2]
    building = Building.objects.get(pk=card.building_id)
    token, _ = Token.objects.get_or_create(user=user)
    page = Client()
    page.force_login(user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    paths = [
        (page, "/"),
        (page, "/clients/"),
        (page, "/clients/?stage=active&page=50"),
        (page, f"/clients/search/?q={card.name.split()[0][:5]}"),
        (page, f"/clients/search/?q={card.phone[2:8]}"),
        (page, f"/clients/{card.pk}/"),
        (page, f"/buildings/{building.pk}/"),
        (api, f"/api/v1/clients/{card.pk}/"),
        (api, f"/api/v1/buildings/{building.pk}/clients/"),
        (api, "/api/v1/clients/?page_size=100"),
    ]
    print(f"{ClientCard.objects.count()} cards, {Building.objects.count()} buildings, "
          f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(f"{'path':60} {'median ms':>10} {'p95 ms':>8}")
    for client, path in paths:
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        timings.sort()
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        print(f"{path:60} {statistics.median(timings):10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
