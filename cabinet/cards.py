"""The "Personal cabinet" section of the staff client card: whether the client has a login
and when he last signed in, a button that sends him a sign-in code, the "See as client"
form (a reason is required and logged) and the latest such views. Registered in
cabinet.apps.CabinetConfig.ready() through connections.cards."""

from billing.selectors import account_of
from cabinet.models import OneTimeCode, SeeAsLog

SEE_AS_ON_CARD = 5


def cabinet_section(request, card) -> dict | None:
    if not request.user.has_perm("connections.view_clientcard"):
        return None
    login = card.cabinet_user  # one query when there is a login
    account = account_of(card)
    return {
        "template": "cabinet/card_section.html",
        "login": login,
        "has_password": bool(login and login.has_usable_password()),
        "account_number": account.number if account else "",
        "last_code": (OneTimeCode.objects.filter(card=card).select_related("requested_by")
                      .order_by("-created_at", "-pk").first()),
        "see_as_log": list(SeeAsLog.objects.filter(card=card).select_related("staff")
                           .order_by("-at", "-pk")[:SEE_AS_ON_CARD]),
    }
