from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with ?page= and ?page_size= ≤ 500 (API.md).
    A page_size that is not a whole number ≥ 1 is a 400 and a blank page a 404 (DRF would
    silently use the defaults, hiding the caller's mistake); a page_size above 500 gives 500."""

    page_size_query_param = "page_size"
    max_page_size = 500
    page_size_query_description = _("Results per page, 1 to 500 (more gives 500).")

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        try:
            size = int(value)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("Give a whole number from 1 to %(max)s.")
                                              % {"max": self.max_page_size}]},
                code="invalid")
        return min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            return ""  # a blank ?page= is a mistake: "Invalid page" (404), not page 1
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters
