"""Load on POST /api/v1/payments/ under gunicorn, on loopback only, bounded in time.

    DATABASE_URL=postgres://… .venv/bin/python -m bench.payments_load [--seconds 30]
        [--clients 8] [--workers 4] [--port 8055]

Starts gunicorn (DEBUG off) on 127.0.0.1, sends payments with unique external ids to random
active accounts from N client threads over keep-alive connections, and every 10th request
repeats an earlier one (a retried delivery, which must not credit twice). Then it checks the
database: exactly one payment per distinct external id accepted, no extra credits, and
balance == sum(entries) for every account."""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8055)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from billing.models import Account, Payment
    from billing.services.ledger import balance_mismatches
    from ispcrm.models import User

    user = User.objects.get(username="manager")
    token = Token.objects.get_or_create(user=user)[0].key
    numbers = list(Account.objects.filter(status="active").values_list("number", flat=True)
                   [:20000])
    payments_before = Payment.objects.count()
    run_id = f"load-{int(time.time())}"

    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ispcrm.wsgi:application", "--bind",
         f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env)
    try:
        _wait_for(args.port)
        latencies: list[float] = []
        accepted: set[str] = set()
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def client(n: int) -> None:
            rng = random.Random(n)
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            sent: list[dict] = []
            i = 0
            while time.monotonic() < deadline:
                i += 1
                if sent and i % 10 == 0:
                    body = rng.choice(sent)  # a retried delivery
                else:
                    body = {"account": rng.choice(numbers), "amount": f"{rng.randint(1, 3000)}.00",
                            "external_id": f"{run_id}-{n}-{i}", "channel": "terminal"}
                    sent.append(body)
                started = time.perf_counter()
                conn.request("POST", "/api/v1/payments/", json.dumps(body),
                             {"Authorization": f"Token {token}",
                              "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status in (200, 201):
                        accepted.add(body["external_id"])
                    else:
                        errors.append(f"{response.status}")
            conn.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    latencies.sort()
    created = Payment.objects.filter(external_id__startswith=run_id).count()
    print(f"{len(latencies)} requests in {wall:.1f} s from {args.clients} clients, "
          f"{args.workers} gunicorn workers: {len(latencies) / wall:.0f} req/s")
    print(f"latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms; errors {len(errors)}")
    print(f"distinct payments accepted {len(accepted)}, in the database {created} "
          f"(total payments {payments_before} → {Payment.objects.count()}); "
          f"balance mismatches {balance_mismatches().count()}")
    if created != len(accepted) or balance_mismatches().exists():
        sys.exit("payments were lost or duplicated")


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    main()
