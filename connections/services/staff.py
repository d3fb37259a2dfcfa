"""Telling staff about work that waits for them: an email to the people in a role (their
queue pages show the same items)."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from ispcrm import notifications
from ispcrm.models import Branch


def role_members(role: str, branch: Branch | None):
    users = get_user_model().objects.filter(is_active=True, groups__name=role)
    if branch is not None:
        users = users.filter(Q(branch=branch) | Q(branch__isnull=True))
    return users.distinct()


def notify_user(user, subject: str, text: str) -> None:
    if user is not None and user.email:
        notifications.send(channel=notifications.EMAIL, recipient=user.email, subject=subject,
                           text=text)


def notify_role(role: str, branch: Branch | None, subject: str, text: str) -> None:
    for user in role_members(role, branch):
        notify_user(user, subject, text)
