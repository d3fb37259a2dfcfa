"""Who sees reports (D8…D14): the director and the heads who answer for the figures, and the
accountant who closes the month. A role group check, since reports have no model of their
own to hang permissions on."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from ispcrm import roles


def can_see_reports(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(*roles.REPORTS)


def reports_view(view):
    """A staff page of reports: sign in first, then a 403 for roles without reports."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_see_reports(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
