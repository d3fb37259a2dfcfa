from .accounts import Account, AccountService, Pause, Subscription
from .bank import BankStatement, BankTransfer
from .catalog import Promotion, Service, Tariff
from .config import BillingSettings
from .documents import Document, DocumentCounter
from .dunning import Claim, Notice, PromisedPayment
from .ledger import LedgerEntry, Payment
from .online import OnlinePayment
from .terms import Terms
from .usage import Usage

__all__ = [
    "Account", "AccountService", "BankStatement", "BankTransfer", "BillingSettings", "Claim",
    "Document", "DocumentCounter", "LedgerEntry", "Notice", "OnlinePayment", "Pause", "Payment",
    "PromisedPayment", "Promotion", "Service", "Subscription", "Tariff", "Terms", "Usage",
]
