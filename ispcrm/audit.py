"""Audit of every change (D7), on django-simple-history.

Each audited model declares ``history = HistoricalRecords(bases=[AuditedHistory])``; its
history rows then carry, besides the actor and the time simple-history records, the request
that made the change (id, client address, path). Set-based writes (``QuerySet.update``,
``bulk_create``) bypass the signals simple-history relies on: services that use them must
write their own event rows (the ledger and the stage log are such rows)."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"


class AuditedHistory(models.Model):
    """Extra columns of every history table: where the change came from."""

    request_id = models.CharField(gettext_lazy("request id"), max_length=64, blank=True)
    request_ip = models.GenericIPAddressField(gettext_lazy("client address"), null=True,
                                              blank=True)
    request_path = models.CharField(gettext_lazy("request path"), max_length=255, blank=True)

    class Meta:
        abstract = True


class AuditRequestMiddleware:
    """Gives every request an id (the proxy's X-Request-ID if it sent one) that history rows
    and the logs share, and echoes it in the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.META.get(REQUEST_ID_HEADER, "")[:64]
        request.request_id = supplied or uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def _stamp_request(sender, history_instance, **kwargs) -> None:
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return  # a Celery task or management command: no request to record
    history_instance.request_id = getattr(request, "request_id", "")
    history_instance.request_ip = request.META.get("REMOTE_ADDR") or None
    history_instance.request_path = request.path[:255]


def connect_signals() -> None:
    pre_create_historical_record.connect(_stamp_request, dispatch_uid="ispcrm.audit.stamp")


@dataclass(frozen=True)
class ChangeEvent:
    """One audited change, shaped for history pages and GET /clients/{id}/history/."""

    at: datetime
    kind: str
    actor: str | None
    summary: str
    changes: tuple[tuple[str, str, str], ...] = ()  # (field label, old, new)


# history_type → (event kind, words for the summary)
_ACTION = {
    "+": ("record_created", pgettext_lazy("audit", "created")),
    "~": ("record_changed", pgettext_lazy("audit", "changed")),
    "-": ("record_deleted", pgettext_lazy("audit", "deleted")),
}


def _previous_versions(records: list) -> dict:
    """history_id → the same object's next older record in ``records`` (newest first)."""
    previous, last_seen = {}, {}
    for record in reversed(records):
        key = getattr(record, record.instance_type._meta.pk.attname)
        previous[record.history_id] = last_seen.get(key)
        last_seen[key] = record
    return previous


def _related_names(pairs: list) -> dict:
    """(model, pk) → str for every related value the changes mention: one query a model."""
    wanted: dict = {}
    for model, pk in pairs:
        wanted.setdefault(model, set()).add(pk)
    return {(model, obj.pk): str(obj) for model, pks in wanted.items()
            for obj in model._default_manager.filter(pk__in=pks)}


def _value(record, field_name: str, names: dict) -> str:
    field = record.instance_type._meta.get_field(field_name)
    value = getattr(record, field.attname)
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")
    return str(value)


def change_events(history: Iterable, label: str) -> list[ChangeEvent]:
    """Turn history rows (newest first, as simple-history orders them) into events with the
    changed fields of each update. ``label`` names the record in the summary.

    A fixed number of queries whatever the number of rows: the previous version of a row is
    the next older row of the same object in ``history`` (simple-history's ``prev_record``
    would ask the database once per row), and related objects named in the changes are read
    once per model."""
    records = list(history)
    previous = _previous_versions(records)
    deltas, pairs = {}, []
    for record in records:
        if record.history_type != "~":
            continue
        prev = previous.get(record.history_id)
        if prev is None:
            prev = record.prev_record  # older than the rows given: ask the database
        if prev is None:
            continue
        changed = record.diff_against(prev).changes
        deltas[record.history_id] = (prev, changed)
        for change in changed:
            field = record.instance_type._meta.get_field(change.field)
            if field.is_relation:
                for side in (prev, record):
                    value = getattr(side, field.attname)
                    if value not in (None, ""):
                        pairs.append((field.related_model, value))
    names = _related_names(pairs)
    events = []
    for record in records:
        actor = str(record.history_user) if record.history_user_id else None
        changes = []
        if record.history_id in deltas:
            prev, changed = deltas[record.history_id]
            for change in changed:
                field = record.instance_type._meta.get_field(change.field)
                changes.append((str(field.verbose_name), _value(prev, change.field, names),
                                _value(record, change.field, names)))
            if not changes:
                continue
        kind, verb = _ACTION[record.history_type]
        # "Card: changed — phone: A → B"; the verb stands apart from the label so that
        # translations need no gender agreement with it.
        summary = f"{label}: {verb}"
        if changes:
            summary += " — " + "; ".join(f"{name}: {old} → {new}" for name, old, new in changes)
        events.append(ChangeEvent(at=record.history_date, kind=kind, actor=actor,
                                  summary=summary, changes=tuple(changes)))
    return events
