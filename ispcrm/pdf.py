"""Printing documents as PDF (M8): one renderer for every app, and our company's requisites.

- ``html_to_pdf(html)``: a rendered document template → PDF (WeasyPrint), reading only our
  static files and the document fonts, never a network URL or another local file.
- ``company(branch)``: who we are on a document. The requisites live in billing's settings,
  and lower apps must not import billing (ARCHITECTURE), so billing registers a provider in
  its ``AppConfig.ready()`` (``register_company``); without one, the branch's name, address
  and phone are printed.
- ``pdf_response(pdf, name)``: the PDF shown in the browser, with a Cyrillic file name.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.http import HttpResponse

# Debian's fonts-dejavu-core; settings.DOCUMENT_FONT_DIR may point elsewhere (bundled TTFs).
DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"


def font_dir() -> Path:
    return Path(getattr(settings, "DOCUMENT_FONT_DIR", DEFAULT_FONT_DIR))


def _allowed_roots() -> list[Path]:
    from django.contrib.staticfiles.finders import get_finders

    roots = [font_dir(), Path(settings.STATIC_ROOT)]
    for finder in get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location))
    return [root.resolve() for root in roots]


def local_fetcher():
    """A WeasyPrint URL fetcher that reads only our static files and the document fonts, and
    refuses every other URL — no network access, no other local file, whatever a document
    happens to contain."""
    from weasyprint.urls import URLFetcher

    roots = _allowed_roots()

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file":
                raise ValueError(f"documents load only local files, not {url}")
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in roots):
                raise ValueError(f"not a static or font file: {url}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher()


def html_to_pdf(html: str) -> bytes:
    """Render one of our document templates to PDF, reading only local files."""
    from weasyprint import HTML  # heavy import: only where a PDF is made

    base_url = Path(settings.STATIC_ROOT).resolve().as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=local_fetcher()).write_pdf()


def pdf_response(pdf: bytes, name: str) -> HttpResponse:
    """The PDF shown in the browser (``inline``), kept out of shared caches: documents carry
    a client's name, address and money."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = inline_disposition(name)
    response["Cache-Control"] = "private, no-store"
    return response


def inline_disposition(name: str) -> str:
    """``inline; filename="contract-01-2026-00001.pdf"; filename*=UTF-8''…``: the Cyrillic
    name encoded by RFC 5987 for browsers, which prefer ``filename*``, and an ASCII name for
    the few clients that do not."""
    ascii_name = "".join(ch for ch in name if ch.isascii()).replace("--", "-")
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- Our company on a document ---------------------------------------------------------------

@dataclass(frozen=True)
class Company:
    name: str
    inn: str = ""
    kpp: str = ""
    ogrn: str = ""
    address: str = ""
    phone: str = ""
    bank_name: str = ""
    bank_bik: str = ""
    bank_account: str = ""
    bank_corr_account: str = ""
    director_name: str = ""
    # Working days from a debt notice to the block, as the contract states it.
    dunning_days: int | None = None


# A callable returning an object with the requisites as attributes named like billing's
# BillingSettings (company_name, company_inn, company_kpp, company_ogrn, company_address,
# bank_name, bank_bik, bank_account, bank_corr_account, director_name, dunning_days).
_company_provider: Callable[[], object] | None = None


def register_company(provider: Callable[[], object]) -> None:
    global _company_provider
    _company_provider = provider


def company(branch=None) -> Company:
    """Our requisites; the phone is the branch office's (clients call their branch)."""
    phone = getattr(branch, "phone", "") or ""
    source = _company_provider() if _company_provider is not None else None
    if source is None:
        return Company(name=getattr(branch, "name", "") or "", phone=phone,
                       address=getattr(branch, "address", "") or "")
    return Company(
        name=source.company_name, inn=source.company_inn, kpp=source.company_kpp,
        ogrn=getattr(source, "company_ogrn", ""), address=source.company_address, phone=phone,
        bank_name=getattr(source, "bank_name", ""), bank_bik=getattr(source, "bank_bik", ""),
        bank_account=getattr(source, "bank_account", ""),
        bank_corr_account=getattr(source, "bank_corr_account", ""),
        director_name=getattr(source, "director_name", ""),
        dunning_days=getattr(source, "dunning_days", None))
