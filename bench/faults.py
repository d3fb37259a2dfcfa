"""Faults injected into a running stack (issue 8, "Faults"), on loopback, bounded in time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5433/faults REDIS_URL=redis://127.0.0.1:6380/0 \\
        .venv/bin/python -m bench.faults [--only NAME] [--pg-cluster 15/faults]

Starts gunicorn (DEBUG off, persistent database connections) and a Celery worker against
DATABASE_URL and REDIS_URL, injects each fault, checks the outcome in the database and prints
PASS/FAIL per fault with its figures (docs/RESILIENCE.md records them). The faults:

- ``redis``: Redis is shut down (its queue lost: it has no persistence) for 12 s while
  payments (API and cash desk), card edits and card pages arrive and an export is asked for;
  then started again. Every request must succeed, no payment be lost or doubled, and the
  export asked for during the outage be built once the sweep has sent it again.
- ``redis-hang``: the same with Redis frozen (SIGSTOP) instead: it accepts connections and
  never answers, which only the socket timeouts stop.
- ``worker-charges``: the monthly charge run is killed (SIGKILL to the worker, then to
  ``manage.py run_charges``) half-way and run again: every account charged once, none
  twice, ``check_balances`` clean.
- ``worker-export``: a 100,000-row export is killed half-way; the sweep queues it again and
  a new worker builds it whole. Killed a second time it fails with a word for the user.
- ``postgres-restart``: PostgreSQL is restarted during traffic; gunicorn and the worker go on
  without a restart of their own.
- ``parallel-delivery``: one bank statement uploaded twice at once and one gateway callback
  delivered ten times at once, over HTTP to gunicorn: credited once.

The database must be migrated and seeded (``seed_demo --clients 100000``: the export fault
needs 100,000 accounts). Stopping Redis and restarting PostgreSQL hit everything that uses
them, so the script refuses the default ports 6379 and 5432: give it a Redis and a PostgreSQL
cluster of its own (docs/RESILIENCE.md shows how).
"""

import argparse
import datetime as dt
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTECTED_PORTS = {5432, 6379}  # the machine's shared servers: never stopped from here
FAULTS = ("redis", "redis-hang", "worker-charges", "worker-export", "postgres-restart",
          "parallel-delivery")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=FAULTS, action="append",
                        help="run only this fault (repeatable)")
    parser.add_argument("--pg-cluster", default="15/faults",
                        help="the pg_ctlcluster VERSION/NAME serving DATABASE_URL")
    parser.add_argument("--port", type=int, default=8056)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--logs", default=str(Path(tempfile.gettempdir()) / "faults-logs"))
    args = parser.parse_args()

    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    db, redis = urllib.parse.urlsplit(database_url), urllib.parse.urlsplit(redis_url)
    if db.scheme not in ("postgres", "postgresql") or redis.scheme != "redis":
        sys.exit("Set DATABASE_URL=postgres://… and REDIS_URL=redis://… (of your own servers).")
    if (db.port or 5432) in PROTECTED_PORTS or (redis.port or 6379) in PROTECTED_PORTS:
        sys.exit("Refusing to stop the shared PostgreSQL/Redis on the default ports: "
                 "start your own (docs/RESILIENCE.md).")

    media = Path(tempfile.mkdtemp(prefix="faults-media-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "ispcrm.settings.base", "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1", "MEDIA_ROOT": str(media), "LOG_LEVEL": "WARNING",
        "EXPORT_INLINE_ROWS": "0",  # every export through a job (the background path)
    })
    import django

    django.setup()
    stack = Stack(args, redis.port or 6379, Path(args.logs))
    results = []
    try:
        ctx = Context.load()
        for name in args.only or FAULTS:
            print(f"\n== {name} ==", flush=True)
            started = time.monotonic()
            try:
                ok, figures = RUNS[name](stack, ctx)
            except Exception as exc:  # a harness failure is a FAIL with its reason, not a crash
                ok, figures = False, [f"harness error: {exc.__class__.__name__}: {exc}"]
            finally:
                stack.stop_all()
            for line in figures:
                print(f"   {line}")
            print(f"{'PASS' if ok else 'FAIL'} {name} ({time.monotonic() - started:.0f} s)",
                  flush=True)
            results.append((name, ok))
    finally:
        stack.stop_all()
        redis_start(stack.redis_port)  # leave Redis as found: running
    print("\n" + "  ".join(f"{name}: {'PASS' if ok else 'FAIL'}" for name, ok in results))
    if not all(ok for _name, ok in results):
        sys.exit(1)


