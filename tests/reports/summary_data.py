"""A small hand-built company for the summary tests (test_summary, test_summary_api,
test_dashboard): five accounts over August…December 2026 whose every figure is worked out by
hand in the tests. Times are Moscow time.

Москва (branch «Москва — офис»): district «Центральный» (A), «Северный» (B);
Тюмень (branch «Тюмень — офис»): district «Заречный» (C).
Tariffs: «Домашний 600» (600/month), «Бизнес 3000» (3,000), «Спутник 3500» (3,500).

acc1  A, lan, Домашний   opened 10.09 (fee 1,000), paid 1,000 on 11.09, activated 15.09
      (320 for 15–30.09), charged 600 on 01.10, paid 500 on 05.10, charged 600 on 01.11,
      paid 1,500 on 10.11, 300 on 20.11, 200 on 21.11 (cancelled).
acc2  B, radio, Бизнес   opened 20.10 (fee 5,000), paid 8,000 on 25.10, activated 28.10
      (387.10 for 28–31.10), charged 3,000 on 01.11, paid 5,000 on 15.11, 100 on 01.12 01:00
      (30.11 22:00 UTC: December in Moscow).
acc3  A, lan, Домашний   opened 01.08, activated 05.08 (522.58), paid 522.58 on 06.08,
      charged 600 on 01.09, 01.10 and 01.11 (unpaid), paid 1,000 on 03.11, terminated 05.11:
      account closed, 520 of November returned.
acc4  C, satellite, Спутник   opened 12.11 (fee 15,000), cancelled 18.11: closed, never
      activated, nothing paid.
acc5  C, lan, Домашний (Тюмень branch)   opened 02.11 (fee 1,000), paid 1,000 the same day,
      activated 03.11 (560 for 03–30.11).
acc1–acc3 are in the Moscow branch, acc4 and acc5 in the Tyumen one.
"""

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from billing.models import Account, LedgerEntry, Subscription
from billing.services.ledger import post
from billing.services.payments import payment_accept, payment_cancel
from tests.factories import (
    BranchFactory,
    BuildingFactory,
    CityFactory,
    ClientCardFactory,
    DistrictFactory,
    StreetFactory,
    TariffFactory,
    UserFactory,
)

D = Decimal
_receipts = itertools.count(1)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, month, day, hour, minute))


def period(month: int) -> dt.date:
    return dt.date(2026, month, 1)


def charge(account, amount, when, month, kind="monthly_fee"):
    """A charge of ``amount`` roubles (negative: money returned) posted at ``when``."""
    post(account=account, kind=LedgerEntry.Kind.CHARGE, amount=-D(amount), period=period(month),
         charge_kind=kind, description=f"{kind} {month}", at=when)


def pay(account, amount, when):
    payment, _ = payment_accept(account=account, amount=D(amount), channel="cash",
                                external_id=f"t-{next(_receipts)}", paid_at=when)
    return payment


def open_account(card, tariff, when, fee=None):
    account = Account.objects.create(number=str(10_000_000 + card.pk), client=card)
    Account.objects.filter(pk=account.pk).update(opened_at=when)
    Subscription.objects.create(account=account, tariff=tariff, start=when.date())
    if fee:
        charge(account, fee, when, when.month, kind="connection_fee")
    return account


def activate(account, when):
    Account.objects.filter(pk=account.pk).update(status="active", activated_on=when.date())
    type(account.client).objects.filter(pk=account.client_id).update(
        stage="active", activated_at=when)


def close(account, when, *, terminated: bool):
    Account.objects.filter(pk=account.pk).update(status="closed", closed_on=when.date())
    fields = {"stage": "terminated", "terminated_at": when} if terminated else \
        {"stage": "cancelled"}
    type(account.client).objects.filter(pk=account.client_id).update(**fields)


class Company:
    """The data set; attributes name its pieces for the tests."""

    def __init__(self):
        moscow, tyumen = CityFactory(name="Москва"), CityFactory(name="Тюмень")
        self.moscow_branch = BranchFactory(city=moscow)
        self.tyumen_branch = BranchFactory(city=tyumen)
        self.a = DistrictFactory(city=moscow, name="Центральный")
        self.b = DistrictFactory(city=moscow, name="Северный")
        self.c = DistrictFactory(city=tyumen, name="Заречный")
        self.home = TariffFactory(name="Домашний 600", monthly_fee=D("600"))
        self.business = TariffFactory(name="Бизнес 3000", monthly_fee=D("3000"))
        self.satellite = TariffFactory(name="Спутник 3500", monthly_fee=D("3500"))

        def card(district, kind, branch):
            street = StreetFactory(city=district.city)
            building = BuildingFactory(street=street, district=district)
            return ClientCardFactory(building=building, branch=branch, connection_type=kind)

        self.acc1 = acc1 = open_account(card(self.a, "lan", self.moscow_branch), self.home,
                                        at(9, 10, 10), fee=1000)
        pay(acc1, 1000, at(9, 11))
        activate(acc1, at(9, 15))
        charge(acc1, "320.00", at(9, 15), 9)
        charge(acc1, 600, at(10, 1, 0, 15), 10)
        pay(acc1, 500, at(10, 5))
        charge(acc1, 600, at(11, 1, 0, 15), 11)
        pay(acc1, 1500, at(11, 10))
        pay(acc1, 300, at(11, 20))
        mistaken = pay(acc1, 200, at(11, 21))
        payment_cancel(payment=mistaken, reason="ошибка кассира",
                       actor=UserFactory(username="cashier"))

        self.acc2 = acc2 = open_account(card(self.b, "radio", self.moscow_branch),
                                        self.business, at(10, 20, 10), fee=5000)
        pay(acc2, 8000, at(10, 25))
        activate(acc2, at(10, 28))
        charge(acc2, "387.10", at(10, 28), 10)
        charge(acc2, 3000, at(11, 1, 0, 15), 11)
        pay(acc2, 5000, at(11, 15))
        pay(acc2, 100, at(12, 1, 1))

        self.acc3 = acc3 = open_account(card(self.a, "lan", self.moscow_branch), self.home,
                                        at(8, 1, 10))
        activate(acc3, at(8, 5))
        charge(acc3, "522.58", at(8, 5), 8)
        pay(acc3, "522.58", at(8, 6))
        for month in (9, 10, 11):
            charge(acc3, 600, at(month, 1, 0, 15), month)
        pay(acc3, 1000, at(11, 3))
        charge(acc3, -520, at(11, 5), 11, kind="final")
        close(acc3, at(11, 5), terminated=True)

        self.acc4 = acc4 = open_account(card(self.c, "satellite", self.tyumen_branch),
                                        self.satellite, at(11, 12, 10), fee=15000)
        close(acc4, at(11, 18), terminated=False)

        self.acc5 = acc5 = open_account(card(self.c, "lan", self.tyumen_branch), self.home,
                                        at(11, 2, 10), fee=1000)
        pay(acc5, 1000, at(11, 2, 13))
        activate(acc5, at(11, 3))
        charge(acc5, "560.00", at(11, 3), 11)
