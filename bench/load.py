"""Mixed traffic under gunicorn for a bounded time, on loopback only, then a ledger check.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python -m bench.load
        [--seconds 60] [--warmup 5] [--clients 8] [--workers 3] [--threads 1] [--port 8056]

Starts gunicorn (DEBUG off) on 127.0.0.1 and runs N virtual users, each in its own thread
with its own session, in turn of four kinds:

- manager: signs in on the staff login form once, then: client list, search, a client card,
  its building, the cashier form for its account and a cash payment posted from it (every
  10th form posted twice, as a double click);
- cabinet: a subscriber signing in to the personal cabinet with his account number and a
  password (the setup gives the chosen subscribers one), then home, history, tariff;
- api: POST /api/v1/payments/ with a token, every 10th a repeated delivery of an earlier one;
- support: signs in, then the group's ticket queue and a ticket.

A request counts as an error when its status is not the one the page gives a signed-in user
(so a redirect to the login page is one), when it times out or the connection fails, or when
a payment form does not show its result. Afterwards the database must hold every payment
that got a 200/201 exactly once with its amount and account, no payment the script did not
send, one ledger posting per payment, and balance == sum(entries) for every account. The exit
status is non-zero on any error or mismatch.

``prepare``, ``run``, ``verify`` and ``report`` are the parts; tests run them against
Django's live server (tests/ispcrm/test_load_script.py)."""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("manager", "cabinet", "api", "support")
REPEAT_EVERY = 10
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CASH_ID = re.compile(rb'name="cash_id" value="([^"]+)"')
CASHIER_RESULT = b"cashier-result"  # the block the cashier sees after a payment


@dataclass(frozen=True)
class Card:
    pk: int
    building: int
    account: str
    search: str  # what a manager types to find him: part of the name or of the phone


@dataclass
class Target:
    """What the virtual users work on, read from the database before the run."""

    manager: str
    support: str
    staff_password: str
    token: str  # the payments API's
    cards: list[Card]
    accounts: list[str]  # account numbers the payments API credits
    tickets: list[int]
    subscribers: list[str]  # account numbers with a cabinet password
    subscriber_password: str
    max_payment: int  # payments above this primary key were made during the run


@dataclass
class Outcome:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    # (channel, external id) → (account number, amount) of every payment sent…
    sent: dict[tuple[str, str], tuple[str, Decimal]] = field(default_factory=dict)
    accepted: set[tuple[str, str]] = field(default_factory=set)  # …and those answered 200/201
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # share of the machine, 0…1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, label: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[label].append(seconds)
            if error:
                self.errors[label] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{label}: {error}")

    def payment(self, channel: str, external_id: str, account: str, amount: Decimal,
                accepted: bool) -> None:
        with self.lock:
            self.sent[(channel, external_id)] = (account, amount)
            if accepted:
                self.accepted.add((channel, external_id))

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


# --- Setup -----------------------------------------------------------------------------------


def prepare(*, clients: int, manager: str = "manager", support: str = "support",
            staff_password: str | None = None, seed: int = 1) -> Target:
    """Pick the data and give one subscriber per cabinet user a password. Needs Django set
    up; the cabinet logins it makes are kept (run it on a copy of the database)."""
    from django.contrib.auth.hashers import make_password
    from django.db.models import Max
    from rest_framework.authtoken.models import Token

    from billing.models import Account, Payment
    from cabinet.services.auth import login_for
    from connections.management.commands.seed_demo import DEMO_PASSWORD
    from connections.models import ClientCard
    from ispcrm.models import User
    from tickets.models import Ticket

    rng = random.Random(seed)
    token = Token.objects.get_or_create(user=User.objects.get(username=manager))[0].key
    active = list(Account.objects.filter(status=Account.Status.ACTIVE)
                  .values_list("number", "client_id"))
    if not active:
        raise SystemExit("no active accounts: seed the database first (seed_demo)")
    picked = rng.sample(active, min(len(active), 2000))
    numbers = {client: number for number, client in picked}
    cards = []
    for pk, building, name, phone in (ClientCard.objects.filter(pk__in=numbers)
                                      .values_list("pk", "building_id", "name", "phone")):
        # What a manager types: six digits of the phone, or the start of the surname or of
        # the company's own name (not "ООО", which a sixth of all cards share).
        words = [word.strip("«»\"") for word in name.split()
                 if not (word.isupper() and len(word) <= 4)]
        search = phone[2:8] if pk % 2 or not words else words[0][:5]
        cards.append(Card(pk, building, numbers[pk], search))
    cards.sort(key=lambda card: card.pk)

    subscribers = cards[:max(1, clients)]
    password = f"load-{rng.getrandbits(64):x}"
    hashed = make_password(password)  # once: the hasher is slow on purpose
    logins = [login_for(ClientCard.objects.get(pk=card.pk)).pk for card in subscribers]
    User.objects.filter(pk__in=logins).update(password=hashed, is_active=True)

    tickets = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:500])
    return Target(
        manager=manager, support=support, staff_password=staff_password or DEMO_PASSWORD,
        token=token, cards=cards, accounts=[number for number, _ in picked], tickets=tickets,
        subscribers=[card.account for card in subscribers], subscriber_password=password,
        max_payment=Payment.objects.aggregate(last=Max("pk"))["last"] or 0)


