"""Excel for every list (D14, R6): clients, accounts, payments and tickets, as the staff list
pages filter them, built in the background with a progress bar and a link that expires.

The registry ``EXPORTS`` maps a kind to an ``ExportSpec``: who may use it, how its parameters
are checked, and a function ``build(params) -> (filename, sheets, total_rows)`` whose sheets'
rows are generators over ``values_list(...).iterator(chunk_size=2000)`` — no list of all rows
is ever made, so 100,000 rows cost the same memory as 100. Other report modules (the 1C
exchange) add their kinds with ``register``; a kind that is not an Excel file gives ``write``
instead of ``build``.

The life of an export (``ExportJob``):

1. ``export_start`` checks access and parameters, creates the job ``queued`` and queues the
   task when the transaction commits (a worker must find the row).
2. ``export_run`` (the task ``reports.tasks.build_export``) claims the job with a conditional
   UPDATE (``queued`` → ``running``: a task delivered twice builds it once), streams the rows
   into a temporary file, moving ``progress_done`` with a cheap UPDATE every 1,000 rows, stores
   the file and marks the job ``done`` with ``expires_at`` = now + ``EXPORT_LINK_HOURS``.
   Any error marks it ``failed`` with the message.
3. ``exports_sweep`` (beat) finds jobs a killed worker left ``running``;
   ``exports_resend`` (beat) queues again the tasks of jobs left ``queued`` — the broker was
   down when the job was committed, or lost its queue; ``exports_purge`` (beat) deletes the
   files of expired jobs.

Small lists need no job: ``export_inline`` answers at once with the file when the list has
at most ``EXPORT_INLINE_ROWS`` rows (counted with one COUNT query), so the "Excel" button on a
list of 40 payments just downloads; a bigger list goes to the progress page.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from kombu.exceptions import OperationalError as BrokerUnavailable

from reports.excel import (
    XLSX_CONTENT_TYPE,
    Column,
    Sheet,
    write_xlsx,
    xlsx_filename,
    xlsx_response,
)
from reports.models import ExportJob

log = logging.getLogger(__name__)

CHUNK = 2000  # rows fetched from the database at a time
PROGRESS_EVERY = 1000  # rows between two progress updates

Build = Callable[[dict], tuple[str, list[Sheet], int | None]]
Write = Callable[[dict, object, Callable[[int], None]], tuple[str, int]]


def setting(name: str, default):
    return getattr(settings, name, default)


@dataclass(frozen=True)
class ExportSpec:
    """One kind of export.

    ``permission``: Django permissions the user needs (all of them; superusers pass), so a
    list follows the permissions of its data, not report roles. ``allowed``: an extra check
    (e.g. ``reports.access.can_see_reports`` for a report). ``clean(params, user)``: the
    parameters kept in the job (JSON), checked — raise ``ValidationError`` — and with anything
    that depends on the requester resolved now (the task runs without a request).
    ``build(params)``: ``(filename, sheets, total_rows or None)`` with lazy rows. ``write``
    instead of ``build`` for a file that is not a workbook (the 1C XML):
    ``write(params, binary_file, on_progress) -> (filename, rows)``, with ``content_type``.
    """

    title: str
    build: Build | None = None
    permission: tuple[str, ...] = ()
    allowed: Callable[[object], bool] | None = None
    clean: Callable[[dict, object], dict] | None = None
    write: Write | None = None
    content_type: str = XLSX_CONTENT_TYPE
    inline: bool = True  # may be answered at once when small (build-based kinds only)

    def can_use(self, user) -> bool:
        if not user.is_authenticated or not user.is_active:
            return False
        if self.permission and not user.has_perms(self.permission):
            return False
        return self.allowed is None or bool(self.allowed(user))


EXPORTS: dict[str, ExportSpec] = {}


def register(kind: str, spec: ExportSpec) -> ExportSpec:
    if len(kind) > ExportJob._meta.get_field("kind").max_length:
        raise ValueError(f"Export kind {kind!r} is too long")
    EXPORTS[kind] = spec
    return spec


# --- Parameters ------------------------------------------------------------------------------

def _text(params: dict, key: str, limit: int = 100) -> str:
    value = params.get(key) or ""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return str(value).strip()[:limit]


def _choice(params: dict, key: str, choices) -> str:
    value = _text(params, key)
    if value and value not in {str(code) for code, _label in choices}:
        raise ValidationError({key: _("Unknown value: %(value)s") % {"value": value}})
    return value


def _int(params: dict, key: str) -> int | None:
    value = _text(params, key)
    if not value:
        return None
    if not value.isdigit():
        raise ValidationError({key: _("Enter a whole number.")})
    return int(value)


def _date(params: dict, key: str) -> str:
    value = _text(params, key)
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValidationError({key: _("Enter a date as YYYY-MM-DD.")}) from None


def _compact(params: dict) -> dict:
    """Only the filters actually set: the job's parameters read as what was asked."""
    return {key: value for key, value in params.items()
            if value is not None and value is not False and value != ""}


