"""A client never reaches another client's data (issue 6): every cabinet URL that takes an
id is called by ``subscriber`` with an id of ``stranger``'s object — GET and POST — and
answers 404, and the object is unchanged. The URLs come from the URL conf, so a new cabinet
URL with an id and no entry below fails this test until someone says what it names."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.urls import URLPattern, get_resolver, reverse

from billing.models import Claim, Document, OnlinePayment
from tests.factories import ClientCardFactory
from tickets.models import Category, Ticket

pytestmark = pytest.mark.django_db

# URLs whose ids are not a client's object: staff-only actions on a card (a cabinet login
# has no staff permission) and the public referral page (a code, not an object).
STAFF_ONLY = {"send_code", "see_as"}
PUBLIC = {"join", "join_thanks"}
# URLs that name a client's object, and which object (see stranger_objects).
CLIENT_OBJECTS = {"topup_result", "document_pdf", "claim_pdf", "request_detail",
                  "request_reply", "request_confirm", "request_rate"}


def stranger_objects(stranger) -> dict[str, dict]:
    """url name → the kwargs that name one of ``stranger``'s objects."""
    category = Category.objects.create(code="other", name="Other")
    ticket = Ticket.objects.create(client=stranger.client, branch=stranger.client.branch,
                                   category=category, channel="cabinet", subject="Secret",
                                   status=Ticket.Status.RESOLVED, formal_task="Secret task")
    document = Document.objects.create(kind=Document.Kind.ACT, number="A-1",
                                       account=stranger, period=dt.date(2026, 10, 1),
                                       issued_on=dt.date(2026, 11, 2), total=Decimal("600"))
    claim = Claim.objects.create(account=stranger, number="П-1",
                                 created_on=dt.date(2026, 11, 2), debt=Decimal("600"))
    online = OnlinePayment.objects.create(account=stranger, amount=Decimal("500"),
                                          gateway="test")
    by_ticket = {"pk": ticket.pk}
    return {
        "topup_result": {"public_id": online.public_id},
        "document_pdf": {"pk": document.pk},
        "claim_pdf": {"pk": claim.pk},
        "request_detail": by_ticket, "request_reply": by_ticket,
        "request_confirm": by_ticket, "request_rate": by_ticket,
    }


def cabinet_patterns() -> list[URLPattern]:
    resolver = get_resolver()
    (cabinet,) = [p for p in resolver.url_patterns
                  if getattr(p, "namespace", None) == "cabinet"]
    return [p for p in cabinet.url_patterns if p.pattern.converters]


def test_every_cabinet_url_with_an_id_is_covered():
    names = {p.name for p in cabinet_patterns()}
    known = CLIENT_OBJECTS | STAFF_ONLY | PUBLIC
    missing = {name for name in names if name not in known}
    assert not missing, f"say which client object these URLs take: {sorted(missing)}"


def test_another_clients_ids_are_404(subscriber, stranger, cabinet_web):
    objects = stranger_objects(stranger)
    assert set(objects) == CLIENT_OBJECTS
    ticket = Ticket.objects.get(client=stranger.client)
    balance = stranger.balance
    for pattern in cabinet_patterns():
        if pattern.name in PUBLIC:
            continue
        if pattern.name in STAFF_ONLY:
            url = reverse(f"cabinet:{pattern.name}",
                          kwargs={"card_id": stranger.client.pk})
            assert cabinet_web.get(url).status_code in (403, 404, 405), url
            assert cabinet_web.post(url).status_code in (403, 404), url
            continue
        url = reverse(f"cabinet:{pattern.name}", kwargs=objects[pattern.name])
        # A view refuses a method it does not serve (405) before it looks anything up;
        # the method it serves must say 404.
        answers = [cabinet_web.get(url),
                   cabinet_web.post(url, {"body": "hi", "score": "5", "comment": "x"})]
        codes = [response.status_code for response in answers]
        assert 404 in codes and set(codes) <= {404, 405}, (url, codes)
        assert not any(b"Secret" in response.content for response in answers)
    ticket.refresh_from_db()
    stranger.refresh_from_db()
    assert ticket.formal_confirmed_at is None and not ticket.comments.exists()
    assert not hasattr(ticket, "rating") or ticket.rating is None
    assert stranger.balance == balance


def test_an_unknown_id_is_the_same_404(cabinet_web):
    """Not found and not yours look alike: nothing tells a client that an id exists."""
    assert cabinet_web.get(reverse("cabinet:topup_result",
                                   kwargs={"public_id": uuid.uuid4()})).status_code == 404
    assert cabinet_web.get(reverse("cabinet:request_detail",
                                   kwargs={"pk": 987654})).status_code == 404


def test_a_card_without_contract_has_no_contract_pdf(db):
    from django.test import Client

    from tests.factories import UserFactory

    card = ClientCardFactory(cabinet_user=UserFactory(username="newcomer", roles=()))
    web = Client()
    web.force_login(card.cabinet_user)
    assert web.get(reverse("cabinet:contract_pdf")).status_code == 404
