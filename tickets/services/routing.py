"""Where a new ticket goes (Q1): the category's group and person, inherited from the nearest
ancestor that names them; without a person, the least-loaded member of the group."""

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Q, Value, When

from ispcrm.models import Branch
from tickets.models import Category, Ticket

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)


def ancestors(category: Category) -> list[Category]:
    """The category and its parents, nearest first (a short walk: the tree is 3 deep)."""
    chain, node, seen = [], category, set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        chain.append(node)
        node = node.parent
    return chain


def category_head(category: Category):
    """Who gets escalations and low ratings: the head of the category or of its nearest
    ancestor that names one."""
    return next((node.head for node in ancestors(category) if node.head_id), None)


def least_loaded(group, branch: Branch | None = None, *, exclude=()):
    """The active member of ``group`` with the fewest open tickets; the branch's own staff
    first, so a local request stays local when someone there is free."""
    if group is None:
        return None
    members = (get_user_model().objects.filter(groups=group, is_active=True)
               .exclude(pk__in=[user.pk for user in exclude])
               .annotate(load=Count("assigned_tickets",
                                    filter=Q(assigned_tickets__status__in=OPEN_STATUSES))))
    if branch is not None:
        members = members.annotate(elsewhere=Case(When(branch=branch, then=Value(0)),
                                                  default=Value(1),
                                                  output_field=IntegerField()))
        return members.order_by("elsewhere", "load", "pk").first()
    return members.order_by("load", "pk").first()


def route(category: Category, branch: Branch | None = None):
    """``(group, assignee)`` for a new ticket of ``category``; either may be None."""
    chain = ancestors(category)
    group = next((node.group for node in chain if node.group_id), None)
    person = next((node.person for node in chain if node.person_id), None)
    if person is not None and person.is_active:
        return group, person
    return group, least_loaded(group, branch)
