"""Forms of the cabinet's sign-in, one-time code and "see as client" pages."""

from axes.helpers import get_cool_off
from django import forms
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cabinet.services.auth import ambiguous_phone_error, find_card, is_cabinet_user
from ispcrm.forms import BootstrapMixin


def _identifier_field(**kwargs) -> forms.CharField:
    return forms.CharField(
        label=_("Account number or phone"), max_length=40,
        help_text=_("The account number is in your contract; a phone as you like: "
                    "+7 912 345-67-89 or 89123456789."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "tel",
                                      "autocapitalize": "none", "spellcheck": "false"}),
        **kwargs)


class SignInForm(BootstrapMixin, forms.Form):
    """Account number or phone and the password. django-axes counts the failures: the
    identifier goes to ``authenticate`` as ``username`` in its normal form, so each way of
    writing a phone is the same login to it."""

    identifier = _identifier_field()
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "current-password"}))

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        self.identifier = ""
        self.locked_out = False
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        lookup = find_card(data["identifier"])
        self.identifier = lookup.identifier
        if lookup.ambiguous:
            raise ambiguous_phone_error()
        user = authenticate(self.request, username=lookup.identifier, password=data["password"])
        if getattr(self.request, "axes_locked_out", False):
            self.locked_out = True
            minutes = int(get_cool_off(self.request).total_seconds() // 60)
            raise ValidationError(
                ngettext("Signing in with this account number or phone is paused for "
                         "%(minutes)d minute after several wrong passwords. Get a one-time "
                         "code to set a new password and sign in now, or try again later.",
                         "Signing in with this account number or phone is paused for "
                         "%(minutes)d minutes after several wrong passwords. Get a one-time "
                         "code to set a new password and sign in now, or try again later.",
                         minutes) % {"minutes": minutes}, code="locked_out")
        if user is None:
            raise ValidationError(_("Wrong account number, phone or password. Forgot the "
                                    "password? Get a one-time code."), code="invalid_login")
        if not is_cabinet_user(user):
            raise ValidationError(_("This is a staff login: staff members sign in on the "
                                    "staff sign-in page."), code="staff")
        self.user = user
        return data


class CodeRequestForm(BootstrapMixin, forms.Form):
    identifier = _identifier_field()


class CodeConfirmForm(BootstrapMixin, forms.Form):
    identifier = _identifier_field()
    code = forms.CharField(
        label=_("Code from the message"), max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9 ]*"}))
    new_password1 = forms.CharField(
        label=_("New password"), strip=False,
        help_text=_("At least 8 characters, not only digits, not like your name."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(
        label=_("New password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        lookup = find_card(data["identifier"])
        if lookup.ambiguous:
            self.add_error("identifier", ambiguous_phone_error())
        if data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class SeeAsForm(forms.Form):
    reason = forms.CharField(label=_("Reason (logged)"), max_length=500)
