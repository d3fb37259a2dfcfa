"""Who the cabinet is showing (C3…C7): every cabinet page runs through ``cabinet_view``.

A cabinet login is a user linked to one client card (``ClientCard.cabinet_user``); he sees
only that card's data. A staff member may open the cabinet "as the client" after logging a
reason (see ``cabinet.views.auth``); he then sees the same pages read-only — any POST is
refused — so what he sees is exactly what the client sees, and he cannot act in his name.

Views get ``request.cabinet``: a ``CabinetClient`` with the card, its account (None before
the contract) and whether this is such a staff view. Objects are looked up through the card
(``get_object_or_404(Ticket, pk=…, client=request.cabinet.card)``), so another client's id is
a 404, never a 403 that would confirm it exists."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from billing.models import Account
from connections.models import ClientCard

SEE_AS_SESSION_KEY = "cabinet_see_as"  # card id a staff member opened with a logged reason


@dataclass(frozen=True)
class CabinetClient:
    card: ClientCard
    account: Account | None
    see_as: bool = False  # a staff member looking, read-only

    @property
    def readonly(self) -> bool:
        return self.see_as


def _card_query():
    return ClientCard.objects.select_related("building__street__city", "building__district",
                                             "branch", "account")


def cabinet_client(request) -> CabinetClient | None:
    """The client the cabinet shows for this request, or None (not signed in as a client and
    no logged "see as client" view open)."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return None
    card = _card_query().filter(cabinet_user=user).first()
    if card is not None:
        return CabinetClient(card=card, account=_account(card))
    card_id = request.session.get(SEE_AS_SESSION_KEY)
    if card_id and user.has_perm("connections.view_clientcard"):
        card = _card_query().filter(pk=card_id).first()
        if card is not None:
            return CabinetClient(card=card, account=_account(card), see_as=True)
    return None


def _account(card: ClientCard) -> Account | None:
    try:
        return card.account
    except Account.DoesNotExist:
        return None


def cabinet_view(view):
    """Require a cabinet client (else to the cabinet sign-in) and refuse changes in a staff
    "see as client" view."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        client = cabinet_client(request)
        if client is None:
            login = reverse("cabinet:login")
            return redirect(f"{login}?{REDIRECT_FIELD_NAME}={request.get_full_path()}")
        if client.readonly and request.method not in ("GET", "HEAD"):
            raise PermissionDenied(_("You are viewing the cabinet as the client: "
                                     "nothing can be changed here."))
        request.cabinet = client
        return view(request, *args, **kwargs)

    return wrapper
