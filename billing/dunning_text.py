"""What dunning tells the client (SP-7): Russian texts, whatever the staff's interface
language, like the documents (billing.documents_text). Each returns (subject, text)."""

from datetime import date

from billing.documents_text import format_date, format_money
from billing.models import Account, Claim


def rub(amount) -> str:
    return f"{format_money(amount)} ₽"


def debt_text(account: Account, pay_by: date) -> tuple[str, str]:
    text = (f"Задолженность по лицевому счёту {account.number} составляет "
            f"{rub(-account.balance)}. Пожалуйста, оплатите до {format_date(pay_by)}")
    text += "." if account.never_block else ", иначе доступ будет приостановлен."
    return f"Задолженность по лицевому счёту {account.number}", text


def blocked_text(account: Account) -> tuple[str, str]:
    return ("Доступ приостановлен",
            f"Доступ по лицевому счёту {account.number} приостановлен из-за задолженности "
            f"{rub(-account.balance)}. Доступ восстановится сразу после оплаты.")


def unblocked_text(account: Account) -> tuple[str, str]:
    return ("Доступ восстановлен",
            f"Оплата получена, доступ по лицевому счёту {account.number} восстановлен. "
            "Спасибо!")


def claim_text(account: Account, claim: Claim) -> tuple[str, str]:
    return (f"Претензия № {claim.number}",
            f"Претензия № {claim.number} от {format_date(claim.created_on)}. Задолженность по "
            f"лицевому счёту {account.number} составляет {rub(claim.debt)}, доступ "
            f"приостановлен с {format_date(account.blocked_on)}. Просим погасить "
            "задолженность; в противном случае она будет взыскана в установленном законом "
            "порядке.")


def grace_text(account: Account, lead: str, until: date) -> str:
    """The end of a deferral or promised-payment message: pay by its last day, or else."""
    text = f"{lead} Пожалуйста, оплатите задолженность {rub(-account.balance)} до этой даты"
    if account.never_block or account.block_due_on is None:
        return text + "."
    return text + f", иначе с {format_date(account.block_due_on)} доступ будет приостановлен."
