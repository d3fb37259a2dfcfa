"""The helpdesk part of ``manage.py seed_demo``: the routing tree, SLA policies, an outage
at one building and tickets of the last days in every state, so the queues, the clocks and
the building page show something real. Idempotent: a second run adds nothing."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from connections.models import ClientCard, Stage
from ispcrm import roles
from ispcrm.models import User

from .models import Category, Comment, Outage, Rating, SlaPolicy, Ticket
from .services.tickets import comment_add, ticket_open

# code, name, client name, parent code, group (role)
TREE = [
    ("internet", "Интернет", "Интернет не работает или работает плохо", None, roles.SUPPORT),
    ("no-link", "Нет связи", "Интернета нет совсем", "internet", None),
    ("slow", "Низкая скорость", "Медленно работает", "internet", None),
    ("wifi", "Wi-Fi и роутер", "Проблемы с Wi-Fi или роутером", "internet", None),
    ("money", "Оплата и документы", "Оплата, баланс, документы", None, roles.ACCOUNTANT),
    ("payment-missing", "Платёж не зачислен", "Я заплатил, а баланс не изменился", "money",
     None),
    ("closing-docs", "Закрывающие документы", "Счета и акты", "money", None),
    ("hardware", "Оборудование", "Оборудование провайдера", None, roles.NOC_HEAD),
    ("vendor-mikrotik", "MikroTik", "", "hardware", None),
    ("exotic", "Прочее", "Другой вопрос", None, roles.SUPPORT),
]

# name, order, segment, priority, first response, update, resolution (working hours)
POLICIES = [
    ("Бизнес: авария", 10, "company", "critical", "0.5", "1", "4"),
    ("Бизнес", 20, "company", "", "2", "4", "16"),
    ("Физлица: авария", 30, "person", "critical", "1", "2", "8"),
    ("По умолчанию", 100, "", "", "4", "", "40"),
]

SUBJECTS = {
    "no-link": ["Нет интернета с утра", "Пропадает связь вечером", "Горит красная лампа"],
    "slow": ["Скорость ниже тарифа", "Тормозит видео"],
    "wifi": ["Роутер перезагружается", "Не видно Wi-Fi в дальней комнате"],
    "payment-missing": ["Оплатил через банк, баланс не пополнился"],
    "closing-docs": ["Нужен акт сверки за квартал", "Пришлите счёт на оплату"],
    "vendor-mikrotik": ["Настроить MikroTik в офисе"],
    "exotic": ["Можно перенести кабель?", "Вопрос по договору"],
}


def seed_helpdesk(s) -> None:
    rng = s.rng("helpdesk")
    categories = _tree()
    _policies()
    if Ticket.objects.exists():
        s.log("helpdesk: tickets exist, left as they are")
        return
    support = User.objects.filter(groups__name=roles.SUPPORT).order_by("pk").first()
    cards = list(ClientCard.objects.filter(stage=Stage.ACTIVE).select_related("branch")
                 .order_by("pk")[: max(40, min(400, s.clients // 50))])
    if support is None or not cards:
        return
    now = timezone.now()
    leaves = [c for c in categories.values() if c.parent_id]
    opened = []
    for n, card in enumerate(cards):
        category = rng.choice(leaves)
        created = now - dt.timedelta(hours=rng.randint(1, 24 * 12))
        ticket = ticket_open(actor=support, category=category, client=card,
                             channel=rng.choice(["phone", "phone", "email", "cabinet"]),
                             subject=rng.choice(SUBJECTS[category.code]),
                             priority="critical" if n % 17 == 0 else "normal", now=created)
        if n % 3:
            comment_add(ticket=ticket, author=ticket.assignee or support,
                        body="Проверяем, сообщим о результате.",
                        now=created + dt.timedelta(minutes=rng.randint(10, 300)))
        opened.append(ticket)
    _resolve_some(opened, rng)
    _outage(cards[0], support, now)
    s.log(f"helpdesk: {len(categories)} categories, {len(opened)} tickets, an outage")


def _tree() -> dict[str, Category]:
    made: dict[str, Category] = {}
    heads = {role: User.objects.filter(groups__name=role).order_by("pk").first()
             for role in (roles.SUPPORT, roles.ACCOUNTANT, roles.NOC_HEAD)}
    for order, (code, name, client_name, parent, role) in enumerate(TREE):
        made[code], _ = Category.objects.get_or_create(code=code, defaults={
            "name": name, "client_name": client_name, "parent": made.get(parent),
            "group": Group.objects.get(name=role) if role else None,
            "head": heads.get(role), "order": order})
    return made


def _policies() -> None:
    for name, order, segment, priority, first, update, resolution in POLICIES:
        SlaPolicy.objects.get_or_create(name=name, defaults={
            "order": order, "segment": segment, "priority": priority,
            "first_response_hours": Decimal(first),
            "update_hours": Decimal(update) if update else None,
            "resolution_hours": Decimal(resolution)})


def _resolve_some(tickets, rng) -> None:
    """A third resolved yesterday or earlier, most of them rated (written directly: the
    services would mail every demo client)."""
    done = [t for t in tickets if rng.random() < 0.35]
    now = timezone.now()
    for ticket in done:
        resolved = min(now, ticket.created_at + dt.timedelta(hours=rng.randint(2, 30)))
        Ticket.objects.filter(pk=ticket.pk).update(
            status=Ticket.Status.RESOLVED, resolved_at=resolved,
            first_response_at=ticket.first_response_at or resolved)
        Comment.objects.create(ticket=ticket, author=ticket.assignee,
                               body="Неисправность устранена, проверьте, пожалуйста.",
                               created_at=resolved)
    Rating.objects.bulk_create(
        Rating(ticket=t, score=rng.choice([5, 5, 5, 4, 4, 3, 2]), assignee=t.assignee,
               comment="") for t in done if rng.random() < 0.7)


def _outage(card: ClientCard, author, now) -> None:
    outage = Outage.objects.create(
        description="Авария на узле доступа: не работает коммутатор в подъезде",
        started_at=now - dt.timedelta(hours=3), eta=now + dt.timedelta(hours=2),
        created_by=author)
    outage.buildings.add(card.building)
    Ticket.objects.filter(client__building=card.building, resolved_at__isnull=True).update(
        outage=outage)
