"""Signals billing sends; handlers live where the reaction belongs (dunning lifts a block,
referrals credit a bonus). Sent inside the posting transaction."""

from django.dispatch import Signal

# payment=Payment, account=Account (locked, balance already updated)
payment_received = Signal()

# account=Account (locked), after it was taken into service
account_activated = Signal()
