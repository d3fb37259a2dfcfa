"""Forms of the helpdesk's staff screens. They only parse input; the rules live in
tickets.services."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from connections.models import Building, District, Street
from ispcrm.forms import BootstrapMixin
from ispcrm.models import Branch

from .models import Category, Ticket

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def category_tree() -> list[tuple[int, str]]:
    """Active categories in tree order, each indented under its parent (type → direction →
    subject), so the picker reads like the tree."""
    nodes = list(Category.objects.filter(active=True).order_by("order", "name"))
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    known = {node.pk for node in nodes}
    choices: list[tuple[int, str]] = []

    def walk(parent, depth):
        for node in children.get(parent, ()):
            choices.append((node.pk, "\u00a0\u00a0\u00a0" * depth + node.name))
            walk(node.pk, depth + 1)

    walk(None, 0)
    # A node under an inactive parent still shows, at the top level.
    for parent in [key for key in children if key is not None and key not in known]:
        walk(parent, 0)
    return choices


class NewTicketForm(BootstrapMixin, forms.Form):
    client = forms.IntegerField(required=False, widget=forms.HiddenInput)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("What the caller says"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    priority = forms.ChoiceField(label=_("Priority"), choices=Ticket.Priority.choices,
                                 initial=Ticket.Priority.NORMAL)
    channel = forms.ChoiceField(label=_("Channel"), choices=Ticket.Channel.choices,
                                initial=Ticket.Channel.PHONE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—"), *category_tree()]

    def clean_category(self):
        return Category.objects.get(pk=self.cleaned_data["category"])


def staff_users():
    return get_user_model().objects.filter(is_active=True, groups__isnull=False).distinct() \
        .order_by("last_name", "first_name", "username")


class ForwardForm(BootstrapMixin, forms.Form):
    group = forms.ModelChoiceField(label=_("Group"), queryset=Group.objects.order_by("name"),
                                   required=False)
    assignee = forms.ModelChoiceField(label=_("Person"), queryset=staff_users(),
                                      required=False)
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.order_by("name"),
                                    required=False)
    note = forms.CharField(label=_("Why"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()


class PromiseForm(BootstrapMixin, forms.Form):
    promised_at = forms.DateTimeField(label=_("New date for the client"), widget=DATETIME,
                                      input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    note = forms.CharField(label=_("What we tell the client"), required=False)


class TimeForm(BootstrapMixin, forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    day = forms.DateField(label=_("Day"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("What was done"), required=False, max_length=255)


class OutageForm(BootstrapMixin, forms.Form):
    description = forms.CharField(label=_("What is down"),
                                  widget=forms.Textarea(attrs={"rows": 2}))
    buildings = forms.ModelMultipleChoiceField(
        label=_("Buildings"), queryset=Building.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple)
    building_ids = forms.CharField(
        label=_("More buildings by number"), required=False,
        help_text=_("Building numbers from the building page, separated by commas."))
    districts = forms.ModelMultipleChoiceField(
        label=_("Whole districts"), queryset=District.objects.order_by("name"), required=False)
    streets = forms.ModelMultipleChoiceField(
        label=_("Whole streets"), queryset=Street.objects.order_by("name"), required=False)
    eta = forms.DateTimeField(label=_("Expected repair"), widget=DATETIME, required=False,
                              input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])

    def __init__(self, *args, preset=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the buildings the form was opened for are ticked: a city has thousands.
        ids = set(preset)
        if self.data:
            ids.update(int(x) for x in self.data.getlist("buildings") if str(x).isdigit())
        self.fields["buildings"].queryset = Building.objects.filter(pk__in=ids) \
            .select_related("street")
        self.fields["buildings"].initial = list(preset)
        if not ids:
            self.fields["buildings"].widget = forms.MultipleHiddenInput()

    def clean(self):
        data = super().clean()
        ids = [part.strip() for part in data.get("building_ids", "").split(",") if part.strip()]
        if any(not part.isdigit() for part in ids):
            self.add_error("building_ids", _("Use building numbers separated by commas."))
            return data
        extra = list(Building.objects.filter(pk__in=[int(part) for part in ids]))
        data["buildings"] = [*data.get("buildings", []), *extra]
        if not (data["buildings"] or data.get("districts") or data.get("streets")):
            raise forms.ValidationError(_("Name the buildings, streets or districts affected."))
        return data


class OutageUpdateForm(BootstrapMixin, forms.Form):
    text = forms.CharField(label=_("Update"), widget=forms.Textarea(attrs={"rows": 2}))
    eta = forms.DateTimeField(label=_("New expected repair"), widget=DATETIME, required=False,
                              input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class OutageResolveForm(BootstrapMixin, forms.Form):
    resolution = forms.CharField(label=_("What was done"),
                                 widget=forms.Textarea(attrs={"rows": 2}))