# --- The stack -----------------------------------------------------------------------------

class Stack:
    """gunicorn and Celery workers in process groups of their own (a kill takes a worker's
    pool children with it, as the OOM killer or a lost machine does)."""

    def __init__(self, args, redis_port: int, logs: Path):
        self.args, self.redis_port, self.logs = args, redis_port, logs
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.count = 0
        logs.mkdir(parents=True, exist_ok=True)

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (the child keeps it)
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def start_web(self) -> None:
        self.web = self._spawn("gunicorn", [
            sys.executable, "-m", "gunicorn", "ispcrm.wsgi:application", "--bind",
            f"127.0.0.1:{self.args.port}", "--workers", str(self.args.web_workers),
            "--timeout", "60", "--log-level", "warning"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=5)
                conn.request("GET", "/")
                if conn.getresponse().status < 500:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def web_pids(self) -> set[int]:
        out = subprocess.run(["pgrep", "-g", str(self.web.pid)], capture_output=True, text=True)
        return {int(pid) for pid in out.stdout.split()}

    def start_worker(self) -> subprocess.Popen:
        from ispcrm.celery import app

        self.count += 1
        name = f"faults{self.count}"
        worker = self._spawn(f"worker-{self.count}", [
            sys.executable, "-m", "celery", "-A", "ispcrm", "worker", "--pool", "prefork",
            "--concurrency", "1", "--hostname", f"{name}@%h", "--without-mingle",
            "--without-gossip", "-l", "warning"])
        self.workers.append(worker)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(key.startswith(f"{name}@") for reply in app.control.ping(timeout=1.0)
                   for key in reply):
                return worker
        raise RuntimeError("the worker did not answer a ping")

    def kill_worker(self, worker: subprocess.Popen) -> None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        self.workers.remove(worker)

    def stop_all(self) -> None:
        for proc in [*self.workers, *([self.web] if self.web else [])]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
        self.workers, self.web = [], None


def redis_stop(port: int) -> None:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)


def redis_start(port: int) -> None:
    if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                      text=True).stdout.strip() == "PONG":
        return
    subprocess.run(["redis-server", "--port", str(port), "--daemonize", "yes", "--save", "",
                    "--appendonly", "no"], check=True, capture_output=True)
    for _ in range(50):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                          text=True).stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    raise RuntimeError("Redis did not start")


def redis_unacked(port: int) -> int:
    """Messages a worker took and never acknowledged (kombu's ``unacked`` hash)."""
    out = subprocess.run(["redis-cli", "-p", str(port), "hlen", "unacked"],
                         capture_output=True, text=True).stdout.strip()
    return int(out or 0)


def fresh_db() -> None:
    """After a restart of PostgreSQL this process's own connection is dead too."""
    from django.db import connections

    for conn in connections.all():
        conn.close()


# --- Who and what the traffic uses ---------------------------------------------------------

@dataclass
class Context:
    token: str  # the manager's API token
    manager_cookie: str
    accountant_cookie: str
    numbers: list[str]  # active accounts
    cards: list[int]  # client cards with an account

    @classmethod
    def load(cls) -> "Context":
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from billing.models import Account
        from ispcrm.models import User

        manager = User.objects.get(username="manager")
        if not Account.objects.exists():
            raise SystemExit("The database has no accounts: seed_demo --clients 100000 first.")

        def cookie(user) -> str:
            client = Client()
            client.force_login(user)  # a database session: gunicorn reads the same row
            return client.cookies["sessionid"].value

        active = list(Account.objects.filter(status="active").order_by("pk")
                      .values_list("number", "client_id")[:5000])
        return cls(token=Token.objects.get_or_create(user=manager)[0].key,
                   manager_cookie=cookie(manager),
                   accountant_cookie=cookie(User.objects.get(username="admin")),
                   numbers=[n for n, _c in active], cards=[c for _n, c in active])


