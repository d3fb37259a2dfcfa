"""The reports part of the API (API.md § Reports)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.access import can_see_reports
from reports.selectors.summary import GROUPINGS, summary

from .serializers import SummaryQuerySerializer, SummarySerializer


class CanSeeReports(BasePermission):
    """The report roles (reports.access); anonymous callers get 401 from the token
    authentication's challenge, other roles 403."""

    def has_permission(self, request, view) -> bool:
        return can_see_reports(request.user)


class SummaryView(APIView):
    """How the company did in a period (D8): clients won, lost, connected and disconnected,
    money collected split into debt / current / prepaid, charged, ARPU — per group.
    Definitions: docs/REPORTS.md and ``reports.selectors.summary``."""

    permission_classes = [CanSeeReports]

    @extend_schema(
        operation_id="reports_summary",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True,
                             description="First day of the period (YYYY-MM-DD)."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True,
                             description="Last day of the period, inclusive (YYYY-MM-DD)."),
            OpenApiParameter("group_by", str, enum=list(GROUPINGS), default="month"),
            OpenApiParameter("branch", int, description="Only clients of this branch."),
        ],
        responses=SummarySerializer,
    )
    def get(self, request):
        query = SummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        result = summary(data["from"], data["to"], branch=data.get("branch"),
                         group_by=data["group_by"])
        return Response(SummarySerializer(result).data)
