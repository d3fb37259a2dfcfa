"""Form helpers every app's pages use: Bootstrap styling and a service's errors shown on
the fields."""

from django import forms
from django.core.exceptions import ValidationError


class BootstrapMixin:
    """Bootstrap classes on every widget, and ``is-invalid`` on the fields with errors
    (whether the form or the service found them)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect
                          | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs.get("class", ""):
                    attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()


def apply_service_errors(form, exc: ValidationError, rename: dict | None = None) -> None:
    """Show a service's ValidationError on the form: a dict's keys on the fields of the same
    name (or as ``rename`` maps them), the rest above the form."""
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        name = rename.get(key, key)
        form.add_error(name if name in form.fields else None, errors)
