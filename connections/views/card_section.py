"""The "Connection standard" section of the client card (CS-7, M4): the stage timeline in
the standard's words, the current stage's deadline and facts, and the actions the user may
take now — or why an action of his role is refused now (UX: say why).

A fixed number of queries whatever the card's past: each related table is read once."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from connections import forms_workflow as wf
from connections import standard
from connections.models import (
    ClientCard,
    Contract,
    Crew,
    Installation,
    Stage,
    Survey,
)
from connections.services import installations, surveys, workflow
from connections.services.staff import role_members
from ispcrm import roles
from ispcrm.forms import apply_service_errors

GENERIC = "connections/workflow/action_form.html"


@dataclass
class Action:
    key: str  # unique on the page; also the session key of a form to show again
    label: str
    url: str
    form: object
    template: str = GENERIC
    style: str = "primary"
    open: bool = False  # shown unfolded: the form came back with errors
    note: str = ""
    formset: object = None
    multipart: bool = False
    extra: dict = field(default_factory=dict)


def pending_key(card: ClientCard) -> str:
    return f"workflow_form_{card.pk}"


def remember(request, card: ClientCard, key: str, exc: ValidationError) -> None:
    """Keep a refused form's input and errors for the card page to show again once."""
    data = {name: request.POST.getlist(name) for name in request.POST
            if name != "csrfmiddlewaretoken"}
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    request.session[pending_key(card)] = {"action": key, "data": data, "errors": errors}


class _Forms:
    """Makes the action forms, bound again to the input of the one that came back."""

    def __init__(self, request, card):
        self.pending = request.session.pop(pending_key(card), None) \
            if pending_key(card) in request.session else None

    def make(self, key: str, form_class, **kwargs):
        pending = self.pending if self.pending and self.pending["action"] == key else None
        kwargs.setdefault("auto_id", f"{key}-%s")
        if pending is None:
            return form_class(**kwargs), False
        data = QueryDict(mutable=True)
        for name, values in pending["data"].items():
            data.setlist(name, values)
        kwargs.pop("initial", None)
        form = form_class(data=data, **kwargs)
        errors = pending["errors"]
        if form.is_valid() and errors:  # the form was fine: the service refused it
            apply_service_errors(form, ValidationError(errors))
        return form, True

    def formset(self, key: str):
        pending = self.pending if self.pending and self.pending["action"] == key else None
        if pending is None:
            return wf.EstimateFormSet(prefix="estimate", auto_id=f"{key}-%s")
        data = QueryDict(mutable=True)
        for name, values in pending["data"].items():
            data.setlist(name, values)
        formset = wf.EstimateFormSet(data=data, prefix="estimate", auto_id=f"{key}-%s")
        formset.is_valid()
        return formset


# --- Reading what the card has ---------------------------------------------------------------

def _related(card: ClientCard, name: str, queryset):
    """The card's one-to-one row with its people, cached where the guards look for it."""
    row = queryset.filter(card=card).first()
    getattr(ClientCard, name).related.set_cached_value(card, row)
    return row


# The printable form of the documents a transition writes (connections.views.documents).
PDF_VIEWS = {"expertise_act": "expertise_pdf", "estimate": "expertise_pdf",
             "contract": "contract_pdf", "work_order": "work_order_pdf",
             "works_act": "works_act_pdf"}


def _document_url(card: ClientCard, document) -> str | None:
    if document.file:
        return _url("card_document_file", card, document.pk)
    try:
        return reverse(f"connections:{PDF_VIEWS[document.kind]}", args=[card.pk])
    except (KeyError, NoReverseMatch):
        return None


def _load(card: ClientCard) -> dict:
    contract = _related(card, "contract", Contract.objects.select_related(
        "drafted_by", "sales_approved_by", "director_approved_by", "lawyer", "signed_by"))
    installation = _related(card, "installation", Installation.objects.select_related(
        "crew", "planned_by", "confirmed_by", "override_by", "completed_by"))
    survey = (card.surveys.exclude(status=Survey.Status.CANCELLED)
              .select_related("requested_by", "approved_by", "recorded_by")
              .prefetch_related("estimate").order_by("-requested_at", "-id").first())
    documents = list(card.documents.select_related("created_by").order_by("created_at", "id"))
    for document in documents:
        document.url = _document_url(card, document)
    return {
        "contract": contract, "installation": installation, "survey": survey,
        "log": list(card.stage_log.select_related("actor").order_by("at", "id")),
        "documents": documents,
        "questions": list(card.questions.select_related("asked_by", "answered_by")
                          .order_by("asked_at", "id")),
    }


def _last(rows, test):
    found = None
    for row in rows:
        if test(row):
            found = row
    return found


