"""The work queues of the connection standard (UX: work queues, not menus): the pipeline,
the technical department's work log and meeting agenda, the crew leader's board, the chief
engineer's equipment list, the activation queue, contract approvals and disputes, questions
from colleagues. Thin: a page asks ``connections.queues`` for its rows; a button calls a
service or fires a transition and comes back with a message that names the reason when the
action is refused."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from connections import queues
from connections.models import (
    SLOTS,
    ClientCard,
    ColleagueQuestion,
    ConnectionType,
    Contract,
    Installation,
    Survey,
)
from connections.services import contracts, installations, questions, surveys, workflow
from ispcrm import roles
from ispcrm.errors import RuleViolation
from ispcrm.models import Branch

PAGE_SIZE = 50


def allowed(*role_names: str):
    """Signed in and holding one of the roles, else 403."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(*role_names):
                raise PermissionDenied(_("This page is for: %(roles)s.") % {
                    "roles": ", ".join(role_names)})
            return view(request, *args, **kwargs)
        return wrapped
    return decorate


def _may_choose_branch(user) -> bool:
    return user.is_superuser or user.has_role(roles.DIRECTOR) or not user.branch_id


def _branch(request) -> Branch | None:
    """The user's branch; a director or superuser may look at another one (?branch=)."""
    user = request.user
    chosen = request.GET.get("branch", "")
    if chosen.isdigit() and _may_choose_branch(user):
        found = Branch.objects.filter(pk=int(chosen)).first()
        if found is not None:
            return found
    return user.branch if user.branch_id else Branch.objects.order_by("pk").first()


def _render(request, template: str, page: queues.QueuePage, branch, context: dict):
    user = request.user
    context.update({
        "queue_page": page, "branch": branch, "today": timezone.localdate(),
        "branches": Branch.objects.order_by("name") if _may_choose_branch(user) else None,
        # Questions from colleagues reach a head on whichever queue he is working.
        "open_questions": queues.open_questions(
            user, user.branch if user.branch_id else None).count()
        if page != queues.QUESTION_QUEUE and user.has_role(*queues.QUESTION_QUEUE.roles)
        else 0,
    })
    return render(request, f"connections/queues/{template}", context)


def _back(request, fallback: str):
    """Back to the page the button was on (the landing page, or the queue itself)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()},
                                       require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


def _act(request, action, done: str, fallback: str):
    """Run a service call; a refusal becomes a message naming the reason."""
    try:
        action()
    except (RuleViolation, PermissionDenied) as exc:
        messages.error(request, str(exc) or _("You may not do this."))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, done)
    return _back(request, fallback)


def _fire(request, card: ClientCard, name: str, payload: dict, done: str, fallback: str):
    return _act(request, lambda: workflow.fire(card=card, name=name, actor=request.user,
                                               payload=payload), done, fallback)


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# Pipeline -------------------------------------------------------------------------------

@allowed(*queues.PIPELINE.roles)
def pipeline(request):
    branch = _branch(request)
    params = request.GET
    filters = {"manager": params.get("manager", ""),
               "connection_type": params.get("connection_type", ""),
               "overdue": bool(params.get("overdue"))}
    if filters["connection_type"] not in ConnectionType.values:
        filters["connection_type"] = ""
    columns = []
    if branch is not None:
        columns = queues.pipeline(
            branch=branch, today=timezone.localdate(),
            manager_id=int(filters["manager"]) if filters["manager"].isdigit() else None,
            connection_type=filters["connection_type"], overdue_only=filters["overdue"])
    managers = (get_user_model().objects.filter(branch=branch, groups__name__in=roles.SALES,
                                                is_active=True)
                .distinct().order_by("last_name", "first_name"))
    return _render(request, "pipeline.html", queues.PIPELINE, branch, {
        "columns": columns, "filters": filters, "managers": managers,
        "connection_types": ConnectionType.choices,
        "total": sum(column.count for column in columns),
        "approvals": queues.contracts_to_approve(request.user, branch).count()
        if request.user.has_role(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR) else 0,
    })


# Technical department work log -----------------------------------------------------------

def _route_url(branch, day) -> str | None:
    """The survey day's route list, once the documents part provides it."""
    try:
        return reverse("connections:survey_route", args=[branch.pk, day.isoformat()])
    except NoReverseMatch:
        return None


