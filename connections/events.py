"""Signals of the connection workflow; higher apps react (billing opens, starts and closes
the account; the helpdesk takes an activated client into support, SP-1).

Sent inside the transition's transaction after the stage changed: a handler that raises
(``RuleViolation``, ``ValidationError``) undoes the whole transition."""

from django.dispatch import Signal

# card=ClientCard (locked, new stage set), transition=str, actor=User, payload=dict,
# log=StageLog
stage_changed = Signal()
