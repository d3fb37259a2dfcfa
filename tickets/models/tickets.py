"""A support request (SP-2…SP-5, Q1…Q4) with its SLA clock, thread, rating and time spent.

The clock: ``first_response_due``, ``next_update_due`` and ``resolution_due`` are instants
computed in the branch's working time from ``created_at`` plus the time spent waiting for the
client (``paused_for``, and ``paused_since`` while waiting). tickets.services.sla owns them."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory
from ispcrm.models import Branch

from .outages import Outage
from .routing import Category, SlaPolicy


class Ticket(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("In progress")
        WAITING = "waiting", _("Waiting for the client")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        WEB = "web", _("Web")
        MESSENGER = "messenger", _("Messenger")
        CABINET = "cabinet", _("Personal cabinet")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    client = models.ForeignKey("connections.ClientCard", models.PROTECT, null=True,
                               blank=True, related_name="tickets", verbose_name=_("client"))
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    category = models.ForeignKey(Category, models.PROTECT, related_name="tickets",
                                 verbose_name=_("category"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices,
                                default=Priority.NORMAL)
    status = FSMField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW,
                      protected=True)
    group = models.ForeignKey(Group, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("group"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                 blank=True, related_name="assigned_tickets",
                                 verbose_name=_("assignee"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("taken by"))
    outage = models.ForeignKey(Outage, models.SET_NULL, null=True, blank=True,
                               related_name="tickets", verbose_name=_("outage"))
    external_ref = models.CharField(_("external reference"), max_length=255, blank=True,
                                    help_text=_("Email Message-ID or messenger chat id."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # SLA (SP-3, Q5)
    policy = models.ForeignKey(SlaPolicy, models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("SLA policy"))
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    next_update_due = models.DateTimeField(_("next update due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    paused_since = models.DateTimeField(_("waiting for the client since"), null=True,
                                        blank=True)
    paused_for = models.DurationField(_("working time waited for the client"),
                                      default=timezone.timedelta)
    first_response_breached = models.BooleanField(_("first response late"), default=False)
    resolution_breached = models.BooleanField(_("resolution late"), default=False)
    # SP-4: a new date promised to the client when more time is needed.
    promised_at = models.DateTimeField(_("promised to the client by"), null=True, blank=True)
    # SP-5: the formal task the client confirms before work starts.
    formal_task = models.TextField(_("formal task"), blank=True)
    formal_confirmed_at = models.DateTimeField(_("confirmed by the client"), null=True,
                                               blank=True)
    history = HistoricalRecords(bases=[AuditedHistory], excluded_fields=["status"])

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "resolution_due"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["group", "status"]),
            models.Index(fields=["client", "-created_at"]),
            models.Index(fields=["external_ref"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.RESOLVED, self.Status.CLOSED)

    # Status moves; what each records (clock pauses, notices) is in tickets.services.

    @transition(status, source=[Status.NEW, Status.WAITING], target=Status.OPEN)
    def start(self):
        """Taken into work, or the client answered."""

    @transition(status, source=[Status.NEW, Status.OPEN], target=Status.WAITING)
    def wait_for_client(self):
        """A question to the client: the SLA clock stops."""

    @transition(status, source=[Status.NEW, Status.OPEN, Status.WAITING],
                target=Status.RESOLVED)
    def resolve(self):
        """Done; the client is asked for a rating."""

    @transition(status, source=Status.RESOLVED, target=Status.OPEN)
    def reopen(self):
        """The client says it is not solved."""

    @transition(status, source=Status.RESOLVED, target=Status.CLOSED)
    def close(self):
        """Resolved and rated (or left unrated long enough)."""


class Comment(models.Model):
    """The thread (Q3): replies, questions to the client and his answers, internal notes
    (never shown to the client), forwarding and status remarks."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        QUESTION = "question", _("Question to the client")
        CLIENT = "client", _("From the client")
        NOTE = "note", _("Internal note")
        FORWARD = "forward", _("Forwarded")
        PROMISE = "promise", _("New promised date")

    ticket = models.ForeignKey(Ticket, models.CASCADE, related_name="comments",
                               verbose_name=_("ticket"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REPLY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("author"))
    body = models.TextField(_("text"))
    internal = models.BooleanField(_("internal"), default=False)
    external_ref = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket comment")
        verbose_name_plural = _("ticket comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class SlaNotice(models.Model):
    """A warning or an escalation sent for a ticket: unique, so never twice (SP-3)."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE_WARNING = "fr_warning", _("First response: warning")
        FIRST_RESPONSE_BREACH = "fr_breach", _("First response: breached")
        RESOLUTION_WARNING = "res_warning", _("Resolution: warning")
        RESOLUTION_BREACH = "res_breach", _("Resolution: breached")
        UPDATE_BREACH = "update_breach", _("Update overdue")

    ticket = models.ForeignKey(Ticket, models.CASCADE, related_name="sla_notices")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    due = models.DateTimeField(_("for the deadline"))
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("sent to"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("SLA notice")
        verbose_name_plural = _("SLA notices")
        constraints = [models.UniqueConstraint(fields=["ticket", "kind", "due"],
                                               name="slanotice_once_per_deadline")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class Rating(models.Model):
    """The client's rating of a resolved ticket (SP-9, Q3): once, 1–5."""

    ticket = models.OneToOneField(Ticket, models.CASCADE, related_name="rating",
                                  verbose_name=_("ticket"))
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("rated employee"))
    created_at = models.DateTimeField(_("rated"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5),
                                              name="rating_score_1_to_5")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class ReviewTask(models.Model):
    """A low rating (≤ 3) investigated by the group head (SP-9)."""

    rating = models.OneToOneField(Rating, models.CASCADE, related_name="review",
                                  verbose_name=_("rating"))
    head = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("group head"))
    findings = models.TextField(_("findings"), blank=True)
    done_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rating review")
        verbose_name_plural = _("rating reviews")

    def __str__(self) -> str:
        return str(self.rating)


class TimeEntry(models.Model):
    """Time an assignee spent on a ticket (SP-8, SP-10)."""

    ticket = models.ForeignKey(Ticket, models.CASCADE, related_name="time_entries",
                               verbose_name=_("ticket"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                             verbose_name=_("employee"))
    day = models.DateField(_("day"), default=timezone.localdate)
    minutes = models.PositiveIntegerField(_("minutes"),
                                          validators=[MinValueValidator(1),
                                                      MaxValueValidator(24 * 60)])
    note = models.CharField(_("what was done"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["day", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(minutes__gt=0),
                                              name="timeentry_minutes_positive")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.minutes} min"