@allowed(*queues.SURVEY_LOG.roles)
def survey_log(request):
    branch = _branch(request)
    log = queues.survey_log(branch, timezone.localdate()) if branch else {}
    for day in log.get("days", ()):
        day["route"] = _route_url(branch, day["date"]) if day["surveys"] else None
    return _render(request, "survey_log.html", queues.SURVEY_LOG, branch, {
        "log": log, "may_decide": request.user.has_role(roles.TECHNICAL_DIRECTOR)})


@require_POST
@allowed(roles.TECHNICAL_DIRECTOR)
def survey_decide(request, pk: int):
    survey = get_object_or_404(Survey.objects.select_related("card"), pk=pk)
    approve = request.POST.get("decision") == "approve"
    day = parse_date(request.POST.get("date", "") or "") if approve else None

    def decide():
        if approve and day is None:
            raise ValidationError({"date": _("Choose the survey day.")})
        surveys.decide_urgent(survey=survey, actor=request.user, approve=approve, date=day)

    done = (_("Urgent survey of %(client)s approved for %(day)s.") % {
        "client": survey.card, "day": day.strftime("%d.%m.%Y")} if approve and day
        else _("Urgent survey of %(client)s declined: it goes to the next survey day.")
        % {"client": survey.card})
    return _act(request, decide, done, reverse("connections:survey_log"))


# Technical department meeting agenda -----------------------------------------------------

@allowed(*queues.NETWORK_AGENDA.roles)
def network_agenda(request):
    branch = _branch(request)
    cards = queues.network_agenda(branch, timezone.localdate()) if branch else []
    return _render(request, "network_agenda.html", queues.NETWORK_AGENDA, branch, {
        "page": _page(request, cards),
        "may_reopen": request.user.has_role(*workflow.allowed_roles("reopen"))})


@require_POST
@allowed(*workflow.allowed_roles("reopen"))
def survey_again(request, pk: int):
    card = get_object_or_404(ClientCard, pk=pk)
    last = card.surveys.filter(status=Survey.Status.DONE).order_by("-recorded_at").first()
    # The access arranged for the first survey still holds for the second.
    payload = {key: getattr(last, key) for key in (*workflow.ACCESS_FIELDS, "access_notes")} \
        if last else {}
    return _fire(request, card, "reopen", payload,
                 _("%(client)s goes to the technical survey again.") % {"client": card},
                 reverse("connections:network_agenda"))


# Crew planning board ---------------------------------------------------------------------

@allowed(*queues.CREW_BOARD.roles)
def crew_board(request):
    branch = _branch(request)
    today = timezone.localdate()
    board = queues.crew_board(branch, today) if branch else {"days": [], "rows": []}
    waiting = queues.installation_queue(branch, today, calendar=board.get("calendar")) \
        if branch else []
    return _render(request, "crew_board.html", queues.CREW_BOARD, branch, {
        "board": board, "waiting": waiting, "slots": SLOTS,
        "crews": [row["crew"] for row in board["rows"]],
        "may_plan": request.user.has_role(*workflow.allowed_roles("schedule_installation")),
    })


@require_POST
@allowed(*workflow.allowed_roles("schedule_installation"))
def plan_installation(request, pk: int):
    card = get_object_or_404(ClientCard, pk=pk)
    payload = {key: request.POST.get(key, "") for key in ("date", "crew", "time")}
    return _fire(request, card, "schedule_installation", payload,
                 _("Installation of %(client)s planned; the lead manager confirms the time "
                   "with the client.") % {"client": card},
                 reverse("connections:crew_board"))


# Chief engineer's equipment list ---------------------------------------------------------

@allowed(*queues.EQUIPMENT_LIST.roles)
def equipment_list(request):
    branch = _branch(request)
    return _render(request, "equipment_list.html", queues.EQUIPMENT_LIST, branch, {
        "page": _page(request, queues.equipment_to_order(branch) if branch else []),
        "ordered": queues.equipment_ordered_recently(branch) if branch else [],
        "may_order": request.user.has_role(roles.CHIEF_ENGINEER)})


@require_POST
@allowed(roles.CHIEF_ENGINEER)
def equipment_ordered(request, pk: int):
    installation = get_object_or_404(Installation.objects.select_related("card"), pk=pk)
    return _act(request, lambda: installations.equipment_ordered(installation=installation,
                                                                 actor=request.user),
                _("Equipment for %(client)s marked as ordered.") % {
                    "client": installation.card},
                reverse("connections:equipment_list"))