def _timeline(card: ClientCard, log: list, documents: list) -> tuple[list, list]:
    """The five stages (done / current / stopped / ahead) with their documents, and the side
    stages the card reached."""
    order = {stage: index for index, stage in enumerate(standard.PATH)}
    if card.stage in order:
        reached = order[card.stage]
    else:  # a side stage: how far the card got before leaving the path
        reached = max((order[row.source] for row in log if row.source in order), default=0)
    by_stage: dict[str | None, list] = {}
    for document in documents:
        by_stage.setdefault(standard.document_stage(document.kind), []).append(document)
    stages = []
    for index, item in enumerate(standard.STAGES):
        if index < reached:
            status = "done"
        elif index == reached:
            status = "current" if card.stage == item.stage else "stopped"
        else:
            status = "ahead"
        stages.append({
            "standard": item, "status": status,
            "entered": _last(log, lambda r, s=item.stage: r.target == s and r.source != s),
            "left": _last(log, lambda r, s=item.stage: r.source == s and r.target != s),
            "documents": by_stage.get(item.stage, []),
        })
    side = [{"standard": item, "current": card.stage == item.stage,
             "entered": _last(log, lambda r, s=item.stage: r.target == s),
             "left": _last(log, lambda r, s=item.stage: r.source == s and r.target != s)}
            for item in standard.SIDE_STAGES
            if card.stage == item.stage or any(row.target == item.stage for row in log)]
    return stages, side


def _deadline(card: ClientCard, survey, installation, today) -> dict | None:
    """The guaranteed term of the current stage (CS-2, CS-4)."""
    if card.stage == Stage.EXPERTISE and survey and survey.status != Survey.Status.DONE:
        return {"label": _("Survey guaranteed by"), "date": survey.due_date,
                "overdue": survey.is_overdue(today)}
    if card.stage == Stage.INSTALLATION and installation and installation.due_date:
        return {"label": _("Installation guaranteed by"), "date": installation.due_date,
                "overdue": installation.completed_at is None
                and installation.due_date < today}
    return None


# --- What the user may do ----------------------------------------------------------------------

def _url(name: str, card: ClientCard, *args) -> str:
    return reverse(f"connections:{name}", args=[card.pk, *args])


def _transition_action(name: str, card, forms: _Forms, today, loaded) -> Action:
    url = _url("card_transition", card, name)
    label = str(workflow.ACTIONS[name])
    style = "outline-danger" if name in ("cancel", "terminate") else "primary"
    if name in ("request_expertise", "reopen"):
        form, again = forms.make(name, wf.RequestSurveyForm)
        days = surveys.survey_days(card.branch, today, limit=3)
        note = _("Next survey days: %(days)s.") % {"days": ", ".join(
            _("%(day)s (%(free)s free)") % {"day": day.strftime("%d.%m"), "free": max(free, 0)}
            for day, free in days)} if days else ""
        return Action(name, label, url, form, open=again, note=note)
    if name == "record_expertise":
        form, again = forms.make(name, wf.ExpertiseResultForm)
        return Action(name, label, url, form, open=again, formset=forms.formset(name),
                      template="connections/workflow/record_expertise.html")
    if name == "schedule_installation":
        crews = Crew.objects.filter(branch=card.branch, active=True).order_by("name")
        suggestion = installations.free_slots(card.branch, after=today, limit=1)
        initial, note = {}, _("No active crew in the branch: add crews in the admin.")
        if suggestion:
            day, slot, crew = suggestion[0]
            initial = {"date": day, "time": slot.strftime("%H:%M"), "crew": crew.pk}
            note = _("Earliest free slot: %(day)s %(time)s, %(crew)s.") % {
                "day": day.strftime("%d.%m.%Y"), "time": slot.strftime("%H:%M"), "crew": crew}
        installation = loaded["installation"]
        if installation is not None:
            initial.update(priority=installation.priority,
                           special_equipment=installation.special_equipment,
                           temporary_modem=installation.temporary_modem)
        form, again = forms.make(name, wf.ScheduleForm, crews=crews, initial=initial)
        return Action(name, label, url, form, open=again, note=note)
    form, again = forms.make(name, wf.TRANSITION_FORMS[name])
    return Action(name, label, url, form, open=again, style=style)


