"""Forms of the cabinet's requests pages (C4): they only parse input; the rules are in
tickets.services.tickets."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ispcrm.forms import BootstrapMixin
from tickets.models import Category


def client_label(category: Category) -> str:
    return category.client_name.strip() or category.name


def category_choices() -> list:
    """Active categories in the client's words, grouped by their type (the tree's root):
    the root first as the general choice, then what is below it; a type with nothing below
    is a choice of its own."""
    nodes = list(Category.objects.filter(active=True).order_by("order", "name"))
    known = {node.pk for node in nodes}
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        # Under an inactive parent a node stands as a type of its own.
        children.setdefault(node.parent_id if node.parent_id in known else None, []).append(node)

    def below(parent_id, seen):
        for node in children.get(parent_id, ()):
            if node.pk not in seen:
                seen.add(node.pk)
                yield node
                yield from below(node.pk, seen)

    choices: list = []
    for root in children.get(None, ()):
        inner = list(below(root.pk, {root.pk}))
        if inner:
            choices.append((client_label(root), [(root.pk, client_label(root)),
                                                 *((node.pk, client_label(node))
                                                   for node in inner)]))
        else:
            choices.append((root.pk, client_label(root)))
    return choices


class RequestForm(BootstrapMixin, forms.Form):
    category = forms.TypedChoiceField(label=_("What is it about"), coerce=int)
    subject = forms.CharField(label=_("In a few words"), max_length=200)
    description = forms.CharField(
        label=_("Details"), required=False, max_length=5000,
        help_text=_("What happens, since when, what you have already tried."),
        widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("— choose —")), *category_choices()]

    def clean_category(self):
        category = Category.objects.filter(pk=self.cleaned_data["category"],
                                           active=True).first()
        if category is None:
            raise forms.ValidationError(_("Choose what the request is about."))
        return category


class ReplyForm(BootstrapMixin, forms.Form):
    body = forms.CharField(label=_("Your message"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(label=_("Your rating"), coerce=int,
                                   choices=[(n, str(n)) for n in range(1, 6)])
    comment = forms.CharField(label=_("Comment (optional)"), required=False, max_length=2000)