# --- Helpers for rows ------------------------------------------------------------------------

def _person(first: str | None, last: str | None, username: str | None) -> str | None:
    if username is None:
        return None
    return f"{first or ''} {last or ''}".strip() or username


def _labels(choices) -> dict:
    return {code: str(label) for code, label in choices}


def _dated_name(stem: str) -> str:
    return xlsx_filename(f"{stem}-{timezone.localtime():%Y-%m-%d-%H%M}")


def _stream(queryset, fields: Iterable[str]) -> Iterator[tuple]:
    """The rows as tuples, fetched ``CHUNK`` at a time (a server-side cursor on PostgreSQL)."""
    return queryset.values_list(*fields).iterator(chunk_size=CHUNK)


# --- Clients ---------------------------------------------------------------------------------

def clean_clients(params: dict, user) -> dict:
    from connections.models import ConnectionType, Stage

    data = {
        "q": _text(params, "q"),
        "stage": _choice(params, "stage", Stage.choices),
        "connection_type": _choice(params, "connection_type", ConnectionType.choices),
        "branch": _int(params, "branch"),
        "lead_manager": _int(params, "lead_manager"),
    }
    if _text(params, "mine"):  # the page's "my clients": resolved to the requester now
        data["lead_manager"] = user.pk
    return _compact(data)


def clients_queryset(params: dict):
    """The client list page's filters (connections.views.clients.client_list): the same
    search selector, stage, connection type, branch, and "mine" as a lead manager."""
    from connections import selectors

    query = params.get("q", "")
    cards = (selectors.client_search(query, limit=None) if query
             else selectors.client_queryset().order_by("-created_at"))
    if params.get("stage"):
        cards = cards.filter(stage=params["stage"])
    if params.get("connection_type"):
        cards = cards.filter(connection_type=params["connection_type"])
    if params.get("branch"):
        cards = cards.filter(branch_id=params["branch"])
    if params.get("lead_manager"):
        cards = cards.filter(lead_manager_id=params["lead_manager"])
    return cards


def build_clients(params: dict):
    from connections.models import ClientCard, ConnectionType, Stage

    cards = clients_queryset(params)
    kinds, stages = _labels(ClientCard.Kind.choices), _labels(Stage.choices)
    types = _labels(ConnectionType.choices)
    columns = [
        Column(_("Number"), "int", 10), Column(_("Name"), "text", 36),
        Column(_("Kind"), "text", 14), Column(_("Phone"), "text", 16),
        Column(_("Email"), "text", 26), Column(_("INN"), "text", 14),
        Column(_("Address"), "text", 40), Column(_("District"), "text", 18),
        Column(_("City"), "text", 16), Column(_("Stage"), "text", 20),
        Column(_("Connection type"), "text", 16), Column(_("Lead manager"), "text", 22),
        Column(_("Created"), "datetime"), Column(_("Activated"), "datetime"),
        Column(_("Terminated"), "datetime"),
    ]
    fields = ("pk", "name", "kind", "phone", "email", "inn", "building__street__name",
              "building__house", "premises", "building__district__name",
              "building__street__city__name", "stage", "connection_type",
              "lead_manager__first_name", "lead_manager__last_name",
              "lead_manager__username", "created_at", "activated_at", "terminated_at")

    def rows():
        for (pk, name, kind, phone, email, inn, street, house, premises, district, city, stage,
             ctype, first, last, username, created, activated, terminated) in _stream(cards,
                                                                                    fields):
            address = f"{street}, {house}" + (f", {premises}" if premises else "")
            yield (pk, name, kinds.get(kind, kind), phone, email, inn, address, district, city,
                   stages.get(stage, stage), types.get(ctype, ctype),
                   _person(first, last, username), created, activated, terminated)

    return _dated_name("clients"), [Sheet(_("Clients"), columns, rows())], cards.count()


