"""The connection standard's actions posted from the client card. Each view is thin: parse
the form, call the service (``workflow.fire`` for a stage transition), say what happened or
why not, and go back to the card. A refused form's input comes back on the card with its
errors (card_section.remember)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from connections import forms_workflow as wf
from connections.models import CardDocument, ClientCard, ColleagueQuestion, Crew, StageLog
from connections.models.guards import contract_of
from connections.services import contracts, installations, questions, surveys, workflow
from connections.services.documents import document_add
from connections.standard import role_labels
from ispcrm import roles
from ispcrm.errors import RuleViolation

from .card_section import remember

view_cards = permission_required("connections.view_clientcard", raise_exception=True)


def _card(pk: int) -> ClientCard:
    return get_object_or_404(ClientCard.objects.select_related("branch", "lead_manager"), pk=pk)


def _back(card: ClientCard):
    return redirect(reverse("connections:client_detail", args=[card.pk]) + "#workflow")


def _invalid(form, estimate=None) -> ValidationError | None:
    errors = {name: list(found) for name, found in form.errors.items()}
    if estimate is not None:
        lines = [_("Line %(n)s: %(error)s") % {"n": number, "error": " ".join(found)}
                 for number, row in enumerate(estimate.errors, start=1)
                 for found in row.values()]
        lines += list(estimate.non_form_errors())
        if lines:
            errors["estimate"] = lines
    return ValidationError(errors) if errors else None


def _describe(exc: ValidationError, form) -> str:
    """«Field: message» for each problem, the way the user sees the fields."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    parts = []
    for name, found in exc.message_dict.items():
        label = form.fields[name].label if name in form.fields else (
            _("Estimate") if name == "estimate" else "")
        text = " ".join(found)
        parts.append(f"{label}: {text}" if label else text)
    return "; ".join(parts)


def _run(request, card: ClientCard, key: str, form, call, *, estimate=None):
    """Validate, call the service, and put its outcome (or its refusal) in a message."""
    try:
        invalid = _invalid(form, estimate)
        if invalid is not None:
            raise invalid
        done = call(form.cleaned_data)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("Your role may not do this."))
    except RuleViolation as exc:
        messages.error(request, exc.message)
        remember(request, card, key, ValidationError({}))  # keep the input to change it
    except ValidationError as exc:
        messages.error(request, _("Not done. %(errors)s") % {"errors": _describe(exc, form)})
        remember(request, card, key, exc)
    else:
        messages.success(request, done)
    return _back(card)


def _require(user, *role_names: str) -> None:
    if not user.has_role(*role_names):
        raise PermissionDenied(_("Only %(roles)s may do this.") % {
            "roles": role_labels(role_names)})


def _contract(card: ClientCard):
    contract = contract_of(card)
    if contract is None:
        raise RuleViolation(_("The contract is not drafted yet."), code="no_contract")
    return contract


# --- Stage transitions ---------------------------------------------------------------------

@login_required
@view_cards
@require_POST
def card_transition(request, pk: int, name: str):
    if name not in wf.TRANSITION_FORMS:
        raise Http404
    card = _card(pk)
    kwargs = {}
    if name == "schedule_installation":
        kwargs["crews"] = Crew.objects.filter(branch=card.branch, active=True)
    form = wf.TRANSITION_FORMS[name](request.POST, **kwargs)
    estimate = (wf.EstimateFormSet(request.POST, prefix="estimate")
                if name == "record_expertise" else None)

    def fire(data):
        payload = form.payload()
        if estimate is not None:
            payload["estimate"] = [line for line in (row.line() for row in estimate) if line]
        workflow.fire(card=card, name=name, actor=request.user, payload=payload)
        log = StageLog.objects.filter(card=card).order_by("-at", "-id").first()
        return _("%(action)s: done. %(summary)s") % {"action": workflow.ACTIONS[name],
                                                     "summary": log.summary}

    return _run(request, card, name, form, fire, estimate=estimate)


# --- Around the transitions ------------------------------------------------------------------

@login_required
@view_cards
@require_POST
def card_survey_decide(request, pk: int):
    card = _card(pk)

    def decide(data):
        survey = surveys.current(card)
        if survey is None:
            raise RuleViolation(_("There is no survey request."), code="no_survey")
        survey = surveys.decide_urgent(survey=survey, actor=request.user,
                                       approve=data["approve"], date=data["date"])
        return _("The survey is on %(day)s.") % {"day": survey.date.strftime("%d.%m.%Y")}

    return _run(request, card, "survey_decide", wf.SurveyDecisionForm(request.POST), decide)


@login_required
@view_cards
@require_POST
def card_contract_draft(request, pk: int):
    card = _card(pk)

    def draft(data):
        _require(request.user, roles.MANAGER)
        contract = contracts.draft(card=card, actor=request.user,
                                   nonstandard=data["nonstandard"],
                                   connection_fee=data["connection_fee"])
        if contract.nonstandard:
            return _("Contract %(number)s drafted with non-standard terms: it waits for the "
                     "head of sales and the commercial director.") % {"number": contract.number}
        return _("Contract %(number)s drafted.") % {"number": contract.number}

    return _run(request, card, "contract_draft", wf.ContractDraftForm(request.POST), draft)


