"""The one-screen "new client" page (M1, C1, C2): a card with its tariff and the technician's
visit booked, by keyboard, in under a minute. The full card form (clients/new/) stays for
editing and for the rare fields this page leaves out."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _

from connections.forms_new_client import NewClientForm, branch_for, may_book, on_network
from connections.models import Survey
from connections.services import surveys
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors

SURVEY_DAYS_SHOWN = 4


def visit_context(form: NewClientForm, user, *, fresh: bool) -> dict:
    """The visit block: the next survey days with their free places when the building is
    on the network. ``fresh``: the building was just picked, so booking is ticked."""
    building = form.picked_building()
    context = {"form": form, "building": building, "may_book": may_book(user),
               "on_network": on_network(building), "days": [], "first_free": None}
    branch = branch_for(user, building)
    if context["on_network"] and branch is not None:
        days = surveys.survey_days(branch, timezone.localdate(), limit=SURVEY_DAYS_SHOWN)
        context["days"] = days
        context["first_free"] = next((day for day, free in days if free > 0), None)
    if fresh:
        context["book_checked"] = context["on_network"] and context["may_book"]
    else:
        context["book_checked"] = bool(form["book"].value())
    return context


def _saved_message(survey: Survey | None) -> str:
    if survey is None:
        return _("Card opened at the commercial stage.")
    if survey.date is None:
        return _("Card opened, the urgent survey waits for the technical director's approval.")
    return _("Card opened, survey booked for %(day)s.") % {
        "day": format_date(survey.date, "D d.m.Y")}


@login_required
@permission_required("connections.add_clientcard", raise_exception=True)
def client_start(request):
    form = NewClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            card, survey = form.save()
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except (RuleViolation, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _saved_message(survey))
            return redirect("connections:client_detail", pk=card.pk)
    context = visit_context(form, request.user, fresh=not form.is_bound)
    return render(request, "connections/new_client.html", context)


@login_required
@permission_required("connections.add_clientcard", raise_exception=True)
def client_start_live(request):
    """htmx: the tariff list when the connection type changes, the visit block when a
    building is picked (the form's current values come along). Two separate parts, so a
    late answer about the building never resets a tariff the manager already chose."""
    form = NewClientForm(request.GET, user=request.user)
    if request.GET.get("part") == "tariff":
        return render(request, "connections/partials/new_client_tariff.html", {"form": form})
    fresh = request.GET.get("picked") == "building"
    return render(request, "connections/partials/new_client_visit.html",
                  visit_context(form, request.user, fresh=fresh))


urlpatterns = [
    path("clients/start/", client_start, name="client_start"),
    path("clients/start/live/", client_start_live, name="client_start_live"),
]