# --- Accounts --------------------------------------------------------------------------------

def clean_accounts(params: dict, user) -> dict:
    from billing.models import Account

    return _compact({
        "q": _text(params, "q"),
        "status": _choice(params, "status", Account.Status.choices),
        "branch": _int(params, "branch"),
        "tariff": _int(params, "tariff"),
    })


def accounts_queryset(params: dict):
    """There is no account list page: a small set of filters — status, branch, the current
    tariff, and ``q`` (the start of the account number or a part of the client's name)."""
    from billing.models import Account, Subscription

    today = timezone.localdate()
    current = (Subscription.objects.filter(account=OuterRef("pk"), start__lte=today)
               .filter(Q(end__isnull=True) | Q(end__gt=today)).order_by("-start"))
    accounts = Account.objects.annotate(
        tariff_name=Subquery(current.values("tariff__name")[:1])).order_by("number")
    if params.get("status"):
        accounts = accounts.filter(status=params["status"])
    if params.get("branch"):
        accounts = accounts.filter(client__branch_id=params["branch"])
    if params.get("tariff"):
        accounts = accounts.annotate(
            tariff_id_now=Subquery(current.values("tariff_id")[:1])
        ).filter(tariff_id_now=params["tariff"])
    query = params.get("q", "")
    if query:
        condition = Q(client__name__icontains=query)
        if query.isdigit():
            condition |= Q(number__startswith=query)
        accounts = accounts.filter(condition)
    return accounts


def build_accounts(params: dict):
    from billing.models import Account

    accounts = accounts_queryset(params)
    statuses = _labels(Account.Status.choices)
    columns = [
        Column(_("Account"), "text", 14), Column(_("Client"), "text", 36),
        Column(_("Status"), "text", 14), Column(_("Tariff"), "text", 24),
        Column(_("Balance"), "money"), Column(_("Activated"), "date"),
        Column(_("Blocked on"), "date"), Column(_("Never block"), "bool", 12),
    ]
    fields = ("number", "client__name", "status", "tariff_name", "balance", "activated_on",
              "blocked_on", "never_block")

    def rows():
        for number, client, status, tariff, balance, activated, blocked, never in _stream(
                accounts, fields):
            yield (number, client, statuses.get(status, status), tariff, balance, activated,
                   blocked, never)

    return (_dated_name("accounts"), [Sheet(_("Accounts"), columns, rows())],
            accounts.order_by().count())


# --- Payments --------------------------------------------------------------------------------

PAYMENT_FILTERS = ("date_from", "date_to", "channel", "status", "q")


def clean_payments(params: dict, user) -> dict:
    from billing.forms import PaymentFilterForm

    data = {key: _text(params, key) for key in PAYMENT_FILTERS}
    if not any(data.values()):
        # As the page opened from the menu: this month's payments.
        data["date_from"] = timezone.localdate().replace(day=1).isoformat()
    form = PaymentFilterForm(data)
    if not form.is_valid():
        raise ValidationError(form.errors.get_json_data())
    return _compact(data)


def payments_queryset(params: dict):
    """Exactly the payments page's filter (billing.views.payments._filtered)."""
    from billing.forms import PaymentFilterForm
    from billing.views.payments import _filtered

    return _filtered(PaymentFilterForm({key: params.get(key, "") for key in PAYMENT_FILTERS}))