# --- Virtual users ---------------------------------------------------------------------------


class Browser:
    """One user's connection and cookies. Keep-alive when the server offers it (gunicorn's
    sync workers close after each answer; http.client then reconnects by itself)."""

    def __init__(self, host: str, port: int, timeout: float, outcome: Outcome):
        self.host, self.port, self.timeout, self.outcome = host, port, timeout, outcome
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, label: str, method: str, path: str, *, form: dict | None = None,
                body: dict | None = None, headers: dict | None = None,
                expect: int = 200) -> bytes | None:
        """The response body, or None after recording an error."""
        headers = dict(headers or {})
        payload = None
        if form is not None:
            payload = urlencode({"csrfmiddlewaretoken": self.csrf, **form})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.outcome.record(label, time.perf_counter() - started,
                                f"{type(exc).__name__} {exc}")
            self.conn.close()
            self.conn = None
            return None
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.status != expect:
            where = response.headers.get("Location", "")
            self.outcome.record(label, elapsed, f"HTTP {response.status} {path} {where}".strip())
            return None
        self.outcome.record(label, elapsed, None)
        if token := CSRF.search(content):
            self.csrf = token.group(1).decode()
        return content

    def sign_in(self, label: str, path: str, fields: dict) -> bool:
        return (self.request(f"{label} form", "GET", path) is not None
                and self.request(label, "POST", path, form=fields, expect=302) is not None)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Clock:
    """When a virtual user stops: at the deadline (a request under way finishes), or after
    ``rounds`` rounds of its pages if given (the smoke test's bound)."""

    def __init__(self, seconds: float, rounds: int | None, repeat_every: int):
        self.deadline = time.monotonic() + seconds
        self.rounds_left = rounds if rounds is not None else math.inf
        self.repeat_every = repeat_every  # every n-th payment is sent again

    def alive(self) -> bool:
        return time.monotonic() < self.deadline

    def next_round(self) -> bool:
        self.rounds_left -= 1
        return self.alive() and self.rounds_left >= 0


def _manager(browser: Browser, target: Target, rng: random.Random, clock: Clock) -> None:
    if not browser.sign_in("staff login", "/accounts/login/",
                           {"username": target.manager, "password": target.staff_password}):
        return
    forms = 0
    while clock.next_round():
        card = rng.choice(target.cards)
        browser.request("client list", "GET", "/clients/")
        if clock.alive():
            browser.request("client search", "GET", f"/clients/search/?q={quote(card.search)}")
        if clock.alive():
            browser.request("client card", "GET", f"/clients/{card.pk}/")
        if clock.alive():
            browser.request("building page", "GET", f"/buildings/{card.building}/")
        if not clock.alive():
            break
        page = browser.request("cashier form", "GET", f"/billing/cashier/?account={card.account}")
        cash_id = CASH_ID.search(page or b"")
        if cash_id is None or not clock.alive():
            continue
        amount = Decimal(rng.randint(1, 3000))
        fields = {"account": card.account, "cash_id": cash_id.group(1).decode(),
                  "amount": str(amount), "channel": "cash", "receipt": "", "comment": "load"}
        forms += 1
        double = forms % clock.repeat_every == 0  # a double click: still one payment
        for label in ("cashier payment", "cashier double post")[:2 if double else 1]:
            result = browser.request(label, "POST", "/billing/cashier/", form=fields)
            if result is not None and CASHIER_RESULT not in result:
                browser.outcome.record(f"{label} (no result shown)", 0.0, "form error")
                result = None
            browser.outcome.payment("cash", fields["cash_id"], card.account, amount,
                                    accepted=result is not None)


def _support(browser: Browser, target: Target, rng: random.Random, clock: Clock) -> None:
    if not browser.sign_in("staff login", "/accounts/login/",
                           {"username": target.support, "password": target.staff_password}):
        return
    while clock.next_round():
        browser.request("ticket queue", "GET", "/tickets/?view=group")
        if target.tickets and clock.alive():
            browser.request("ticket", "GET", f"/tickets/{rng.choice(target.tickets)}/")


