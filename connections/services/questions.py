"""Ask a colleague (CS-1): questions land in the addressee role's queue and are answered
on the card."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import ClientCard, ColleagueQuestion
from ispcrm.errors import RuleViolation

from .staff import notify_role, notify_user

ROLES = dict(ColleagueQuestion.ROLE_CHOICES)


@transaction.atomic
def ask(*, card: ClientCard, actor, role: str, question: str) -> ColleagueQuestion:
    if role not in ROLES:
        raise ValidationError({"role": _("Ask the chief engineer, the NOC head, the head of "
                                         "sales or the commercial director.")})
    question = question.strip()
    if not question:
        raise ValidationError({"question": _("Write the question.")})
    asked = ColleagueQuestion.objects.create(card=card, role=role, question=question[:5000],
                                             asked_by=actor)
    notify_role(role, card.branch, _("A question about %(client)s") % {"client": card},
                f"{actor}: {question}")
    return asked


@transaction.atomic
def answer(*, question: ColleagueQuestion, actor, text: str) -> ColleagueQuestion:
    if not actor.has_role(question.role):
        raise PermissionDenied(_("The question is for %(role)s.") % {
            "role": ROLES[question.role]})
    text = text.strip()
    if not text:
        raise ValidationError({"answer": _("Write the answer.")})
    question = ColleagueQuestion.objects.select_for_update().get(pk=question.pk)
    if question.answered_at:
        raise RuleViolation(_("The question is already answered."), code="answered")
    question.answer, question.answered_by = text[:5000], actor
    question.answered_at = timezone.now()
    question.save()
    notify_user(question.asked_by, _("Answer about %(client)s") % {"client": question.card},
                f"{actor}: {text}")
    return question
