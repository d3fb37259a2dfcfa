from django.middleware.locale import LocaleMiddleware


class StaffLocaleMiddleware(LocaleMiddleware):
    """Pages are Russian unless the user picked English with the language switch; the
    browser's Accept-Language is ignored there, because staff and clients in Russia often
    run English-language browsers. API callers may still ask for English error texts."""

    def process_request(self, request):
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