def _cabinet(browser: Browser, target: Target, number: str, clock: Clock) -> None:
    if not browser.sign_in("cabinet login", "/my/login/",
                           {"identifier": number, "password": target.subscriber_password,
                            "next": ""}):
        return
    while clock.next_round():
        for label, path in (("cabinet home", "/my/"), ("cabinet history", "/my/history/"),
                            ("cabinet tariff", "/my/tariff/")):
            if clock.alive():
                browser.request(label, "GET", path)


def _api(browser: Browser, target: Target, rng: random.Random, clock: Clock,
         prefix: str) -> None:
    headers = {"Authorization": f"Token {target.token}"}
    sent: list[dict] = []
    i = 0
    while clock.next_round():
        i += 1
        repeat = bool(sent) and i % clock.repeat_every == 0
        if repeat:
            body = rng.choice(sent)  # a retried delivery: must not credit twice
        else:
            body = {"account": rng.choice(target.accounts), "amount": f"{rng.randint(1, 3000)}.00",
                    "external_id": f"{prefix}-{i}", "channel": "terminal"}
            sent.append(body)
        answer = browser.request("payments API repeat" if repeat else "payments API", "POST",
                                 "/api/v1/payments/", body=body, headers=headers,
                                 expect=200 if repeat else 201)
        browser.outcome.payment("terminal", body["external_id"], body["account"],
                                Decimal(body["amount"]), accepted=answer is not None)


def run(target: Target, *, host: str, port: int, seconds: float, clients: int,
        timeout: float = 30.0, seed: int = 1, rounds: int | None = None,
        repeat_every: int = REPEAT_EVERY) -> Outcome:
    """N virtual users for ``seconds`` or ``rounds`` rounds each, whichever ends first."""
    outcome = Outcome()
    run_id = f"load-{int(time.time())}-{random.Random(seed).getrandbits(24):06x}"

    def user(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        browser = Browser(host, port, timeout, outcome)
        clock = Clock(seconds, rounds, repeat_every)
        kind = KINDS[n % len(KINDS)]
        try:
            if kind == "manager":
                _manager(browser, target, rng, clock)
            elif kind == "support":
                _support(browser, target, rng, clock)
            elif kind == "cabinet":
                _cabinet(browser, target, target.subscribers[n % len(target.subscribers)],
                         clock)
            else:
                _api(browser, target, rng, clock, f"{run_id}-{n}")
        except Exception as exc:  # a bug here must show, not silently end one user
            outcome.record(f"{kind} crashed", 0.0, repr(exc))
        finally:
            browser.close()

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(clients)]
    started, cpu = time.monotonic(), os.times()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.wall = time.monotonic() - started
    used = os.times()
    outcome.cpu["load generator"] = ((used.user - cpu.user + used.system - cpu.system)
                                     / outcome.wall / (os.cpu_count() or 1))
    return outcome


# --- Checks and the report -------------------------------------------------------------------


def verify(target: Target, *outcomes: Outcome) -> list[str]:
    """What is wrong with the payments and balances after the runs (empty: all is well)."""
    from django.db.models import Count

    from billing.models import LedgerEntry, Payment
    from billing.services.ledger import balance_mismatches

    outcome = Outcome()
    for each in outcomes:
        outcome.sent.update(each.sent)
        outcome.accepted |= each.accepted
    problems = []
    made = {(channel, external_id): (number, amount, pk) for channel, external_id, number,
            amount, pk in Payment.objects.filter(pk__gt=target.max_payment).values_list(
                "channel", "external_id", "account__number", "amount", "pk")}
    for key in sorted(outcome.accepted - made.keys()):
        problems.append(f"payment lost: {key} was answered 200/201 but is not in the database")
    for key in sorted(made.keys() - outcome.sent.keys()):
        problems.append(f"payment the script did not send: {key}")
    for key, (number, amount, _) in sorted(made.items()):
        if key in outcome.sent and outcome.sent[key] != (number, amount):
            problems.append(f"payment {key} is {amount} to {number}, "
                            f"sent {outcome.sent[key][1]} to {outcome.sent[key][0]}")
    postings = dict(LedgerEntry.objects.filter(payment__pk__gt=target.max_payment,
                                               kind=LedgerEntry.Kind.PAYMENT)
                    .values("payment").annotate(n=Count("pk")).values_list("payment", "n"))
    for key, (_, _, pk) in sorted(made.items()):
        if postings.get(pk, 0) != 1:
            problems.append(f"payment {key} is posted to the ledger {postings.get(pk, 0)} times")
    mismatches = list(balance_mismatches().values_list("number", "balance", "entries_total")[:20])
    problems += [f"account {number}: balance {balance} != sum of entries {total}"
                 for number, balance, total in mismatches]
    return problems


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


