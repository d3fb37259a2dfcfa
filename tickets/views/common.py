"""What every helpdesk view shares: who may open the pages, running a service call with a
message, paging."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from ispcrm import roles
from ispcrm.errors import RuleViolation

PAGE_SIZE = 50
# Everybody on the staff may take a call and see the tickets; outages are declared by the
# network side and the support desk that hears of them first.
HELPDESK_ROLES = roles.ALL_ROLES
OUTAGE_ROLES = (roles.NOC_HEAD, roles.TECHNICAL_DIRECTOR, roles.SUPPORT)


def is_helpdesk(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*HELPDESK_ROLES))


def staff_only(view):
    """Signed in and holding a staff role, else 403."""
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_helpdesk(request.user):
            raise PermissionDenied(_("The helpdesk is for staff."))
        return view(request, *args, **kwargs)
    return wrapped


def may_manage_outages(user) -> bool:
    return user.is_superuser or user.has_role(*OUTAGE_ROLES)


def describe(exc: Exception) -> str:
    """The reason a service gave, in the words it used."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(" ".join(found) for found in exc.message_dict.values())
        return "; ".join(exc.messages)
    return str(exc) or _("You may not do this.")


def report(request, action, done) -> None:
    """Run a service call; a refusal becomes a message naming the reason. ``done`` is the
    success message, or a function of the call's result that words it."""
    try:
        result = action()
    except (RuleViolation, PermissionDenied, ValidationError) as exc:
        messages.error(request, describe(exc))
    else:
        messages.success(request, done(result) if callable(done) else done)


def act(request, action, done, fallback: str):
    """``report`` the call, then back to where the form came from."""
    report(request, action, done)
    return back(request, fallback)


def back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


def page_of(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