def build_payments(params: dict):
    from billing.models import Payment

    payments = payments_queryset(params).order_by("-paid_at", "-pk")
    channels, statuses = _labels(Payment.Channel.choices), _labels(Payment.Status.choices)
    columns = [
        Column(_("Paid at"), "datetime"), Column(_("Account"), "text", 14),
        Column(_("Client"), "text", 36), Column(_("Amount"), "money"),
        Column(_("Channel"), "text", 18), Column(_("Status"), "text", 12),
        Column(_("External id"), "text", 24), Column(_("Taken by"), "text", 22),
    ]
    fields = ("paid_at", "account__number", "account__client__name", "amount", "channel",
              "status", "external_id", "taken_by__first_name", "taken_by__last_name",
              "taken_by__username")

    def rows():
        for (paid, number, client, amount, channel, status, external, first, last,
             username) in _stream(payments, fields):
            yield (paid, number, client, amount, channels.get(channel, channel),
                   statuses.get(status, status), external, _person(first, last, username))

    return (_dated_name("payments"), [Sheet(_("Payments"), columns, rows())],
            payments.order_by().count())


# --- Tickets ---------------------------------------------------------------------------------

def clean_tickets(params: dict, user) -> dict:
    from tickets.views.queues import VIEWS

    view = _text(params, "view") or "mine"
    if view not in VIEWS:
        raise ValidationError({"view": _("Unknown value: %(value)s") % {"value": view}})
    # "Mine" and "my group's" are the requester's: the task finds them by this id.
    return {"view": view, "user": user.pk}


def tickets_queryset(params: dict):
    """The helpdesk queue's filter (tickets.views.queues.filtered), as its requester sees it."""
    from django.contrib.auth import get_user_model

    from tickets.views.queues import filtered

    user = get_user_model().objects.get(pk=params["user"])
    return filtered(params.get("view", "mine"), user, timezone.now())


def build_tickets(params: dict):
    from tickets.models import Ticket

    tickets = tickets_queryset(params)
    channels, statuses = _labels(Ticket.Channel.choices), _labels(Ticket.Status.choices)
    priorities = _labels(Ticket.Priority.choices)
    columns = [
        Column(_("Number"), "int", 10), Column(_("Created"), "datetime"),
        Column(_("Subject"), "text", 36), Column(_("Client"), "text", 30),
        Column(_("Category"), "text", 28), Column(_("Channel"), "text", 14),
        Column(_("Priority"), "text", 12), Column(_("Status"), "text", 18),
        Column(_("Assignee"), "text", 22), Column(_("Group"), "text", 18),
        Column(_("First response due"), "datetime", 20), Column(_("First response"), "datetime"),
        Column(_("Resolved"), "datetime"), Column(_("SLA breached"), "bool", 12),
        Column(_("Rating"), "int", 9),
    ]
    fields = ("pk", "created_at", "subject", "client__name", "category__parent__name",
              "category__name", "channel", "priority", "status", "assignee__first_name",
              "assignee__last_name", "assignee__username", "group__name", "first_response_due",
              "first_response_at", "resolved_at", "first_response_breached",
              "resolution_breached", "rating__score")

    def rows():
        for (pk, created, subject, client, parent, category, channel, priority, status, first,
             last, username, group, due, responded, resolved, late_response, late_resolution,
             score) in _stream(tickets, fields):
            yield (pk, created, subject, client,
                   f"{parent} / {category}" if parent and category else category,
                   channels.get(channel, channel), priorities.get(priority, priority),
                   statuses.get(status, status), _person(first, last, username), group, due,
                   responded, resolved, bool(late_response or late_resolution), score)

    return (_dated_name("tickets"), [Sheet(_("Tickets"), columns, rows())],
            tickets.order_by().count())


register("clients", ExportSpec(gettext_lazy("Clients"), build_clients,
                               permission=("connections.view_clientcard",),
                               clean=clean_clients))
register("accounts", ExportSpec(gettext_lazy("Accounts"), build_accounts,
                                permission=("billing.view_account",), clean=clean_accounts))
register("payments", ExportSpec(gettext_lazy("Payments"), build_payments,
                                permission=("billing.view_payment",), clean=clean_payments))