def _side_actions(card, user, forms: _Forms, loaded) -> list[Action]:
    """The actions around the transitions that fit the stage and the user's role now."""
    actions = []
    contract, installation, survey = (loaded["contract"], loaded["installation"],
                                      loaded["survey"])
    stage = card.stage

    def add(key, label, url_name, form_class, *args, style="outline-primary", **kwargs):
        form, again = forms.make(key, form_class, **kwargs)
        actions.append(Action(key, label, _url(url_name, card, *args), form, style=style,
                              open=again, multipart=form_class is wf.DocumentForm))

    if (stage == Stage.EXPERTISE and survey is not None and user.has_role(roles.TECHNICAL_DIRECTOR)
            and survey.status == Survey.Status.AWAITING_APPROVAL):
        add("survey_decide", _("Decide on the urgent survey"), "card_survey_decide",
            wf.SurveyDecisionForm, style="primary")
    if stage == Stage.CONTRACT:
        unsigned = contract is None or contract.signed_at is None
        if unsigned and user.has_role(roles.MANAGER):
            add("contract_draft", _("Draft the contract again") if contract
                else _("Draft the contract"), "card_contract_draft", wf.ContractDraftForm,
                initial={"nonstandard": contract.nonstandard,
                         "connection_fee": contract.connection_fee} if contract else None)
        if contract is not None and unsigned and contract.nonstandard and (
                (user.has_role(roles.HEAD_OF_SALES) and not contract.sales_approved_at)
                or (user.has_role(roles.COMMERCIAL_DIRECTOR)
                    and not contract.director_approved_at)):
            add("contract_approve", _("Approve the non-standard terms"),
                "card_contract_approve", wf.ApproveForm, style="primary")
        if contract is not None and unsigned and user.has_role(roles.MANAGER):
            add("contract_dispute", _("The client disputes a clause: to the lawyer"),
                "card_contract_dispute", wf.ContractDisputeForm)
        if (contract is not None and contract.disputed and contract.resolved_at is None
                and user.has_role(roles.LAWYER)):
            add("contract_resolve", _("Resolve the disputed clause"), "card_contract_resolve",
                wf.ContractResolveForm, style="primary")
    if stage == Stage.INSTALLATION:
        if (card.fee_paid_at is None and user.has_role(roles.TECHNICAL_DIRECTOR)
                and (installation is None or installation.override_by_id is None)):
            add("installation_override", _("Allow installation before payment"),
                "card_installation_override", wf.OverrideForm)
        if (installation is not None and installation.scheduled
                and installation.confirmed_at is None and installation.completed_at is None
                and user.has_role(roles.MANAGER)):
            add("installation_confirm", _("The client agreed the date"),
                "card_installation_confirm", wf.ConfirmForm, style="primary")
    if user.has_role(*roles.SALES):
        add("question_ask", _("Ask a colleague"), "card_question_ask", wf.AskForm)
    for question in loaded["questions"]:
        if question.answered_at is None and user.has_role(question.role):
            add(f"answer-{question.pk}", _("Answer: %(question)s") % {"question": question},
                "card_question_answer", wf.AnswerForm, question.pk, style="primary")
    if user.has_perm("connections.change_clientcard"):
        add("document_upload", _("Upload a document scan"), "card_document_upload",
            wf.DocumentForm)
    return actions


def _refused(card, user, available: list[str]) -> list[dict]:
    """Transitions from this stage that the user's role may fire but a rule forbids now."""
    names = {t.name for t in card.get_all_stage_transitions() if t.source == card.stage}
    refused = []
    for name in workflow.ACTIONS:
        if name in names and name not in available \
                and user.has_role(*workflow.allowed_roles(name)):
            reason = workflow.refusal(card, name)
            if reason:
                refused.append({"label": workflow.ACTIONS[name], "reason": reason})
    return refused


def _waiting(card, user) -> list[dict]:
    """Who else moves the card on from here (the user's own steps are above)."""
    names = {t.name for t in card.get_all_stage_transitions() if t.source == card.stage}
    return [{"label": workflow.ACTIONS[name],
             "who": standard.role_labels(workflow.allowed_roles(name))}
            for name in workflow.ACTIONS
            if name in names and name not in ("cancel", "terminate")
            and not user.has_role(*workflow.allowed_roles(name))]


def workflow_section(request, card: ClientCard) -> dict:
    user = request.user
    today = timezone.localdate()
    loaded = _load(card)
    stages, side = _timeline(card, loaded["log"], loaded["documents"])
    current = standard.of(card.stage)
    forms = _Forms(request, card)
    available = workflow.available(card, user)
    main = [name for name in available if name not in ("cancel", "terminate")]
    closing = [name for name in available if name in ("cancel", "terminate")]
    holders = []
    if current is not None and current.role and card.is_open:
        # The lead manager is the card's own; other positions: who holds them in the branch.
        holders = ([card.lead_manager] if current.role == roles.MANAGER and card.lead_manager
                   else list(role_members(current.role, card.branch)[:3]))
    return {
        "card": card,
        "stages": stages,
        "side": side,
        "current": current,
        "holders": holders,
        "deadline": _deadline(card, loaded["survey"], loaded["installation"], today),
        "actions": [_transition_action(name, card, forms, today, loaded) for name in main],
        "side_actions": _side_actions(card, user, forms, loaded),
        "closing": [_transition_action(name, card, forms, today, loaded) for name in closing],
        "refused": _refused(card, user, available),
        "waiting": _waiting(card, user),
        "all_documents": loaded["documents"],
        "questions": loaded["questions"],
        "open_questions": [q for q in loaded["questions"] if q.answered_at is None],
        "survey": loaded["survey"],
        "contract": loaded["contract"],
        "installation": loaded["installation"],
        "today": today,
    }