# Subscriber department's activation queue ------------------------------------------------

@allowed(*queues.ACTIVATION_QUEUE.roles)
def activation_queue(request):
    branch = _branch(request)
    cards = queues.activation_queue(branch, timezone.localdate()) if branch else []
    return _render(request, "activation_queue.html", queues.ACTIVATION_QUEUE, branch, {
        "page": _page(request, cards),
        "may_activate": request.user.has_role(*workflow.allowed_roles("activate"))})


@require_POST
@allowed(*workflow.allowed_roles("activate"))
def activate(request, pk: int):
    card = get_object_or_404(ClientCard, pk=pk)
    return _fire(request, card, "activate", {},
                 _("%(client)s is activated: billing started.") % {"client": card},
                 reverse("connections:activation_queue"))


# Contract approvals and the lawyer's disputes --------------------------------------------

@allowed(*queues.CONTRACT_QUEUE.roles)
def contract_queue(request):
    user = request.user
    branch = _branch(request)
    approver = user.has_role(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR)
    lawyer = user.has_role(roles.LAWYER)
    return _render(request, "contract_queue.html", queues.CONTRACT_QUEUE, branch, {
        "approver": approver, "lawyer": lawyer,
        "to_approve": list(queues.contracts_to_approve(user, branch)) if approver else [],
        # Disputes reach the lawyer from every branch.
        "disputed": list(queues.disputed_contracts()) if lawyer else [],
    })


@require_POST
@allowed(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR)
def contract_approve(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("card"), pk=pk)
    return _act(request, lambda: contracts.approve(contract=contract, actor=request.user),
                _("Contract %(number)s approved.") % {"number": contract.number},
                reverse("connections:contract_queue"))


@require_POST
@allowed(roles.LAWYER)
def contract_resolve(request, pk: int):
    contract = get_object_or_404(Contract.objects.select_related("card"), pk=pk)
    return _act(request, lambda: contracts.resolve(
        contract=contract, actor=request.user, resolution=request.POST.get("resolution", "")),
        _("The disputed clause of contract %(number)s is resolved.") % {
            "number": contract.number},
        reverse("connections:contract_queue"))


# Questions from colleagues ----------------------------------------------------------------

@allowed(*queues.QUESTION_QUEUE.roles)
def question_queue(request):
    branch = _branch(request) if request.user.branch_id else None
    return _render(request, "question_queue.html", queues.QUESTION_QUEUE, branch, {
        "page": _page(request, queues.open_questions(request.user, branch))})


@require_POST
@allowed(*queues.QUESTION_QUEUE.roles)
def question_answer(request, pk: int):
    question = get_object_or_404(ColleagueQuestion.objects.select_related("card"), pk=pk)
    return _act(request, lambda: questions.answer(question=question, actor=request.user,
                                                  text=request.POST.get("answer", "")),
                _("Answer sent to %(who)s.") % {"who": question.asked_by},
                reverse("connections:question_queue"))


urlpatterns = [
    path("work/pipeline/", pipeline, name="pipeline"),
    path("work/surveys/", survey_log, name="survey_log"),
    path("work/surveys/<int:pk>/decide/", survey_decide, name="queue_survey_decide"),
    path("work/network/", network_agenda, name="network_agenda"),
    path("work/network/<int:pk>/survey-again/", survey_again, name="queue_survey_again"),
    path("work/crews/", crew_board, name="crew_board"),
    path("work/crews/plan/<int:pk>/", plan_installation, name="queue_plan_installation"),
    path("work/equipment/", equipment_list, name="equipment_list"),
    path("work/equipment/<int:pk>/ordered/", equipment_ordered, name="queue_equipment_ordered"),
    path("work/activation/", activation_queue, name="activation_queue"),
    path("work/activation/<int:pk>/activate/", activate, name="queue_activate"),
    path("work/contracts/", contract_queue, name="contract_queue"),
    path("work/contracts/<int:pk>/approve/", contract_approve, name="queue_contract_approve"),
    path("work/contracts/<int:pk>/resolve/", contract_resolve, name="queue_contract_resolve"),
    path("work/questions/", question_queue, name="question_queue"),
    path("work/questions/<int:pk>/answer/", question_answer, name="queue_question_answer"),
]