register("tickets", ExportSpec(gettext_lazy("Tickets"), build_tickets,
                               permission=("tickets.view_ticket",), clean=clean_tickets))


# --- Starting ------------------------------------------------------------------------------

def export_spec(kind: str, user) -> ExportSpec:
    """The kind's spec if ``user`` may use it: an unknown kind is a ValidationError, a kind
    the user may not see a PermissionDenied."""
    spec = EXPORTS.get(kind)
    if spec is None:
        raise ValidationError({"kind": _("Unknown export: %(kind)s") % {"kind": kind}})
    if not spec.can_use(user):
        raise PermissionDenied
    return spec


def export_params(spec: ExportSpec, params: dict, user) -> dict:
    params = dict(params)
    cleaned = spec.clean(params, user) if spec.clean else _compact(params)
    # Column titles in the requester's language, whatever the worker's is.
    return {**cleaned, "lang": translation.get_language() or settings.LANGUAGE_CODE}


def export_inline(kind: str, params: dict, user, *, limit: int | None = None):
    """The file at once if the list is small (≤ ``EXPORT_INLINE_ROWS`` rows), else None.

    Deciding costs one COUNT query: ``build`` counts and returns lazy rows, so nothing is
    read when the list turns out big."""
    spec = export_spec(kind, user)
    limit = setting("EXPORT_INLINE_ROWS", 5000) if limit is None else limit
    if spec.build is None or not spec.inline or limit <= 0:
        return None
    cleaned = export_params(spec, params, user)
    with translation.override(cleaned.get("lang")):
        filename, sheets, total = spec.build(cleaned)
        if total is None or total > limit:
            return None
        return xlsx_response(filename, sheets)


def export_start(kind: str, params: dict, user, *, automatic: bool = False,
                 period: dt.date | None = None) -> ExportJob:
    """Check, create the job and queue its task once the job is committed."""
    spec = export_spec(kind, user) if user is not None else EXPORTS[kind]
    cleaned = (export_params(spec, params, user) if user is not None
               else {**params, "lang": settings.LANGUAGE_CODE})
    with transaction.atomic():
        job = ExportJob.objects.create(kind=kind, params=cleaned, requested_by=user,
                                       automatic=automatic, period=period)
        # After commit: a worker that picks the task up at once must find the row.
        transaction.on_commit(lambda: enqueue_build(job.pk))
    return job


def enqueue_build(job_id: int) -> bool:
    """Send the job's build task; False when the broker cannot be reached. Called on commit,
    so the job is already saved ``queued``: with the broker down the request still succeeds
    (the page shows the job waiting) and ``exports_resend`` sends the task once the broker is
    back. The publish retry policy (settings) bounds the wait to a few seconds."""
    from reports.tasks import build_export

    try:
        build_export.delay(job_id)
    except BrokerUnavailable as exc:
        log.warning("Export %s stays queued: the task broker is unreachable (%s); the sweep "
                    "will send it again", job_id, exc)
        return False
    return True


# --- Building --------------------------------------------------------------------------------

def _set_progress(job_id: int, done: int) -> None:
    # One column, no save() of the row: the page polls it every second.
    ExportJob.objects.filter(pk=job_id).update(progress_done=done)


def stored_name(job: ExportJob, filename: str) -> str:
    # The job's uuid in the path: a file under MEDIA_ROOT is never guessable by its name.
    return f"{job.public_id}/{filename}"


def export_run(job_id: int) -> str:
    """Build a queued job's file. Returns the job's status afterwards."""
    now = timezone.now()
    # Claim it: queued → running in one conditional UPDATE, so a task delivered twice (acks
    # late, a sweep's re-queue) builds the file once; the loser sees 0 rows and stops.
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=now, progress_done=0, error="")
    if not claimed:
        status = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return status or "missing"
    job = ExportJob.objects.get(pk=job_id)
    spec = EXPORTS.get(job.kind)
    try:
        if spec is None:
            raise ValueError(_("Unknown export: %(kind)s") % {"kind": job.kind})
        with translation.override(job.params.get("lang") or settings.LANGUAGE_CODE):
            _build_file(job, spec)
    except Exception as exc:  # any failure is the user's to see, and the job's end
        log.exception("Export %s (%s) failed", job.pk, job.kind)
        ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.FAILED, error=(str(exc) or exc.__class__.__name__)[:2000],
            finished_at=timezone.now())
        return ExportJob.Status.FAILED
    return ExportJob.Status.DONE


