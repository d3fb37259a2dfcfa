"""Signing in to the cabinet (issue 6, item 1): by account number or phone and a password;
the first password and resets by a one-time code; signing out. And the staff's "see as
client": a logged reason, then the client's cabinet read-only.

Thin: the forms check the input, ``cabinet.services.auth`` does the work."""

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from cabinet.access import SEE_AS_SESSION_KEY, cabinet_client
from cabinet.forms.auth import CodeConfirmForm, CodeRequestForm, SeeAsForm, SignInForm
from cabinet.services import auth as service
from connections.models import ClientCard
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors

BACKEND = "cabinet.backends.CabinetBackend"
CODE_FOR_SESSION_KEY = "cabinet_code_for"  # the identifier a code was asked for


def _next_url(request) -> str:
    """Where to go after signing in: the cabinet page he was sent away from, else home.
    Only cabinet pages: a staff page would only answer 403."""
    home = reverse("cabinet:home")
    wanted = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure())
    if safe and wanted.startswith(home) and not wanted.startswith(reverse("cabinet:logout")):
        return wanted
    return home


@sensitive_post_parameters("password")
def login_view(request):
    client = cabinet_client(request)
    if client is not None and not client.see_as:
        return redirect(_next_url(request))
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            login(request, form.user, backend=BACKEND)
            # axes clears the failures of the username it knows (c<card id>); the ones
            # counted against what he typed are cleared here.
            axes_reset(ip=getattr(request, "axes_ip_address", None), username=form.identifier)
            return redirect(_next_url(request))
        if form.locked_out:
            # Our own page says it, in the cabinet's words: AxesMiddleware would otherwise
            # replace the response with the staff lockout page.
            request.axes_locked_out = False
            status = 429
    return render(request, "cabinet/auth/login.html", {
        "form": form, "next": _next_url(request), "locked_out": form.locked_out,
        "staff_user": request.user.is_authenticated and client is None,
    }, status=status)


@require_POST
def logout_view(request):
    client = cabinet_client(request)
    if client is not None and client.readonly:
        raise PermissionDenied(_("You are viewing the cabinet as the client: "
                                 "nothing can be changed here."))
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("cabinet:login")


def code_request(request):
    initial = {"identifier": request.GET.get("identifier")
               or request.session.get(CODE_FOR_SESSION_KEY, "")}
    form = CodeRequestForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        try:
            service.code_request(identifier=identifier)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except RuleViolation as exc:
            form.add_error(None, str(exc))
        else:
            request.session[CODE_FOR_SESSION_KEY] = identifier.strip()
            # The same words whether or not the identifier is anybody's (no enumeration).
            messages.info(request, _(
                "If this account number or phone is ours, a code is on its way: by email if "
                "we have your email, otherwise by SMS. It is valid for 10 minutes."))
            return redirect("cabinet:code_confirm")
    return render(request, "cabinet/auth/code_request.html", {"form": form})


@sensitive_post_parameters("code", "new_password1", "new_password2")
def code_confirm(request):
    initial = {"identifier": request.session.get(CODE_FOR_SESSION_KEY, "")}
    form = CodeConfirmForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = service.code_confirm(identifier=data["identifier"], code=data["code"],
                                        password=data["new_password1"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            login(request, user, backend=BACKEND)
            request.session.pop(CODE_FOR_SESSION_KEY, None)
            messages.success(request, _("Your new password is set. Welcome to your cabinet!"))
            return redirect("cabinet:home")
    return render(request, "cabinet/auth/code_confirm.html", {"form": form})


# --- Staff -----------------------------------------------------------------------------------


def _card_url(card_id: int) -> str:
    return reverse("connections:client_detail", args=[card_id]) + "#cabinet"


def _staff(request) -> None:
    if service.is_cabinet_user(request.user) or not request.user.has_perm(
            "connections.view_clientcard"):
        raise PermissionDenied(_("Only staff who may see client cards can do this."))


@require_POST
@login_required
def see_as(request, card_id: int):
    """Open the client's cabinet read-only, after logging why."""
    _staff(request)
    card = get_object_or_404(ClientCard, pk=card_id)
    form = SeeAsForm(request.POST)
    try:
        service.see_as_start(staff=request.user, card=card,
                             reason=form.cleaned_data["reason"] if form.is_valid() else "")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_card_url(card.pk))
    request.session[SEE_AS_SESSION_KEY] = card.pk
    return redirect("cabinet:home")


@require_POST
@login_required
def see_as_end(request):
    card_id = request.session.pop(SEE_AS_SESSION_KEY, None)
    if card_id is None:
        return redirect("home")
    return redirect(_card_url(card_id))


@require_POST
@login_required
def send_code(request, card_id: int):
    """The card's "send the client a sign-in code" button (he asked on the phone)."""
    _staff(request)
    card = get_object_or_404(ClientCard, pk=card_id)
    try:
        sent = service.code_send(card=card, requested_by=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        how = _("by email") if sent.channel == "email" else _("by SMS")
        if sent.delivered:
            messages.success(request, _("A sign-in code went to the client %(how)s to "
                                        "%(to)s.") % {"how": how, "to": sent.recipient})
        else:
            messages.error(request, _("The code could not be sent %(how)s to %(to)s: "
                                      "%(error)s") % {"how": how, "to": sent.recipient,
                                                      "error": sent.error})
    return redirect(_card_url(card.pk))
