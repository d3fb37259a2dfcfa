"""The summary's query parameters and answer (API.md ``GET /api/v1/reports/summary/``)."""

import datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ispcrm.models import Branch
from reports.selectors.summary import GROUPINGS, MAX_DAYS

EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


class SummaryQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword: the fields are named in the class namespace directly.
    vars()["from"] = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text=_("First day of the period, YYYY-MM-DD."))
    vars()["to"] = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text=_("Last day of the period, YYYY-MM-DD."))
    group_by = serializers.ChoiceField(choices=GROUPINGS, default="month")
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), required=False,
                                                allow_null=True)

    def to_internal_value(self, data):
        # DRF would read a blank optional parameter (?group_by=) as "not given" and use the
        # default; a caller who sends one has a bug we should tell him about.
        blank = [name for name in self.fields if data.get(name) == ""]
        if blank:
            raise serializers.ValidationError(
                {name: [_("This field may not be blank.")] for name in blank}, code="blank")
        return super().to_internal_value(data)

    def validate(self, attrs):
        start, end = attrs["from"], attrs["to"]
        for name, day in (("from", start), ("to", end)):
            # Month and time-zone arithmetic near year 1 or 9999 overflows (a 500).
            if not EARLIEST <= day <= LATEST:
                raise serializers.ValidationError(
                    {name: _("Give a date from %(earliest)s to %(latest)s.")
                     % {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()}},
                    code="invalid")
        if start > end:
            raise serializers.ValidationError(
                {"to": _("The period ends before it starts.")}, code="invalid")
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {"to": _("The period is longer than ten years.")}, code="invalid")
        return attrs


_MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


class SummaryFiguresSerializer(serializers.Serializer):
    new_clients = serializers.IntegerField(help_text=_("Contracts signed (accounts opened)."))
    lost_clients = serializers.IntegerField(help_text=_("Contracts ended (accounts closed)."))
    connected = serializers.IntegerField(help_text=_("Clients activated."))
    disconnected = serializers.IntegerField(help_text=_("Clients terminated after service."))
    collected_total = serializers.DecimalField(**_MONEY)
    collected_debt = serializers.DecimalField(
        **_MONEY, help_text=_("Paid charges of earlier months."))
    collected_current = serializers.DecimalField(
        **_MONEY, help_text=_("Paid charges of the month the payment came in."))
    collected_prepaid = serializers.DecimalField(
        **_MONEY, help_text=_("Left on the balance for later charges."))
    charged = serializers.DecimalField(**_MONEY, help_text=_("Charges posted, positive."))
    arpu = serializers.DecimalField(
        **_MONEY, allow_null=True,
        help_text=_("Average monthly charges (without connection fees) per account in "
                    "service; null when none was."))


class SummaryGroupSerializer(SummaryFiguresSerializer):
    key = serializers.JSONField(
        help_text=_('"2026-11" for a month, the code of a connection type, the id of a '
                    "district or a tariff (null: none)."))
    label = serializers.CharField()
    city = serializers.CharField(required=False, help_text=_("For districts."))


class SummarySerializer(serializers.Serializer):
    vars()["from"] = serializers.DateField()
    vars()["to"] = serializers.DateField()
    group_by = serializers.CharField()
    groups = SummaryGroupSerializer(many=True)
    total = SummaryFiguresSerializer()
