"""Commercial terms (CS-1) and what the connection workflow asks of billing: the terms a
contract states, the tariffs a new client may pick, the account at signing, billing at
activation, closing at termination, and the "connection fee paid" stamp."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Account, Service, Tariff, Terms
from connections.hooks import ContractTerms
from connections.models import ClientCard, Stage

from . import accounts


def _check(tariff: Tariff, card: ClientCard) -> None:
    accounts._check_tariff(tariff, card, timezone.localdate())


@transaction.atomic
def terms_set(*, card: ClientCard, actor, tariff: Tariff | None,
              services: list[Service] | None = None, volume: str = "",
              payment_order: str = Terms.PaymentOrder.MONTHLY, notes: str = "") -> Terms:
    """Agree (or change) the preliminary terms. Once the contract is signed they are in the
    contract and the account: changes go through tariff changes then."""
    if card.stage not in (Stage.COMMERCIAL, Stage.EXPERTISE, Stage.CONTRACT,
                          Stage.NETWORK_DEVELOPMENT):
        raise ValidationError(_("The contract is signed: change the tariff on the account."))
    if tariff is not None:
        _check(tariff, card)
    if payment_order not in Terms.PaymentOrder.values:
        raise ValidationError({"payment_order": _("Choose a payment order.")})
    terms, _created = Terms.objects.get_or_create(client=card)
    terms.tariff, terms.volume, terms.payment_order = tariff, volume.strip(), payment_order
    terms.notes, terms.updated_by = notes.strip(), actor
    terms.save()
    if services is not None:
        terms.services.set(services)
    return terms


def agree_tariff(card: ClientCard, tariff_id, actor) -> None:
    """The tariff named when the card is opened (the new-client page, POST /clients/)."""
    tariff = Tariff.objects.filter(pk=tariff_id).first() if str(tariff_id).isdigit() else None
    if tariff is None:
        raise ValidationError({"tariff": _("No such tariff.")})
    terms_set(card=card, actor=actor, tariff=tariff)


def contract_terms(card: ClientCard) -> ContractTerms | None:
    terms = Terms.objects.filter(client=card).select_related("tariff").first()
    if terms is None or terms.tariff is None:
        return None
    tariff = terms.tariff
    return ContractTerms(
        tariff_name=tariff.name, monthly_fee=tariff.monthly_fee,
        connection_fee=tariff.connection_fee, speed_mbps=tariff.speed_mbps,
        services=[{"name": s.name, "monthly_fee": str(s.monthly_fee)}
                  for s in terms.services.all()],
        payment_order=terms.get_payment_order_display())


def tariff_choices(building, connection_type: str) -> list[tuple[int, str]]:
    today = timezone.localdate()
    tariffs = Tariff.objects.open_on(today).order_by("monthly_fee", "name")
    return [(t.pk, f"{t.name} — {t.monthly_fee:.0f} ₽, {t.speed_mbps} Мбит/с")
            for t in tariffs if t.sold_for(connection_type)]


def no_tariff(card: ClientCard) -> str | None:
    if contract_terms(card) is None:
        return _("no tariff is agreed in the commercial terms")
    return None


def on_stage_changed(sender, card: ClientCard, transition: str, actor, payload, **kwargs):
    """The workflow's money side: the account opens at signing (pending, connection fee
    charged), billing starts at activation, the account closes when the client leaves."""
    if transition == "sign_contract":
        terms = Terms.objects.select_related("tariff").get(client=card)
        account = accounts.account_open(client=card, tariff=terms.tariff, actor=actor,
                                        connection_fee=card.contract.connection_fee)
        for service in terms.services.all():
            accounts.service_add(account=account, service=service, actor=actor)
        if card.contract.connection_fee == 0:  # nothing to pay: no connection charge posted
            card.fee_paid_at = _stamp(card.pk)
    elif transition == "activate":
        accounts.account_activate(account=card.account, actor=actor)
    elif transition in ("terminate", "cancel"):
        account = Account.objects.filter(client=card).first()
        if account is not None:
            accounts.account_close(account=account, actor=actor)


def stamp_fee_paid(account: Account) -> None:
    """Mark the card once the connection fee is covered (CS-4, CS-6). Only a pending account
    owes it: the fee is its first charge, and activation needs the stamp. No query for the
    payments of clients in service."""
    if account.status == Account.Status.PENDING and account.balance >= 0:
        _stamp(account.client_id)


def _stamp(card_id: int):
    now = timezone.now()
    ClientCard.objects.filter(pk=card_id, fee_paid_at__isnull=True).update(fee_paid_at=now)
    return now


def on_payment_received(sender, payment, account: Account, **kwargs) -> None:
    stamp_fee_paid(account)
