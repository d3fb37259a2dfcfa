from django import forms
from django.utils.translation import gettext_lazy as _

from connections.models import Building, ClientCard, ClientContact
from ispcrm.forms import BootstrapMixin


class ClientCardForm(BootstrapMixin, forms.ModelForm):
    """Type checks only; requisites are normalised and validated by the service, whose
    errors the view attaches to these fields."""

    # Longer than the stored form: people write "+7 (912) 345-67-89"; the service normalises.
    phone = forms.CharField(label=_("Phone"), max_length=32)
    field_order = ["kind", "name", "phone"]
    building = forms.ModelChoiceField(
        queryset=Building.objects.all(), widget=forms.HiddenInput,
        error_messages={"required": _("Choose the building: start typing the street.")},
    )

    class Meta:
        model = ClientCard
        # "phone" is declared above and left out here: the model's 16-character limit applies
        # to the normalised number, which the service makes.
        fields = ["kind", "name", "email", "inn", "kpp", "building", "premises",
                  "connection_type", "branch", "lead_manager", "referrer", "notes"]
        widgets = {
            "kind": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 2}),
            "referrer": forms.NumberInput(attrs={"placeholder": _("client number")}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("phone", self.instance.phone_display)
        self.fields["name"].widget.attrs.update(autofocus=True, autocomplete="off")
        self.fields["phone"].widget.attrs.update(inputmode="tel", placeholder="+7 912 345-67-89")
        self.fields["branch"].required = False
        self.fields["lead_manager"].queryset = self.fields["lead_manager"].queryset.filter(
            is_active=True, groups__name__in=["manager", "head_of_sales", "commercial_director"]
        ).distinct()

    def building_label(self) -> str:
        """The chosen building's address, to show in the picker when the form is re-shown."""
        pk = self["building"].value()
        building = (Building.objects.select_related("street__city").filter(pk=pk).first()
                    if str(pk).isdigit() else None)
        return building.address if building else ""


class ClientContactForm(forms.ModelForm):
    class Meta:
        model = ClientContact
        fields = ["name", "role", "phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
            field.widget.attrs.setdefault("placeholder", field.label)
