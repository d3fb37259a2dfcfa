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


def _display(record, field_name: str) -> str:
    field = record.instance_type._meta.get_field(field_name)
    value = getattr(record, field.attname)
    if value in (None, ""):
        return "—"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        target = field.related_model._default_manager.filter(pk=value).first()
        return str(target) if target else f"#{value}"
    return str(value)


def change_events(history: Iterable, label: str) -> list[ChangeEvent]:
    """Turn history rows (newest first, as simple-history orders them) into events with the
    changed fields of each update. ``label`` names the record in the summary."""
    events = []
    for record in history:
        actor = str(record.history_user) if record.history_user_id else None
        changes: list[tuple[str, str, str]] = []
        if record.history_type == "~" and record.prev_record is not None:
            delta = record.diff_against(record.prev_record)
            for change in delta.changes:
                field = record.instance_type._meta.get_field(change.field)
                changes.append((str(field.verbose_name), _display(record.prev_record, change.field),
                                _display(record, change.field)))
            if not changes:
                continue  # saved without a change: nothing to tell
        kind, verb = _ACTION[record.history_type]
        # "Card: changed — phone: A → B"; the verb stands apart from the label so that
        # translations need no gender agreement with it.
        summary = f"{label}: {verb}"
        if changes:
            summary += " — " + "; ".join(f"{name}: {old} → {new}" for name, old, new in changes)
        events.append(ChangeEvent(at=record.history_date, kind=kind, actor=actor,
                                  summary=summary, changes=tuple(changes)))
    return events
