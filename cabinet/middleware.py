"""A cabinet client's session ends ``CABINET_SESSION_AGE`` after his last request.

At sign-in (``cabinet.services.auth.on_user_logged_in``) his session gets that age with
``set_expiry`` and a flag. An age set that way counts from the session's last save, and
Django saves a session only when it changed, so without help an active client would be
signed out half an hour after signing in. ``SESSION_SAVE_EVERY_REQUEST`` would fix that by
writing every session on every request, staff ones included; this middleware marks only
flagged (cabinet) sessions as changed, so only they are written again — with a new expiry
date in the session table and a fresh cookie. Staff sessions keep Django's defaults.

Must come after SessionMiddleware (it runs on the response before the session is saved)."""

from .services.auth import CABINET_SESSION_FLAG


class CabinetSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session this request already read: a request that never looked at the user
        # or the session costs nothing; a signed-in page read it to find the user anyway.
        if session is not None and session.accessed and session.get(CABINET_SESSION_FLAG):
            session.modified = True
        return response
