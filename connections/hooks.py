"""What higher apps plug into the connection workflow (ARCHITECTURE: a lower app never
imports a higher one). Billing registers these in its ``AppConfig.ready()``.

- ``guards[transition]``: functions ``card -> reason | None``; a reason refuses the
  transition (e.g. "no tariff agreed").
- ``terms``: ``card -> ContractTerms | None``, what the contract states about money.
- ``tariffs``: ``(building, connection_type) -> [(id, label)]``, tariffs a new client can pick.
- ``agree_tariff``: ``(card, tariff_id, actor) -> None``, record the chosen tariff in the
  commercial terms (raises ValidationError for a tariff not sold there).

Effects of a transition (open the account at signing, start billing at activation, close it
at termination) are handled through ``connections.events.stage_changed``."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class ContractTerms:
    tariff_name: str
    monthly_fee: Decimal
    connection_fee: Decimal
    speed_mbps: int | None = None
    services: list[dict] = field(default_factory=list)  # {"name", "monthly_fee"}
    payment_order: str = ""


guards: dict[str, list[Callable]] = {}
terms: Callable | None = None
tariffs: Callable | None = None
agree_tariff: Callable | None = None


def add_guard(transition: str, check: Callable) -> None:
    checks = guards.setdefault(transition, [])
    if check not in checks:
        checks.append(check)


def contract_terms(card) -> ContractTerms | None:
    return terms(card) if terms else None


def tariff_choices(building, connection_type: str) -> list[tuple[int, str]]:
    return tariffs(building, connection_type) if tariffs else []
