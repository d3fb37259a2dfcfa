"""The helpdesk's part of ``manage.py seed_demo``: retention call scripts with their
checklists (R2) and today's call list (R5), so the demo shows both. Safe to re-run: scripts
are matched by title, and the call list is idempotent."""

from django.contrib.auth import get_user_model

from ispcrm import roles
from tickets.models import CallScript, ChecklistItem, Situation
from tickets.services import retention

COMMON_CHECKS = ("Представился и назвал компанию", "Уточнил, удобно ли говорить",
                 "Выслушал клиента, не перебивая", "Подвёл итог и договорился о следующем шаге")
SCRIPTS = (
    (Situation.DEBT, "Задолженность растёт", (
        "1. Поздоровайтесь, представьтесь, спросите, удобно ли говорить.\n"
        "2. Назовите сумму долга и дату последнего платежа спокойно, без упрёка.\n"
        "3. Спросите, что мешает оплатить: забыл, финансовые трудности, недоволен услугой.\n"
        "4. Предложите решение: обещанный платёж, отсрочку, более дешёвый тариф, паузу.\n"
        "5. Зафиксируйте дату оплаты и способ, напомните о личном кабинете."),
     ("Назвал точную сумму долга", "Выяснил причину неоплаты",
      "Предложил обещанный платёж или отсрочку", "Согласовал дату оплаты")),
    (Situation.COMPLAINT, "Повторные обращения и низкая оценка", (
        "1. Извинитесь за неудобства, назовите последние обращения клиента.\n"
        "2. Спросите, решена ли проблема сейчас и что осталось неудобным.\n"
        "3. Если проблема не решена — откройте заявку при клиенте и назовите срок.\n"
        "4. Предложите компенсацию или выезд инженера, если это предусмотрено.\n"
        "5. Поблагодарите за обратную связь, пообещайте перезвонить после решения."),
     ("Извинился и назвал обращения", "Проверил, решена ли проблема",
      "Открыл заявку или назначил выезд", "Назвал срок решения")),
    (Situation.COMPETITOR, "Предложение конкурента", (
        "1. Спросите, какое предложение получил клиент: цена, скорость, условия.\n"
        "2. Сравните честно: SLA, поддержка, стабильность, скрытые платежи.\n"
        "3. Предложите подходящий тариф или акцию для действующих клиентов.\n"
        "4. Если клиент колеблется — предложите встречу или пробный период скорости."),
     ("Узнал условия конкурента", "Назвал наши преимущества", "Предложил тариф или акцию")),
    (Situation.MOVING, "Переезд клиента", (
        "1. Уточните новый адрес и дату переезда.\n"
        "2. Проверьте покрытие по новому адресу; если есть — оформите перенос подключения.\n"
        "3. Если покрытия нет — предложите радио или спутник, либо паузу.\n"
        "4. Если клиент уходит — зафиксируйте причину как неуправляемый отток."),
     ("Уточнил новый адрес", "Проверил покрытие", "Предложил перенос или альтернативу")),
)
LEAD_POSITION = "Ведущий менеджер по работе с клиентами"


def _scripts() -> int:
    made = 0
    for order, (situation, title, text, checks) in enumerate(SCRIPTS):
        script, created = CallScript.objects.get_or_create(
            title=title, defaults={"situation": situation, "text": text, "order": order})
        if created:
            made += 1
            ChecklistItem.objects.bulk_create(
                ChecklistItem(script=script, text=check, order=n)
                for n, check in enumerate((*checks, *COMMON_CHECKS)))
    return made


def _lead_managers() -> None:
    """One lead manager per branch, so business clients show going to the lead (R3)."""
    managers = get_user_model().objects.filter(groups__name=roles.MANAGER, is_active=True)
    if any(retention.grade(user) == retention.LEAD for user in managers):
        return
    by_branch = {}
    for user in managers.order_by("username"):
        by_branch[user.branch_id] = user  # the last in each branch
    for user in by_branch.values():
        user.position = LEAD_POSITION
        user.save(update_fields=["position"])


def seed_retention(s) -> None:
    made = _scripts()
    _lead_managers()
    counts = retention.build_call_list()
    s.log(f"retention: {made} call scripts created, {counts['listed']} clients on today's "
          "call list")
