"""The ticket page (issue 5 items 4, 5, 10): everything about one ticket for staff — the
SLA clocks, the whole thread with internal notes marked, and the forms of each step. Every
button posts to ``ticket_action``, which calls one service and comes back with a message."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.forms import ForwardForm, PromiseForm, TimeForm
from tickets.models import Comment, Ticket
from tickets.services import tickets as desk

from .clocks import Clocks
from .common import act, staff_only


def category_path(category) -> str:
    names = []
    node = category
    while node is not None and len(names) < 10:
        names.append(node.name)
        node = node.parent
    return " → ".join(reversed(names))


@staff_only
def detail(request, pk: int):
    ticket = get_object_or_404(Ticket.objects.select_related(
        "client__building__street", "category__parent__parent", "assignee", "group", "branch",
        "policy", "outage", "created_by"), pk=pk)
    comments = ticket.comments.select_related("author")
    return render(request, "tickets/detail.html", {
        "ticket": ticket, "category_path": category_path(ticket.category),
        "clocks": Clocks().all(ticket), "comments": comments,
        "time_entries": ticket.time_entries.select_related("user"),
        "time_total": sum(entry.minutes for entry in ticket.time_entries.all()),
        "rating": getattr(ticket, "rating", None), "forward_form": ForwardForm(),
        "promise_form": PromiseForm(), "time_form": TimeForm(), "Status": Ticket.Status,
    })


def form_data(form_class, request):
    """The form's cleaned data, or the ValidationError the message shows."""
    form = form_class(request.POST)
    if not form.is_valid():
        raise ValidationError({name: [f"{form.fields[name].label}: {' '.join(found)}"
                                      if name in form.fields else " ".join(found)]
                               for name, found in form.errors.items()})
    return form.cleaned_data


def _comment(kind: str, internal: bool = False):
    def run(request, ticket):
        return desk.comment_add(ticket=ticket, author=request.user, kind=kind,
                                internal=internal, body=request.POST.get("body", ""))
    return run


def _forward(request, ticket):
    data = form_data(ForwardForm, request)
    if not (data["group"] or data["assignee"] or data["branch"]):
        raise ValidationError(_("Choose a group, a person or a branch."))
    return desk.ticket_forward(ticket=ticket, actor=request.user, group=data["group"],
                               assignee=data["assignee"], branch=data["branch"],
                               note=data["note"])


def _promise(request, ticket):
    data = form_data(PromiseForm, request)
    return desk.promise(ticket=ticket, actor=request.user, promised_at=data["promised_at"],
                        note=data["note"])


def _time(request, ticket):
    data = form_data(TimeForm, request)
    return desk.time_log(ticket=ticket, user=request.user, minutes=data["minutes"],
                         day=data["day"], note=data["note"])


# name → (what runs, what the message says on success)
ACTIONS = {
    "reply": (_comment(Comment.Kind.REPLY), lambda: _("Reply sent to the client.")),
    "question": (_comment(Comment.Kind.QUESTION),
                 lambda: _("Question sent; the SLA clock is paused until the client answers.")),
    "note": (_comment(Comment.Kind.NOTE, internal=True),
             lambda: _("Internal note added; the client does not see it.")),
    "take": (lambda request, ticket: desk.ticket_take(ticket=ticket, actor=request.user),
             lambda: _("The ticket is yours now.")),
    "forward": (_forward, lambda: _("Ticket forwarded; the SLA clock keeps running.")),
    "resolve": (lambda request, ticket: desk.ticket_resolve(
        ticket=ticket, actor=request.user, note=request.POST.get("body", "")),
        lambda: _("Ticket resolved; the client is asked to rate it.")),
    "reopen": (lambda request, ticket: desk.ticket_reopen(ticket=ticket, actor=request.user),
               lambda: _("Ticket reopened.")),
    "promise": (_promise, lambda: _("The new date is sent to the client.")),
    "formal": (lambda request, ticket: desk.formal_task_set(
        ticket=ticket, actor=request.user, text=request.POST.get("text", "")),
        lambda: _("Formal task sent to the client for confirmation.")),
    "time": (_time, lambda: _("Time logged.")),
}


@require_POST
@staff_only
def ticket_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    ticket = get_object_or_404(Ticket.objects.select_related("branch", "category", "client"),
                               pk=pk)
    run, done = ACTIONS[action]
    return act(request, lambda: run(request, ticket), lambda _result: done(),
               reverse("tickets:detail", args=[ticket.pk]))


urlpatterns = [
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/<slug:action>/", ticket_action, name="action"),
]
