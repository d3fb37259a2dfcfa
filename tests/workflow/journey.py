"""Drive a card through the standard with the services, for tests that start mid-way."""

from decimal import Decimal

from billing.models import Account
from billing.services.payments import payment_accept
from billing.services.terms import terms_set
from connections.models import ClientCard
from connections.services.workflow import fire
from tests.factories import ClientCardFactory

STEPS = ("request_expertise", "record_expertise", "sign_contract", "pay",
         "schedule_installation", "complete_installation", "activate")


def drive(team, *, to: str, tariff, crew=None, card=None, **card_fields) -> ClientCard:
    """A card (new, in ``team``'s branch) driven up to and including step ``to``."""
    manager = team["manager"]
    card = card or ClientCardFactory(branch=manager.branch, lead_manager=manager,
                                     building__street__city=manager.branch.city, **card_fields)
    terms_set(card=card, actor=manager, tariff=tariff)
    for step in STEPS[:STEPS.index(to) + 1]:
        if step == "pay":
            account = Account.objects.get(client=card)
            payment_accept(account=account, amount=-account.balance or Decimal("1"),
                           channel="cash", external_id=f"pay-{card.pk}", actor=manager)
            continue
        actor, payload = {
            "request_expertise": (manager, {}),
            "record_expertise": (team["noc_head"], {"possible": True}),
            "sign_contract": (manager, {}),
            "schedule_installation": (team["crew_leader"],
                                      {"date": "2026-11-25", "crew": crew and crew.pk}),
            "complete_installation": (team["crew_leader"], {"ip_address": "10.0.0.5"}),
            "activate": (team["subscriber_dept"], {}),
        }[step]
        card = fire(card=card, name=step, actor=actor, payload=payload)
    return ClientCard.objects.get(pk=card.pk)