@dataclass
class Traffic:
    """Client threads over keep-alive connections until ``stop()``; every answer recorded
    with its time, and what each 2xx promised (a payment, an edit) for the checks after."""

    port: int
    ctx: Context
    run_id: str = field(default_factory=lambda: f"f{int(time.time())}")
    records: list = field(default_factory=list)  # (kind, started, status, seconds)
    payments: dict = field(default_factory=dict)  # external id → amount acknowledged
    notes: dict = field(default_factory=dict)  # card id → last notes acknowledged
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, kinds: list[str]) -> None:
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(kind, n), daemon=True)
                         for n, kind in enumerate(kinds)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def _request(self, conn_box: list, method: str, path: str, body=None, headers=None):
        conn = conn_box[0]
        try:
            conn.request(method, path, body, headers or {})
            response = conn.getresponse()
            return response.status, response.read(), response.getheader("Set-Cookie") or ""
        except (OSError, http.client.HTTPException):
            conn.close()
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 0, b"", ""

    def _record(self, kind: str, started: float, status: int) -> None:
        with self.lock:
            self.records.append((kind, started, status, time.monotonic() - started))

    def _loop(self, kind: str, n: int) -> None:
        conn = [http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)]
        api = {"Authorization": f"Token {self.ctx.token}", "Content-Type": "application/json"}
        staff = {"Cookie": f"sessionid={self.ctx.manager_cookie}"}
        sent: list[dict] = []
        i = 0
        # Each thread edits its own cards, so "the last acknowledged edit is in the
        # database" is a fair check.
        my_cards = self.ctx.cards[n::64][:50] or self.ctx.cards[:1]
        while not self._stop.is_set():
            i += 1
            number = self.ctx.numbers[(n * 7919 + i * 104729) % len(self.ctx.numbers)]
            started = time.monotonic()
            if kind == "payment":
                if sent and i % 10 == 0:
                    body = sent[(i // 10) % len(sent)]  # a retried delivery
                else:
                    body = {"account": number, "amount": f"{100 + i % 900}.00",
                            "external_id": f"{self.run_id}-{n}-{i}", "channel": "terminal"}
                    sent.append(body)
                status, _b, _c = self._request(conn, "POST", "/api/v1/payments/",
                                               json.dumps(body), api)
                if status in (200, 201):
                    with self.lock:
                        self.payments[body["external_id"]] = body["amount"]
            elif kind == "cashier":
                status = self._cash_payment(conn, number, staff)
            elif kind == "card-edit":
                card = my_cards[i % len(my_cards)]
                notes = f"faults {self.run_id} {n} {i}"
                status, _b, _c = self._request(conn, "PATCH", f"/api/v1/clients/{card}/",
                                               json.dumps({"notes": notes}), api)
                if status == 200:
                    with self.lock:
                        self.notes[card] = notes
            else:  # "card-page": the staff header reads the cache
                card = my_cards[i % len(my_cards)]
                status, _b, _c = self._request(conn, "GET", f"/clients/{card}/", None, staff)
            self._record(kind, started, status)
        conn[0].close()

    def _cash_payment(self, conn, number: str, staff: dict) -> int:
        status, body, cookie = self._request(conn, "GET", f"/billing/cashier/?account={number}",
                                             None, staff)
        page = body.decode(errors="replace")
        cash_id = re.search(r'name="cash_id" value="([^"]+)"', page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        csrf = re.search(r"csrftoken=([^;]+)", cookie)
        if status != 200 or not (cash_id and token and csrf):
            return status or 0
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token[1], "account": number,
                                       "cash_id": cash_id[1], "amount": "500",
                                       "channel": "cash", "comment": "faults"})
        status, body, _c = self._request(conn, "POST", "/billing/cashier/", form, {
            "Cookie": f"{staff['Cookie']}; csrftoken={csrf[1]}",
            "Content-Type": "application/x-www-form-urlencoded"})
        if status == 200 and b"cashier-result" in body:
            with self.lock:
                self.payments[cash_id[1]] = "500.00"
        elif status == 200:
            return 299  # answered, but no payment taken: counted as a failure
        return status

    def summary(self, since: float, until: float, label: str) -> tuple[str, int]:
        # By the moment the answer came: a request sent just before a fault fails in it.
        rows = [r for r in self.records if since <= r[1] + r[3] < until]
        bad = [r for r in rows if not 200 <= r[2] < 299]
        latencies = sorted(r[3] for r in rows) or [0.0]
        p95 = latencies[int(len(latencies) * 0.95)]
        statuses = sorted({r[2] for r in bad})
        return (f"{label}: {len(rows)} requests, {len(bad)} failed {statuses or ''}, "
                f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                f"max {latencies[-1] * 1000:.0f} ms"), len(bad)


def money_check(traffic: Traffic) -> tuple[bool, list[str]]:
    """Every acknowledged payment is in the database once with its amount; every account
    agrees with its ledger; every acknowledged card edit is saved."""
    from decimal import Decimal

    from billing.models import Payment
    from billing.services.ledger import balance_mismatches
    from connections.models import ClientCard

    fresh_db()
    stored = dict(Payment.objects.filter(external_id__in=list(traffic.payments))
                  .values_list("external_id", "amount"))
    lost = [key for key, amount in traffic.payments.items()
            if key not in stored or stored[key] != Decimal(amount)]
    run_payments = Payment.objects.filter(external_id__startswith=traffic.run_id).count()
    mismatches = balance_mismatches().count()
    saved = dict(ClientCard.objects.filter(pk__in=list(traffic.notes))
                 .values_list("pk", "notes"))
    edits_lost = [pk for pk, notes in traffic.notes.items() if saved.get(pk) != notes]
    ok = not lost and not mismatches and not edits_lost
    return ok, [f"payments acknowledged {len(traffic.payments)}, missing or wrong {len(lost)}, "
                f"API payments of this run in the database {run_payments}; balance "
                f"mismatches {mismatches}; card edits acknowledged {len(traffic.notes)}, "
                f"not saved {len(edits_lost)}"]


def wait_for(predicate, seconds: float, step: float = 0.5):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def export_job(kind: str, username: str = "admin", params: dict | None = None):
    from ispcrm.models import User
    from reports.exports import export_start

    return export_start(kind, params or {}, User.objects.get(username=username))


def job_state(pk: int):
    from reports.models import ExportJob

    fresh_db()
    return ExportJob.objects.values("status", "progress_done", "progress_total",
                                    "error").get(pk=pk)


TRAFFIC = ["payment", "payment", "cashier", "card-edit", "card-page", "card-page"]


# --- The faults ------------------------------------------------------------------------------

def redis_pid(port: int) -> int:
    info = subprocess.run(["redis-cli", "-p", str(port), "info", "server"],
                          capture_output=True, text=True).stdout
    return int(re.search(r"process_id:(\d+)", info)[1])


def fault_redis(stack: Stack, ctx: Context, hang: bool = False):
    """Redis shut down (it refuses connections) or, with ``hang``, frozen by SIGSTOP (it
    accepts them and never answers: the case that needs the socket timeouts)."""
    from django.utils import timezone

    from reports.exports import exports_resend
    from reports.models import ExportJob

    redis_start(stack.redis_port)
    stack.start_web()
    stack.start_worker()
    pid = redis_pid(stack.redis_port)
    traffic = Traffic(stack.args.port, ctx)
    traffic.start(TRAFFIC)
    t0 = time.monotonic()
    time.sleep(6)
    t_down = time.monotonic()
    try:
        if hang:
            os.kill(pid, signal.SIGSTOP)
        else:
            redis_stop(stack.redis_port)
        time.sleep(2)
        # An export asked for during the outage: the job is saved, its task cannot be sent.
        enqueue_started = time.monotonic()
        job = export_job("payments", params={"date_from": dt.date.today().isoformat()})
        enqueue_seconds = time.monotonic() - enqueue_started
        time.sleep(10)
    finally:
        t_up = time.monotonic()
        if hang:
            os.kill(pid, signal.SIGCONT)
        else:
            redis_start(stack.redis_port)
    time.sleep(8)
    traffic.stop()
    t_end = time.monotonic()

    figures = [traffic.summary(t0, t_down, "Redis up")[0]]
    line, failed_down = traffic.summary(
        t_down, t_up, f"Redis {'frozen' if hang else 'down'} ({t_up - t_down:.0f} s)")
    figures.append(line)
    line, failed_after = traffic.summary(t_up, t_end, "Redis back")
    figures.append(line)
    # Queued, or already built: a publish to a frozen Redis times out on our side, yet the
    # command may sit in the socket buffer and be executed once Redis wakes up.
    figures.append(f"export asked for meanwhile: the request took "
                   f"{enqueue_seconds:.2f} s, job {job_state(job.pk)['status']} after the outage")
    ok, money = money_check(traffic)
    figures += money
    # Beat's sweep after the stall period (its clock moved on): the task is sent again.
    resent = exports_resend(timezone.now() + dt.timedelta(minutes=11))
    done = wait_for(lambda: job_state(job.pk)["status"] == ExportJob.Status.DONE, 120)
    figures.append(f"sweep sent {resent} queued export(s) again; export "
                   f"{job_state(job.pk)['status']} ({job_state(job.pk)['progress_done']} rows)")
    return ok and not failed_down and not failed_after and bool(done), figures


def _next_period():
    from django.db.models import Max

    from billing.models import LedgerEntry
    from billing.money import month_start, next_month_start

    fresh_db()
    last = LedgerEntry.objects.filter(charge_kind="monthly_fee").aggregate(p=Max("period"))["p"]
    today_next = next_month_start(dt.date.today())
    return max(next_month_start(month_start(last)), today_next) if last else today_next


def _charge_counts(period):
    """(fee rows of the period, active accounts with a paid subscription in force — what
    the run charges, a 100 % discount aside —, accounts charged twice)."""
    from django.db.models import Count, Q

    from billing.models import Account, LedgerEntry

    fresh_db()
    fees = LedgerEntry.objects.filter(period=period, charge_kind="monthly_fee")
    due = (Account.objects.filter(status="active", subscriptions__start__lte=period,
                                  subscriptions__tariff__monthly_fee__gt=0)
           .filter(Q(subscriptions__end__isnull=True) | Q(subscriptions__end__gt=period))
           .exclude(subscriptions__discount_percent=100).distinct().count())
    doubled = (fees.values("account_id").annotate(n=Count("id")).filter(n__gt=1).count())
    return fees.count(), due, doubled


def _check_balances() -> tuple[bool, str]:
    done = subprocess.run([sys.executable, "manage.py", "check_balances"], cwd=ROOT,
                          capture_output=True, text=True)
    return done.returncode == 0, (done.stdout or done.stderr).strip().splitlines()[-1]


def workers_idle() -> bool:
    from ispcrm.celery import app

    replies = app.control.inspect(timeout=1.0).active() or {}
    return bool(replies) and not any(replies.values())


def _nothing_left(period) -> int:
    """What one more run of the month adds: 0 when nothing was missing."""
    from billing.services.charges import charge_run

    fresh_db()
    return charge_run(day=period).total


def _kill_mid_run(period, kill, label: str, figures: list[str]) -> bool:
    """Wait until part of the run is committed, kill it; True if it died half-way."""
    total = _charge_counts(period)[1]
    seen = wait_for(lambda: 0 < _charge_counts(period)[0] < total * 0.8, 120, 0.1)
    if not seen:
        figures.append(f"{label}: never caught half-way ({_charge_counts(period)[0]} of {total})")
        return False
    kill()
    time.sleep(1)
    at_kill, due, doubled = _charge_counts(period)
    balances_ok, balances = _check_balances()
    figures.append(f"{label}: killed with {at_kill} of {due} fees committed; balances after "
                   f"the kill: {balances}")
    return balances_ok and 0 < at_kill < due and not doubled


def fault_worker_charges(stack: Stack, ctx: Context):
    from ispcrm.celery import app

    figures: list[str] = []
    ok = True
    # 1. The Celery task (beat's daily job), its worker killed.
    period = _next_period()
    worker = stack.start_worker()
    started = time.monotonic()
    app.send_task("billing.tasks.run_charges", args=[period.isoformat()])
    ok &= _kill_mid_run(period, lambda: stack.kill_worker(worker),
                        f"task run_charges {period:%Y-%m}", figures)
    figures.append(f"the killed task's message is still held by Redis (acks late): "
                   f"{redis_unacked(stack.redis_port)} unacknowledged")
    stack.start_worker()
    at_kill = _charge_counts(period)[0]
    app.send_task("billing.tasks.run_charges", args=[period.isoformat()])  # beat, next day
    wait_for(lambda: _charge_counts(period)[0] > at_kill and workers_idle(), 600, 1)
    fees, due, doubled = _charge_counts(period)
    left = _nothing_left(period)
    balances_ok, balances = _check_balances()
    figures.append(f"after the re-run ({time.monotonic() - started:.0f} s from the start): "
                   f"{fees} fees for {due} accounts due, {doubled} charged twice, one more "
                   f"run adds {left}; {balances}")
    ok &= fees >= due and not doubled and not left and balances_ok
    stack.stop_all()

    # 2. manage.py run_charges, killed and run again by hand.
    period = _next_period()
    command = [sys.executable, "manage.py", "run_charges", "--date", period.isoformat()]
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)

    def kill_command():
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    ok &= _kill_mid_run(period, kill_command, f"manage.py run_charges {period:%Y-%m}", figures)
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    fees, due, doubled = _charge_counts(period)
    left = _nothing_left(period)
    balances_ok, balances = _check_balances()
    figures.append(f"re-run: {again.stdout.strip()} ({time.monotonic() - started:.0f} s from "
                   f"the start); {fees} fees for {due} due, {doubled} charged twice, one more "
                   f"run adds {left}; {balances}")
    ok &= again.returncode == 0 and fees >= due and not doubled and not left and balances_ok
    return ok, figures


