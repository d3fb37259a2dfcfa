"""CPU and queries of one POST /api/v1/payments/, in-process (issue 3).

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python -m bench.payments_profile
        [--requests 400] [--debtors] [--profile out.prof] [--sql]

Calls the WSGI application itself (every middleware, token auth, the view, the handlers)
with DEBUG off, one fresh payment to a random active account per request. Reports, per
request, the median and mean CPU of this process, the CPU of its PostgreSQL backend (from
/proc, so the server must be on this machine), and the query count. A wall clock on a busy
machine measures the neighbours; CPU time is what throughput is bounded by here.
``--debtors`` pays only into accounts in debt (the settling path), ``--profile`` writes a
cProfile of all requests, ``--sql`` prints one request's queries."""

import argparse
import io
import json
import os
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--debtors", action="store_true")
    parser.add_argument("--profile", default="")
    parser.add_argument("--sql", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from billing.models import Account
    from ispcrm.models import User

    app = get_wsgi_application()
    token = Token.objects.get_or_create(user=User.objects.get(username="manager"))[0].key
    accounts = Account.objects.filter(status="active")
    if args.debtors:
        accounts = accounts.filter(balance__lt=-1000)
    numbers = list(accounts.order_by("?").values_list("number", flat=True)[:args.requests])
    run = f"prof-{int(time.time())}"

    def request(i: int) -> None:
        body = json.dumps({"account": numbers[i % len(numbers)], "amount": "1.00",
                           "external_id": f"{run}-{i}", "channel": "terminal"}).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/payments/", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Token {token}", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "wsgi.version": (1, 0)}
        status = []
        chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
        b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        if not status[0].startswith("201"):
            sys.exit(f"request {i}: {status[0]} {b''.join(chunks)!r}")

    request(0)  # warm: connection, permission cache, imports
    backend = _backend_pid(connection)
    with CaptureQueriesContext(connection) as context:
        request(1)
    queries = list(context.captured_queries)  # the next request resets the log
    if args.sql:
        for query in queries:
            print(query["sql"][:300])
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not the neighbours
    own, pg = [], []
    statements = []
    connection.execute_wrappers.append(
        lambda execute, *a: statements.append(1) or execute(*a))  # BEGIN, COMMIT not seen
    for i in range(2, args.requests):
        cpu, pg_cpu = time.process_time(), _cpu_of(backend)
        if profiler:
            profiler.enable()
        request(i)
        if profiler:
            profiler.disable()
        own.append(time.process_time() - cpu)
        pg.append(_cpu_of(backend) - pg_cpu)
    if profiler:
        profiler.dump_stats(args.profile)
    ms = 1000
    print(f"{len(own)} payments, {len(statements) / len(own):.2f} statements each + BEGIN and "
          f"COMMIT (the first: {len(queries)} with them); CPU per request in ms: Django "
          f"median {statistics.median(own) * ms:.2f} mean {statistics.mean(own) * ms:.2f}; "
          f"PostgreSQL backend mean {statistics.mean(pg) * ms:.2f} "
          f"(sum of means {(statistics.mean(pg) + statistics.mean(own)) * ms:.2f})")


def _backend_pid(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (its /proc stat: clock ticks)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
