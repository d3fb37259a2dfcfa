"""One JSON error shape for the whole API (API.md):
``{"detail": "...", "code": "..."}``, plus one key per invalid field on 400."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ispcrm.errors import RuleViolation

logger = logging.getLogger("ispcrm.api")


def _first_code(codes) -> str:
    if isinstance(codes, dict):
        codes = next(iter(codes.values()), "invalid")
    if isinstance(codes, list):
        return _first_code(codes[0]) if codes else "invalid"
    return str(codes)


def exception_handler(exc, context):
    if isinstance(exc, DataError):
        # Input the validation let through but the database refuses (PostgreSQL: a NUL
        # character in a search or a lookup, a number out of range): bad input, not a fault.
        # Logged with the traceback, since it marks a check missing in the view or service.
        logger.warning("The database refused the input of %s", context["request"].path,
                       exc_info=exc)
        return Response({"detail": _("The input has a character or a value the database "
                                     "cannot take (such as a NUL character)."),
                         "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RuleViolation):
        return Response({"detail": exc.message, "code": exc.code},
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(get_error_detail(exc))  # keeps the error codes
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)  # keeps "only X may…"

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it surface as a 500 and be logged

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {key: value for key, value in errors.items() if key != "non_field_errors"}
        general = errors.get("non_field_errors") or errors.get("detail")
        if general:
            body["detail"] = " ".join(str(m) for m in general) if isinstance(general, list) \
                else str(general)
        else:
            fields = ", ".join(sorted(body))
            body["detail"] = _("Invalid input: %(fields)s.") % {"fields": fields}
        body["code"] = _first_code(exc.get_codes())
        response.data = body
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"detail": str(detail), "code": _first_code(exc.get_codes())}
    return response


# Django's own error pages (a URL no route matches, a request Django refuses before DRF, an
# unhandled exception) are HTML; under /api/ they are the API's JSON shape instead.
def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request) and isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return JsonResponse({"detail": _("The request body is larger than %(size)s MB: "
                                         "nothing was taken; send it in parts.")
                             % {"size": limit}, "code": "too_large"},
                            status=status.HTTP_400_BAD_REQUEST)
    if _is_api(request):
        return JsonResponse({"detail": str(exceptions.ParseError.default_detail),
                             "code": "bad_request"}, status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail),
                             "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """An unhandled exception (Django calls this inside its ``except``, and logs the
    traceback). The database out of reach (a restart, a failover, a dropped connection) or
    giving up on a transaction (a deadlock, a lock or statement timeout) is a 503 with
    Retry-After instead: the request's transaction did not commit, and the caller — a
    person, a payment gateway, a load balancer — may simply try again."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = _unavailable(request)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse({"detail": str(exceptions.APIException.default_detail),
                             "code": "error"}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


RETRY_AFTER_SECONDS = 5


def _unavailable(request) -> HttpResponse:
    detail = _("The service is unavailable for a moment. Nothing was saved; please try "
               "again in a few seconds.")
    if _is_api(request):
        return JsonResponse({"detail": detail, "code": "unavailable"},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
    # No template: rendering the site's frame would ask the database for the user.
    title = escape(_("Service unavailable"))
    return HttpResponse(
        f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{escape(detail)}</p></body></html>",
        status=status.HTTP_503_SERVICE_UNAVAILABLE)
