"""Signals billing sends; handlers live where the reaction belongs (dunning lifts a block,
referrals credit a bonus). Sent inside the posting transaction."""

from django.dispatch import Signal

# payment=Payment, account=Account (locked, balance already updated). A handler that changes
# the account's row leaves this object as stored: the API answers with its balance unread.
payment_received = Signal()

# payment=Payment (now cancelled), account=Account (locked, the reversal posted)
payment_cancelled = Signal()

# account=Account (locked), after it was taken into service
account_activated = Signal()

# at=datetime: a charge run posted charges stamped at that moment (sent after its last batch)
charges_posted = Signal()
