from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from connections.api.serializers import StaffBriefSerializer
from connections.models import Building, ClientCard, District, Street
from tickets.models import Category, Comment, Outage, OutageUpdate, Ticket


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    group = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "group"]


class CommentSerializer(serializers.ModelSerializer):
    author = StaffBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Comment
        fields = ["id", "kind", "author", "body", "internal", "created_at"]


class CommentInSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    internal = serializers.BooleanField(default=False)


class RatingInSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as read; the thread comes along, without internal notes for a client."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    group = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    assignee = StaffBriefSerializer(read_only=True, allow_null=True)
    comments = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = ["id", "client", "category", "channel", "subject", "description", "priority",
                  "status", "group", "assignee", "outage", "created_at", "first_response_due",
                  "next_update_due", "resolution_due", "first_response_at", "resolved_at",
                  "first_response_breached", "resolution_breached", "promised_at",
                  "formal_task", "formal_confirmed_at", "comments"]
        read_only_fields = fields

    def get_comments(self, ticket) -> list[dict]:
        comments = ticket.comments.select_related("author")
        if self.context.get("client_view"):
            comments = comments.filter(internal=False)
        return CommentSerializer(comments, many=True).data


class TicketCreateSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=ClientCard.objects.all(),
                                                required=False, allow_null=True)
    category = serializers.SlugRelatedField(slug_field="code",
                                            queryset=Category.objects.filter(active=True))
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True,
                                        default="")
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices,
                                       default=Ticket.Priority.NORMAL)


class OutageUpdateSerializer(serializers.ModelSerializer):
    author = StaffBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = OutageUpdate
        fields = ["id", "text", "eta", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class OutageSerializer(serializers.ModelSerializer):
    """API.md's fields, plus districts and streets for an outage of a whole area."""

    buildings = serializers.PrimaryKeyRelatedField(queryset=Building.objects.all(), many=True,
                                                   required=False)
    districts = serializers.PrimaryKeyRelatedField(queryset=District.objects.all(), many=True,
                                                   required=False)
    streets = serializers.PrimaryKeyRelatedField(queryset=Street.objects.all(), many=True,
                                                 required=False)
    updates = OutageUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = Outage
        fields = ["id", "description", "buildings", "districts", "streets", "started_at",
                  "eta", "resolved_at", "resolution", "compensated_at", "updates"]
        read_only_fields = ["id", "resolved_at", "resolution", "compensated_at", "updates"]

    def validate(self, attrs):
        if not (attrs.get("buildings") or attrs.get("districts") or attrs.get("streets")):
            raise serializers.ValidationError(
                {"buildings": _("Name the buildings, districts or streets that are affected.")})
        return attrs


class OutageResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=20000)
    close_tickets = serializers.BooleanField(default=False)


class OutageNotifySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=1000)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                    default="")