def fault_worker_export(stack: Stack, ctx: Context):
    from django.utils import timezone

    from reports.exports import exports_sweep
    from reports.models import ExportJob

    figures: list[str] = []
    worker = stack.start_worker()
    started = time.monotonic()
    job = export_job("clients")
    wait_for(lambda: job_state(job.pk)["progress_done"] >= 20000, 300)
    stack.kill_worker(worker)
    state = job_state(job.pk)
    figures.append(f"worker killed at row {state['progress_done']} of "
                   f"{state['progress_total']}: the job says {state['status']}")
    stack.start_worker()
    # Beat sweeps every 5 minutes; a job whose progress has not moved over two sweeps
    # EXPORT_STALL_MINUTES apart is taken as dead and queued again. The clock is moved on.
    now = timezone.now()
    first = exports_sweep(now + dt.timedelta(minutes=11))
    second = exports_sweep(now + dt.timedelta(minutes=22))
    figures.append(f"sweeps: {first}, then {second}")
    done = wait_for(lambda: job_state(job.pk)["status"] in ("done", "failed"), 600, 1)
    state = job_state(job.pk)
    rows_ok = state["progress_done"] == state["progress_total"] and state["progress_total"]
    figures.append(f"rebuilt: {state['status']}, {state['progress_done']} of "
                   f"{state['progress_total']} rows ({time.monotonic() - started:.0f} s from "
                   f"the start)")
    ok = bool(done) and state["status"] == "done" and bool(rows_ok) and second["requeued"] == 1

    # Killed on both tries: it fails, with a word for the user.
    job2 = export_job("clients")
    for _try in range(2):
        wait_for(lambda: job_state(job2.pk)["progress_done"] >= 5000, 300)
        stack.kill_worker(stack.workers[-1])
        stack.start_worker()
        now = timezone.now()
        exports_sweep(now + dt.timedelta(minutes=11))
        verdict = exports_sweep(now + dt.timedelta(minutes=22))
    state = job_state(job2.pk)
    figures.append(f"a job killed on its last try: {verdict}, status {state['status']}, "
                   f"the page says «{state['error']}»")
    ok &= state["status"] == ExportJob.Status.FAILED and bool(state["error"])
    return ok, figures