@login_required
@view_cards
@require_POST
def card_contract_approve(request, pk: int):
    card = _card(pk)

    def approve(data):
        contract = contracts.approve(contract=_contract(card), actor=request.user)
        if contract.approved:
            return _("Non-standard terms approved by both: the contract can be signed.")
        return _("Your approval is recorded; the other one is still needed.")

    return _run(request, card, "contract_approve", wf.ApproveForm(request.POST), approve)


@login_required
@view_cards
@require_POST
def card_contract_dispute(request, pk: int):
    card = _card(pk)

    def dispute(data):
        _require(request.user, roles.MANAGER)
        contracts.dispute(contract=_contract(card), actor=request.user, clause=data["clause"])
        return _("The disputed clause went to the lawyer.")

    return _run(request, card, "contract_dispute", wf.ContractDisputeForm(request.POST),
                dispute)


@login_required
@view_cards
@require_POST
def card_contract_resolve(request, pk: int):
    card = _card(pk)

    def resolve(data):
        contracts.resolve(contract=_contract(card), actor=request.user,
                          resolution=data["resolution"])
        return _("The disputed clause is resolved.")

    return _run(request, card, "contract_resolve", wf.ContractResolveForm(request.POST),
                resolve)


@login_required
@view_cards
@require_POST
def card_installation_override(request, pk: int):
    card = _card(pk)

    def allow(data):
        installations.allow_before_payment(card=card, actor=request.user,
                                           reason=data["reason"])
        return _("Installation allowed before payment: the crew leader may plan it.")

    return _run(request, card, "installation_override", wf.OverrideForm(request.POST), allow)


@login_required
@view_cards
@require_POST
def card_installation_confirm(request, pk: int):
    card = _card(pk)

    def confirm(data):
        _require(request.user, roles.MANAGER)
        installation = installations.confirm_with_client(card=card, actor=request.user)
        return _("The client agreed %(day)s %(time)s.") % {
            "day": installation.date.strftime("%d.%m.%Y"),
            "time": installation.slot.strftime("%H:%M")}

    return _run(request, card, "installation_confirm", wf.ConfirmForm(request.POST), confirm)


@login_required
@view_cards
@require_POST
def card_question_ask(request, pk: int):
    card = _card(pk)

    def ask(data):
        _require(request.user, *roles.SALES)
        asked = questions.ask(card=card, actor=request.user, role=data["role"],
                              question=data["question"])
        return _("The question went to the %(role)s.") % {"role": asked.get_role_display()}

    return _run(request, card, "question_ask", wf.AskForm(request.POST), ask)


@login_required
@view_cards
@require_POST
def card_question_answer(request, pk: int, question_pk: int):
    card = _card(pk)
    question = get_object_or_404(ColleagueQuestion, pk=question_pk, card=card)

    def answer(data):
        questions.answer(question=question, actor=request.user, text=data["answer"])
        return _("Answer sent to %(who)s.") % {"who": question.asked_by}

    return _run(request, card, f"answer-{question.pk}", wf.AnswerForm(request.POST), answer)


@login_required
@view_cards
@require_POST
def card_document_upload(request, pk: int):
    card = _card(pk)

    def upload(data):
        document = document_add(card=card, actor=request.user, kind=data["kind"],
                                file=data["file"], title=data["title"], number=data["number"])
        return _("%(title)s added to the card.") % {"title": document.title}

    return _run(request, card, "document_upload", wf.DocumentForm(request.POST, request.FILES),
                upload)


@login_required
@view_cards
def card_document_file(request, pk: int, document_pk: int):
    """A scan, only to staff who may see the card (uploads are not public media)."""
    document = get_object_or_404(CardDocument, pk=document_pk, card_id=pk)
    if not document.file:
        raise Http404
    return FileResponse(document.file.open("rb"), filename=document.file.name.rsplit("/")[-1])


CARD = "clients/<int:pk>/"
urlpatterns = [
    path(CARD + "transitions/<str:name>/", card_transition, name="card_transition"),
    path(CARD + "survey/decision/", card_survey_decide, name="card_survey_decide"),
    path(CARD + "contract/draft/", card_contract_draft, name="card_contract_draft"),
    path(CARD + "contract/approve/", card_contract_approve, name="card_contract_approve"),
    path(CARD + "contract/dispute/", card_contract_dispute, name="card_contract_dispute"),
    path(CARD + "contract/resolve/", card_contract_resolve, name="card_contract_resolve"),
    path(CARD + "installation/override/", card_installation_override,
         name="card_installation_override"),
    path(CARD + "installation/confirm/", card_installation_confirm,
         name="card_installation_confirm"),
    path(CARD + "questions/", card_question_ask, name="card_question_ask"),
    path(CARD + "questions/<int:question_pk>/answer/", card_question_answer,
         name="card_question_answer"),
    path(CARD + "documents/", card_document_upload, name="card_document_upload"),
    path(CARD + "documents/<int:document_pk>/", card_document_file, name="card_document_file"),
]