def report(outcome: Outcome) -> str:
    rows = [f"{'request':28} {'count':>7} {'per s':>6} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'errors':>6}"]
    every = []
    for label in sorted(outcome.latencies):
        values = sorted(outcome.latencies[label])
        every += values
        rows.append(_row(label, values, outcome.errors[label], outcome.wall))
    rows.append(_row("all", sorted(every), outcome.error_count, outcome.wall))
    accepted = Counter(channel for channel, _ in outcome.accepted)
    rows.append(f"payments accepted: {accepted['cash']} at the cashier, "
                f"{accepted['terminal']} through the API; distinct sent {len(outcome.sent)}")
    if outcome.cpu:
        rows.append("CPU, share of the machine over the run: " + ", ".join(
            f"{name} {share:.1%}" for name, share in outcome.cpu.items()))
    rows += [f"  error: {sample}" for sample in outcome.error_samples]
    return "\n".join(rows)


def _row(label: str, values: list[float], errors: int, wall: float) -> str:
    if not values:
        return f"{label:28} {0:7d}"
    ms = [percentile(values, share) * 1000 for share in (0.5, 0.95, 0.99, 1.0)]
    return (f"{label:28} {len(values):7d} {len(values) / wall:6.1f} "
            + " ".join(f"{value:8.1f}" for value in ms) + f" {errors:6d}")


# --- CPU of the other processes (Linux /proc) ----------------------------------------------


def _proc_stats() -> dict[int, tuple[int, str, int]]:
    """pid → (parent pid, command, user+system clock ticks) of every process."""
    stats = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        command = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        stats[int(entry.name)] = (int(fields[1]), command, int(fields[11]) + int(fields[12]))
    return stats


def _cpu_ticks(server_pid: int) -> dict[str, int]:
    stats = _proc_stats()
    gunicorn = sum(ticks for pid, (parent, _, ticks) in stats.items()
                   if pid == server_pid or parent == server_pid)
    postgres = sum(ticks for _, command, ticks in stats.values()
                   if command.startswith("postgres"))
    busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle = int(busy[3]) + int(busy[4])  # idle and iowait
    return {"gunicorn": gunicorn, "postgres (all)": postgres,
            "machine busy": sum(map(int, busy[:8])) - idle}


# --- The command -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5, help="untimed seconds first")
    parser.add_argument("--clients", type=int, default=8, help="virtual users (threads)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=8056)
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument("--manager", default="manager")
    parser.add_argument("--support", default="support")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.db import connection

    target = prepare(clients=args.clients, manager=args.manager, support=args.support)
    connection.close()  # gunicorn's workers and the check later open their own

    env = {**os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1",
           # WhiteNoise's note on uncollected static files, once per worker: no page needs them.
           "PYTHONWARNINGS": "ignore:No directory at:UserWarning"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ispcrm.wsgi:application", "--bind",
         f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--threads",
         str(args.threads), "--timeout", str(int(args.timeout) + 10), "--log-level", "warning"],
        cwd=ROOT, env=env)
    try:
        _wait_for(args.port)
        # Each worker imports views and compiles templates on its first requests: not timed.
        warm = run(target, host="127.0.0.1", port=args.port, seconds=args.warmup,
                   clients=args.clients, timeout=args.timeout, seed=2)
        before = _cpu_ticks(server.pid)
        outcome = run(target, host="127.0.0.1", port=args.port, seconds=args.seconds,
                      clients=args.clients, timeout=args.timeout)
        after = _cpu_ticks(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ticks = os.sysconf("SC_CLK_TCK")
    capacity = outcome.wall * ticks * (os.cpu_count() or 1)
    outcome.cpu.update({name: (after[name] - before[name]) / capacity for name in after})
    server_ms = (after["gunicorn"] - before["gunicorn"]) / ticks * 1000 / max(1, outcome.requests)

    kinds = Counter(KINDS[n % len(KINDS)] for n in range(args.clients))
    print(f"{outcome.requests} requests in {outcome.wall:.1f} s from {args.clients} virtual "
          f"users ({', '.join(f'{n} {kind}' for kind, n in kinds.items())}), gunicorn "
          f"{args.workers} workers × {args.threads} threads: "
          f"{outcome.requests / outcome.wall:.1f} req/s, {outcome.error_count} errors; "
          f"gunicorn CPU {server_ms:.0f} ms per request")
    print(report(outcome))
    if warm.error_count:
        print(f"warm-up: {warm.error_count} errors, e.g. {warm.error_samples[:3]}")
    problems = verify(target, warm, outcome)
    for problem in problems[:50]:
        print("MISMATCH", problem)
    print(f"verification: {len(problems)} problems" if problems
          else "verification: every accepted payment is in the database once, nothing extra, "
               "each posted once; balance == sum(entries) for every account")
    if problems or outcome.error_count or warm.error_count:
        sys.exit(1)


def _wait_for(port: int) -> None:
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    main()