def fault_postgres_restart(stack: Stack, ctx: Context):
    from reports.models import ExportJob

    redis_start(stack.redis_port)
    stack.start_web()
    stack.start_worker()
    pids_before = stack.web_pids()
    traffic = Traffic(stack.args.port, ctx)
    traffic.start(TRAFFIC)
    t0 = time.monotonic()
    time.sleep(6)
    t_restart = time.monotonic()
    subprocess.run(["pg_ctlcluster", *stack.args.pg_cluster.split("/"), "restart",
                    "-m", "fast"], check=True, capture_output=True)
    t_back = time.monotonic()
    time.sleep(12)
    traffic.stop()
    t_end = time.monotonic()
    fresh_db()
    figures = [traffic.summary(t0, t_restart, "before the restart")[0]]
    figures.append(traffic.summary(t_restart, t_back + 2,
                                   f"restart ({t_back - t_restart:.1f} s) + 2 s")[0])
    line, failed_after = traffic.summary(t_back + 2, t_end, "after")
    figures.append(line)
    ends = [r[1] + r[3] for r in traffic.records if not 200 <= r[2] < 299]
    if ends:
        figures.append(f"failed answers from {min(ends) - t_restart:+.1f} s to "
                       f"{max(ends) - t_restart:+.1f} s after the restart began; the server "
                       f"was accepting again at {t_back - t_restart:+.1f} s")
    pids_after = stack.web_pids()
    figures.append(f"gunicorn processes the same: {pids_before == pids_after} "
                   f"({len(pids_after)})")
    # The worker's connection died with the server too: its next task must still run.
    job = export_job("payments", params={"date_from": dt.date.today().isoformat()})
    done = wait_for(lambda: job_state(job.pk)["status"] == ExportJob.Status.DONE, 120)
    figures.append(f"a task sent to the worker after the restart: {job_state(job.pk)['status']}")
    ok, money = money_check(traffic)
    figures += money
    return ok and not failed_after and pids_before == pids_after and bool(done), figures