def _build_file(job: ExportJob, spec: ExportSpec) -> None:
    def progress(done: int) -> None:
        _set_progress(job.pk, done)

    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        path = os.path.join(folder, "export.bin")
        if spec.write is not None:
            with open(path, "wb") as target:
                filename, rows = spec.write(job.params, target, progress)
        else:
            filename, sheets, total = spec.build(job.params)
            if total is not None:
                ExportJob.objects.filter(pk=job.pk).update(progress_total=total)
            rows = write_xlsx(sheets, path, on_progress=progress, every=PROGRESS_EVERY)
        with open(path, "rb") as source:
            job.file.save(stored_name(job, filename), File(source), save=False)
    finished = timezone.now()
    hours = setting("EXPORT_LINK_HOURS", 24)
    updated = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.DONE, file=job.file.name, file_name=filename,
        progress_done=rows, progress_total=rows, finished_at=finished,
        expires_at=finished + timedelta(hours=hours))
    if not updated:  # swept as dead while it was still working: keep the sweep's word
        job.file.delete(save=False)


# --- Sweeping and purging --------------------------------------------------------------------

def _seen_key(job_id: int) -> str:
    return f"reports:export:{job_id}:seen"


def exports_sweep(now: dt.datetime | None = None) -> dict:
    """Jobs a killed worker left ``running`` (beat, every few minutes).

    A worker killed mid-build (deploy, OOM, a lost machine) never marks its job; with acks
    late the message may come back, but the claim refuses a job already ``running``. So: a job
    running longer than ``EXPORT_STALL_MINUTES`` whose ``progress_done`` has not moved between
    two sweeps that far apart is dead. The last progress seen is kept in the cache (the model
    has no heartbeat column); a job whose worker is alive moves at least every 1,000 rows, a
    few seconds. Without a shared cache (the embedded setup's per-process cache) a job is
    also taken as dead ``EXPORT_MAX_MINUTES`` after it started. A dead job is queued again
    from the start, once: the second death marks it failed ("try again"), since a list that
    kills a worker twice will not build a third time. The try count is ``params["_tries"]``.
    """
    now = now or timezone.now()
    stall = timedelta(minutes=setting("EXPORT_STALL_MINUTES", 10))
    longest = timedelta(minutes=setting("EXPORT_MAX_MINUTES", 60))
    tries_allowed = setting("EXPORT_MAX_TRIES", 2)
    result = {"requeued": 0, "failed": 0}
    running = ExportJob.objects.filter(status=ExportJob.Status.RUNNING,
                                       started_at__lt=now - stall)
    for job in running.only("pk", "params", "progress_done", "started_at"):
        seen = cache.get(_seen_key(job.pk))
        over_time = job.started_at < now - longest
        if not over_time:
            if seen is None or seen[0] != job.progress_done:
                cache.set(_seen_key(job.pk), (job.progress_done, now), timeout=86400)
                continue
            if seen[1] > now - stall:
                continue
        cache.delete(_seen_key(job.pk))
        tries = int(job.params.get("_tries", 1))
        # Conditional on the progress seen: a job that moved meanwhile is left alone.
        stalled = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING,
                                           progress_done=job.progress_done)
        if tries >= tries_allowed:
            result["failed"] += stalled.update(
                status=ExportJob.Status.FAILED, finished_at=now,
                error=_("The export stopped: the worker building it was lost. "
                        "Build it again."))
            continue
        with transaction.atomic():
            if stalled.update(status=ExportJob.Status.QUEUED, progress_done=0,
                              params={**job.params, "_tries": tries + 1}):
                result["requeued"] += 1
                transaction.on_commit(lambda pk=job.pk: enqueue_build(pk))
    return result


