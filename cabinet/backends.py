"""The personal cabinet's sign-in: an account number or a phone and the password.

Listed in ``AUTHENTICATION_BACKENDS`` after django-axes' backend (which refuses while a
login is locked out) and after the staff backend (staff sign in by username; staying second
keeps that one the backend of staff sessions). It only ever returns a user linked to a client
card (``ClientCard.cabinet_user``), so it cannot sign a staff member in."""

from django.contrib.auth.backends import ModelBackend

from ispcrm.models import User

from .services.auth import find_card


class CabinetBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        lookup = find_card(username)
        user = lookup.card.cabinet_user if lookup.card is not None else None
        if user is None:
            # Run the hasher anyway, as ModelBackend does: the time taken must not tell
            # whether the account number or phone exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
