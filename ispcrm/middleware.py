from django.core.exceptions import BadRequest
from django.middleware.locale import LocaleMiddleware


class StaffLocaleMiddleware(LocaleMiddleware):
    """Pages are Russian unless the user picked English with the language switch; the
    browser's Accept-Language is ignored there, because staff and clients in Russia often
    run English-language browsers. API callers may still ask for English error texts."""

    def process_request(self, request):
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)


class RejectNullCharactersMiddleware:
    """A NUL character in the path or the query string is a 400. PostgreSQL refuses NUL in
    text, so a search for "%00" would otherwise end in a 500 on every page that filters by a
    GET parameter; forms already refuse it (Django's CharField validator)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()):
            raise BadRequest("NUL character in the address")
        return self.get_response(request)
