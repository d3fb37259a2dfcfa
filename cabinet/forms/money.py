"""The top-up form: just the amount; the service (billing.services.online.topup_amount)
says what is allowed, and its errors are shown on the field."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ispcrm.forms import BootstrapMixin


class TopupForm(BootstrapMixin, forms.Form):
    amount = forms.CharField(
        label=_("Amount, ₽"), max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off",
                                      "class": "form-control form-control-lg"}))
