"""The cabinet part of ``manage.py seed_demo``: the first few active demo clients get a
cabinet login, so the cabinet can be tried at once — sign in at /my/login/ with the account
number (or the phone) and the demo password. Idempotent: clients who have a login keep it
(and its password)."""

from django.contrib.auth.hashers import make_password

from billing.models import Account
from connections.management.commands.seed_demo import DEMO_PASSWORD
from connections.models import ClientCard, Stage
from ispcrm.models import User

DEMO_LOGINS = 5


def seed_cabinet(s) -> None:
    cards = list(ClientCard.objects.filter(stage=Stage.ACTIVE,
                                           account__status=Account.Status.ACTIVE)
                 .select_related("account", "cabinet_user")
                 .order_by("account__number")[:DEMO_LOGINS])
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    created = 0
    for card in cards:
        if card.cabinet_user_id is None:
            user = User.objects.filter(username=f"c{card.pk}").first() or User.objects.create(
                username=f"c{card.pk}", password=password, email=card.email,
                first_name=card.name[:150])
            card.cabinet_user = user
            card.save(update_fields=["cabinet_user"])
            created += 1
    s.log(f"cabinet: {created} new logins. Sign in at /my/login/ with an account number, "
          f"password {DEMO_PASSWORD} (unless the login existed before):")
    for card in cards:
        s.log(f"  {card.account.number:<10} {card.phone_display:<18} {card.name}")
