"""Factories for test data: every object valid by default, override what the test is about."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from connections.models import Building, ClientCard, District, Street
from ispcrm.models import Branch, City, User

PASSWORD = "test-pass-123"


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City
        django_get_or_create = ["name"]

    name = "Москва"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ["name"]

    city = factory.SubFactory(CityFactory)
    name = factory.LazyAttribute(lambda o: f"{o.city.name} — офис")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    city = factory.SubFactory(CityFactory)
    name = factory.Sequence(lambda n: f"Район {n}")


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street

    city = factory.SubFactory(CityFactory)
    name = factory.Sequence(lambda n: f"ул. Тестовая {n}")


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    street = factory.SubFactory(StreetFactory)
    district = factory.SubFactory(DistrictFactory, city=factory.SelfAttribute("..street.city"))
    house = factory.Sequence(lambda n: str(n + 1))
    households = 120


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Иван"
    last_name = factory.Sequence(lambda n: f"Тестов{n}")
    branch = factory.SubFactory(BranchFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get(name=role))
        if create:
            self.save()


class ClientCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientCard

    kind = ClientCard.Kind.PERSON
    name = factory.Sequence(lambda n: f"Клиентов Клиент {n}")
    phone = factory.Sequence(lambda n: f"+7912{n:07d}")
    building = factory.SubFactory(BuildingFactory)
    premises = factory.Sequence(lambda n: str(n + 1))
    branch = factory.SubFactory(BranchFactory, city=factory.SelfAttribute("..building.street.city"))


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.Tariff"

    name = factory.Sequence(lambda n: f"Домашний {n}")
    monthly_fee = Decimal("600.00")
    connection_fee = Decimal("1000.00")
    speed_mbps = 100
    valid_from = datetime.date(2024, 1, 1)


def make_account(*, tariff=None, status="active", balance=Decimal("0"), client=None,
                 activated_on=datetime.date(2026, 1, 1), number=None):
    """An account with a subscription from ``activated_on``, and a balance that the ledger
    agrees with (an opening correction entry)."""
    from billing.models import Account, LedgerEntry, Subscription

    client = client or ClientCardFactory(stage="active")
    account = Account.objects.create(number=number or str(10_000_000 + client.pk),
                                     client=client, status=status, activated_on=activated_on)
    Subscription.objects.create(account=account, tariff=tariff or TariffFactory(),
                                start=activated_on)
    if balance:
        LedgerEntry.objects.create(account=account, kind="correction", amount=balance,
                                   description="opening balance")
        Account.objects.filter(pk=account.pk).update(balance=balance)
        account.balance = balance
    return account


def make_subscriber(balance=Decimal("900.00"), **account_fields):
    """A client with an active account and a cabinet login (username ``client<card id>``,
    password PASSWORD). Returns the account; ``account.client.cabinet_user`` is the login."""
    account = make_account(balance=balance, **account_fields)
    card = account.client
    card.cabinet_user = UserFactory(username=f"client{card.pk}", roles=())
    card.save(update_fields=["cabinet_user"])
    return account
