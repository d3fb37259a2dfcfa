"""Referrals (C7): the client's code and link, the clients he brought with their state and
the sums that came through them, his bonuses; and the public join page a link opens, where
an invited visitor leaves a request that becomes a card in the commercial stage.

The join page is anonymous, so it guards itself: CSRF (Django's middleware), a honeypot
field, at most ``JOIN_RATE_LIMIT`` requests an hour from one address (the shared cache, so
it holds across processes), and a code that is not ours — or names someone who is not a
connected client — is a 404. It names the referrer by first name only."""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import BillingSettings
from cabinet import history_selectors as selectors
from cabinet.access import cabinet_view
from cabinet.forms.join import JoinForm
from cabinet.referral_codes import card_id, referral_code
from connections.models import OPEN_STAGES, ClientCard, ConnectionType, Stage
from connections.services.clients import client_create
from ispcrm.forms import apply_service_errors

Mode = BillingSettings.ReferralMode
RATE_WINDOW = 3600  # seconds: JOIN_RATE_LIMIT counts requests per hour


def programme(rules: BillingSettings) -> dict:
    """The programme's rule as the page words it; mode "off" also when its figure is 0."""
    if rules.referral_mode == Mode.FIXED and rules.referral_fixed_amount:
        return {"mode": "fixed", "amount": rules.referral_fixed_amount}
    if rules.referral_mode == Mode.PERCENT and rules.referral_percent:
        return {"mode": "percent", "percent": rules.referral_percent.normalize(),
                "months": rules.referral_months}
    return {"mode": "off"}


@cabinet_view
def referrals(request):
    card, account = request.cabinet.card, request.cabinet.account
    rule = programme(BillingSettings.current())
    # Only a connected client can invite: the join page refuses the code of anyone else.
    code = referral_code(card.pk) if rule["mode"] != "off" and card.stage == Stage.ACTIVE \
        else None
    return render(request, "cabinet/referrals/referrals.html", {
        "rule": rule, "code": code,
        "link": request.build_absolute_uri(reverse("cabinet:join", args=[code]))
        if code else "",
        "connected": card.stage == Stage.ACTIVE,
        "referred": selectors.referred_clients(card),
        "bonus_total": selectors.bonus_total(account),
        "has_account": account is not None,
    })


# --- The public join page ---------------------------------------------------------------------

def referrer_or_404(code: str) -> ClientCard:
    """The connected client a code names; anything else is a 404 (it says nothing about
    whether such a card exists)."""
    pk = card_id(code)
    card = (ClientCard.objects.select_related("branch", "building__street")
            .filter(pk=pk, stage=Stage.ACTIVE).first() if pk else None)
    if card is None:
        raise Http404("not a referral code")
    return card


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def over_rate_limit(request) -> bool:
    """Count one request from the visitor's address; True past the hourly limit. An atomic
    increment in the shared cache: two processes cannot both take the last place."""
    limit = settings.JOIN_RATE_LIMIT
    if limit <= 0:
        return False
    key = f"cabinet:join:{_client_address(request)}"
    cache.add(key, 0, timeout=RATE_WINDOW)  # starts the hour on the first request
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=RATE_WINDOW)
        count = 1
    # None: the cache is unreachable (django-redis ignores the error); the honeypot still
    # stops bots, so a Redis outage does not close the join page to people.
    return count is not None and count > limit


def join(request, code: str):
    referrer = referrer_or_404(code)
    city_id = referrer.building.street.city_id
    form = JoinForm(request.POST if request.method == "POST" else None, city_id=city_id)
    status = 200
    if request.method == "POST" and (form.is_bot or form.is_valid()):
        if over_rate_limit(request):
            form.add_error(None, _("Too many requests from your network. Please try again in "
                                   "an hour or call us."))
            status = 429
        elif form.is_bot:
            # Looks like success to the bot, creates nothing.
            return redirect("cabinet:join_thanks", code=code)
        else:
            try:
                _lead_create(form.cleaned_data, referrer, request)
            except ValidationError as exc:
                apply_service_errors(form, exc, rename={"premises": "flat"})
            else:
                return redirect("cabinet:join_thanks", code=code)
    return render(request, "cabinet/referrals/join.html", {
        "form": form, "first_name": selectors.first_name(referrer), "code": code,
        "office_phone": referrer.branch.phone,
    }, status=status)


def _lead_create(data: dict, referrer: ClientCard, request) -> ClientCard | None:
    """The lead as a card in the commercial stage, with its referrer. No lead manager: the
    branch's sales team picks it up from the pipeline. A phone already on an open card (the
    form sent twice, a second try) makes no second card; the visitor is thanked the same."""
    if ClientCard.objects.filter(phone=data["phone"], stage__in=OPEN_STAGES).exists():
        return None
    consent = _("Request from a referral link; consent to be called given on %(when)s "
                "from %(address)s.") % {
        "when": timezone.localtime().strftime("%d.%m.%Y %H:%M"),
        "address": _client_address(request)}
    return client_create(actor=None, kind=ClientCard.Kind.PERSON, name=data["name"],
                         phone=data["phone"], building=data["building"],
                         connection_type=ConnectionType.LAN, premises=data.get("flat", ""),
                         referrer=referrer, notes=consent)


def join_thanks(request, code: str):
    referrer = referrer_or_404(code)
    return render(request, "cabinet/referrals/join_thanks.html", {
        "office_phone": referrer.branch.phone})