def _statement(docs: list[tuple[str, str, str]]) -> bytes:
    """A 1CClientBankExchange file: (document number, amount, purpose) per incoming payment."""
    ours = "40702810200000000001"
    lines = ["1CClientBankExchange", "ВерсияФормата=1.03", "Кодировка=Windows",
             "Отправитель=Сбербанк Бизнес Онлайн", f"ДатаНачала={dt.date.today():%d.%m.%Y}",
             f"ДатаКонца={dt.date.today():%d.%m.%Y}", f"РасчСчет={ours}", "СекцияРасчСчет",
             f"РасчСчет={ours}", "НачальныйОстаток=0.00", "КонецРасчСчет"]
    for number, amount, purpose in docs:
        lines += ["СекцияДокумент=Платежное поручение", f"Номер={number}",
                  f"Дата={dt.date.today():%d.%m.%Y}", f"Сумма={amount}",
                  "ПлательщикСчет=40817810099910004312", "ПлательщикИНН=",
                  "Плательщик1=Иванов Иван Иванович", f"ПолучательСчет={ours}",
                  f"НазначениеПлатежа={purpose}", "КонецДокумента"]
    lines.append("КонецФайла")
    return "\r\n".join(lines).encode("cp1251")


def _parallel(count: int, work) -> list:
    results: list = []
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        results.append(work(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body, headers)
    response = conn.getresponse()
    data = response.read()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, {}


def fault_parallel_delivery(stack: Stack, ctx: Context):
    from decimal import Decimal

    from rest_framework.authtoken.models import Token

    from billing.gateways.test import TestGateway
    from billing.models import Account, Payment
    from billing.services.ledger import balance_mismatches
    from billing.services.online import topup_start
    from ispcrm.models import User

    redis_start(stack.redis_port)
    stack.start_web()
    port = stack.args.port
    figures: list[str] = []
    stamp = int(time.time())
    # One statement, ten documents for ten accounts, uploaded twice at the same moment.
    numbers = ctx.numbers[100:110]
    before = {n: Account.objects.get(number=n).balance for n in numbers}
    data = _statement([(f"{stamp % 100000}{i:02d}", "123.45", f"л/с {n}")
                       for i, n in enumerate(numbers)])
    boundary = "faultsboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"statement-{stamp}.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    token = Token.objects.get_or_create(user=User.objects.get(username="admin"))[0].key
    headers = {"Authorization": f"Token {token}",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    answers = _parallel(2, lambda _i: _post(port, "/api/v1/bank-statements/", body, headers))
    fresh_db()
    after = {n: Account.objects.get(number=n).balance for n in numbers}
    credited_once = all(after[n] - before[n] == Decimal("123.45") for n in numbers)
    imported = sorted(a[1].get("imported") for a in answers)
    figures.append(f"statement of 10 documents uploaded twice at once: answers "
                   f"{sorted(a[0] for a in answers)}, imported {imported}; each account "
                   f"credited once: {credited_once}")
    ok = [a[0] for a in answers] == [201, 201] and imported == [0, 10] and credited_once

    # A gateway callback delivered ten times at once.
    account = Account.objects.get(number=ctx.numbers[200])
    start_balance = account.balance
    online, _url = topup_start(account=account, amount="777.00", actor=None,
                               site_url=f"http://127.0.0.1:{port}/",
                               return_url=lambda o: f"http://127.0.0.1:{port}/my/")
    session = {"order_id": str(online.public_id), "payment_id": online.gateway_payment_id,
               "amount": f"{online.amount:.2f}"}
    callback, callback_headers = TestGateway().callback(session, status="succeeded")
    answers = _parallel(10, lambda _i: _post(port, "/billing/gateway/test/callback/", callback,
                                             {**callback_headers,
                                              "Content-Type": "application/json"}))
    fresh_db()
    credited = sum(bool(a[1].get("credited")) for a in answers)
    moved = Account.objects.get(pk=account.pk).balance - start_balance
    payments = Payment.objects.filter(
        external_id=f"{online.gateway}:{online.gateway_payment_id}").count()
    figures.append(f"callback delivered 10 times at once: answers "
                   f"{sorted({a[0] for a in answers})}, credited {credited}, balance moved by "
                   f"{moved}, payments {payments}")
    mismatches = balance_mismatches().count()
    figures.append(f"balance mismatches {mismatches}")
    ok = ok and {a[0] for a in answers} == {200} and credited == 1 \
        and moved == Decimal("777.00") and not mismatches
    return ok, figures


RUNS = {"redis": fault_redis, "redis-hang": lambda stack, ctx: fault_redis(stack, ctx, True),
        "worker-charges": fault_worker_charges,
        "worker-export": fault_worker_export, "postgres-restart": fault_postgres_restart,
        "parallel-delivery": fault_parallel_delivery}


if __name__ == "__main__":
    main()