def _sent_key(job_id: int) -> str:
    return f"reports:export:{job_id}:sent"


def exports_resend(now: dt.datetime | None = None) -> int:
    """Send again the task of every job still ``queued`` ``EXPORT_STALL_MINUTES`` after it
    was made (beat, with the sweep). The job row is the record of work to do; the broker's
    message is not: the broker may have been down at commit (``enqueue_build`` gave up) or
    restarted without its queue. A second message is harmless — only one delivery claims
    the job — and the cache remembers a resend for a stall period, so a long but healthy
    queue is not flooded with copies. Returns how many tasks were sent."""
    now = now or timezone.now()
    stall = timedelta(minutes=setting("EXPORT_STALL_MINUTES", 10))
    waiting = ExportJob.objects.filter(status=ExportJob.Status.QUEUED,
                                       created_at__lt=now - stall).order_by("pk")
    sent = 0
    for pk in waiting.values_list("pk", flat=True):
        if cache.get(_sent_key(pk)) is not None:
            continue
        if not enqueue_build(pk):
            break  # the broker is still down: the next sweep tries again
        cache.set(_sent_key(pk), now.isoformat(), timeout=int(stall.total_seconds()))
        sent += 1
    return sent


def exports_purge(now: dt.datetime | None = None) -> int:
    """Delete the files of expired exports (beat, hourly); the job rows stay as the history
    of what was exported by whom, with the file name and no file."""
    now = now or timezone.now()
    purged = 0
    expired = ExportJob.objects.filter(expires_at__lt=now).exclude(file="")
    for job in expired.only("pk", "file").iterator(chunk_size=200):
        job.file.delete(save=False)
        purged += ExportJob.objects.filter(pk=job.pk).update(file="")
    return purged


# --- Reading -------------------------------------------------------------------------------

def job_for(user, public_id) -> ExportJob | None:
    """The job if ``user`` may see it: the requester, or a superuser; None otherwise."""
    job = ExportJob.objects.select_related("requested_by").filter(public_id=public_id).first()
    if job is None or not user.is_authenticated:
        return None
    if user.is_superuser or job.requested_by_id == user.pk:
        return job
    return None


def is_expired(job: ExportJob, now: dt.datetime | None = None) -> bool:
    return job.expires_at is not None and job.expires_at <= (now or timezone.now())


def job_title(job: ExportJob) -> str:
    spec = EXPORTS.get(job.kind)
    return str(spec.title) if spec else job.kind


FILTER_LABELS = {
    "q": gettext_lazy("Search"), "stage": gettext_lazy("Stage"),
    "connection_type": gettext_lazy("Connection type"), "branch": gettext_lazy("Branch"),
    "lead_manager": gettext_lazy("Lead manager"), "status": gettext_lazy("Status"),
    "tariff": gettext_lazy("Tariff"), "date_from": gettext_lazy("From"),
    "date_to": gettext_lazy("To"), "channel": gettext_lazy("Channel"),
    "view": gettext_lazy("Queue"),
}


def job_filters(job: ExportJob) -> list[tuple[str, str, str]]:
    """The parameters as (key, label, value): shown on the page and posted again by "build
    it again" (internal keys left out)."""
    hidden = {"lang", "user", "_tries"}
    return [(key, str(FILTER_LABELS.get(key, key)), str(value))
            for key, value in job.params.items() if key not in hidden]


def download_response(job: ExportJob) -> HttpResponse:
    from django.http import FileResponse

    spec = EXPORTS.get(job.kind)
    response = FileResponse(job.file.open("rb"), as_attachment=True,
                            filename=job.file_name or os.path.basename(job.file.name),
                            content_type=spec.content_type if spec else None)
    response["Cache-Control"] = "private, no-store"
    return response


# --- The 1C exchange (D12): its kinds live in reports.onec.jobs -----------------------------

def _register_onec() -> None:
    # Imported here, at the end: reports.onec.jobs builds its specs with ExportSpec above.
    from reports.onec.jobs import export_specs

    for kind, spec in export_specs().items():
        register(kind, spec)


_register_onec()
