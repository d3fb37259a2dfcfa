"""The OpenAPI schema documents the error answers too (API.md "Errors"): every operation
lists the error statuses it can give, all in the one shape of ``ispcrm.api.errors``, so
that a client generated from the schema — and schemathesis — know them."""

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


# A view may name it for a status of its own, e.g. a 404 for an unknown object in the body.
class ErrorSerializer(serializers.Serializer):
    """An error answer of the API."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="What went wrong, for a program.")


VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "The error shape plus one key per invalid field with its messages.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
    "additionalProperties": {},
}

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code, description in self._error_statuses():
            schema = self._validation_error() if code == "400" else error
            # A view's own answer for the status (e.g. the usage import's 400) wins.
            responses.setdefault(code, {"description": description,
                                        "content": {"application/json": {"schema": schema}}})
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF reads a decimal from a JSON number as well as from text; say so for input.
        if (direction == "request" and isinstance(field, serializers.DecimalField)
                and schema.get("type") == "string"):
            meta = {key: schema.pop(key) for key in ("title", "description", "default")
                    if key in schema}
            return {"oneOf": [schema, {"type": "number"}], **meta}
        return schema

    def _error_statuses(self):
        # Any operation: a body, a query or even a path value may be bad input.
        yield "400", "Bad input."
        if self.view.get_authenticators():
            yield "401", "No credentials."
            yield "403", "The role may not do this."
        if "{" in self.path or (self._get_paginator() and self._is_list_view()):
            yield "404", "Unknown object (or page), or not yours."
        if self.method in UNSAFE_METHODS:
            yield "409", "A business rule forbids it now; the detail names the condition."
            if self.get_request_serializer() is not None:
                yield "415", "The body is not of the documented media type, or unreadable."
        if self.view.get_throttles():
            yield "429", "Too many requests."
        yield "503", "The database is out of reach for a moment; retry after Retry-After."

    def _validation_error(self) -> dict:
        component = ResolvedComponent(name="ValidationError", type=ResolvedComponent.SCHEMA,
                                      object="ValidationError", schema=VALIDATION_ERROR_SCHEMA)
        self.registry.register_on_missing(component)
        return component.ref
