"""The 1C exchange's settings (``ONEC_*`` in settings), read and checked in one place."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The rate setting → EnterpriseData's enumeration «СтавкиНДС». 5 and 7 % (sellers on the
# simplified system since 2025) and 22 % (the general rate since 2026) exist only in the
# format versions 1C released after those laws: check the version before using them.
VAT_RATES = {
    "none": "БезНДС",
    "0": "НДС0",
    "5": "НДС5",
    "7": "НДС7",
    "10": "НДС10",
    "18": "НДС18",
    "20": "НДС20",
    "22": "НДС22",
}
PERSONS_MODES = ("retail", "each")
_VERSION = re.compile(r"^1\.\d{1,2}(\.\d{1,2})?$")


@dataclass(frozen=True)
class OnecConfig:
    version: str = "1.8"
    vat_rate: str = "none"
    prices_include_vat: bool = True
    persons: str = "retail"
    retail_counterparty: str = "Физические лица (розница)"

    def __post_init__(self):
        if not _VERSION.match(self.version):
            raise ImproperlyConfigured(
                f"ONEC_ENTERPRISE_DATA_VERSION must look like 1.8, got {self.version!r}.")
        if self.vat_rate not in VAT_RATES:
            raise ImproperlyConfigured(
                f"ONEC_VAT_RATE must be one of {', '.join(VAT_RATES)}, got {self.vat_rate!r}.")
        if self.persons not in PERSONS_MODES:
            raise ImproperlyConfigured(
                f"ONEC_PERSONS must be one of {', '.join(PERSONS_MODES)}, got {self.persons!r}.")
        if not self.retail_counterparty.strip():
            raise ImproperlyConfigured("ONEC_RETAIL_COUNTERPARTY must not be empty.")

    @property
    def namespace(self) -> str:
        return f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{self.version}"

    @property
    def vat_enum(self) -> str:
        return VAT_RATES[self.vat_rate]

    @property
    def with_vat(self) -> bool:
        return self.vat_rate != "none"

    @property
    def taxation(self) -> str:
        """«Налогообложение» of a sale: VAT or not (a 0 % rate is still a VAT sale)."""
        return "ПродажаОблагаетсяНДС" if self.with_vat else "ПродажаНеОблагаетсяНДС"


def onec_config() -> OnecConfig:
    return OnecConfig(
        version=str(getattr(settings, "ONEC_ENTERPRISE_DATA_VERSION", "1.8")).strip(),
        vat_rate=str(getattr(settings, "ONEC_VAT_RATE", "none")).strip().lower().rstrip("%"),
        prices_include_vat=bool(getattr(settings, "ONEC_PRICES_INCLUDE_VAT", True)),
        persons=str(getattr(settings, "ONEC_PERSONS", "retail")).strip().lower(),
        retail_counterparty=str(getattr(settings, "ONEC_RETAIL_COUNTERPARTY",
                                        "Физические лица (розница)")),
    )
