"""Staff pages for invoices and acts."""

from urllib.parse import quote

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from billing.models import Claim, Document
from billing.services.documents import claim_pdf, document_filename, document_pdf


@login_required
@permission_required("billing.view_document", raise_exception=True)
def document_pdf_view(request, pk: int):
    """The document's PDF, shown in the browser (``inline``)."""
    document = get_object_or_404(
        Document.objects.select_related("account__client__building__street__city"), pk=pk)
    return _pdf_response(document_pdf(document), document_filename(document))


@login_required
@permission_required("billing.view_claim", raise_exception=True)
def claim_pdf_view(request, pk: int):
    """The claim (претензия) as a PDF to print, sign and send."""
    claim = get_object_or_404(Claim.objects.select_related("account__client"), pk=pk)
    return _pdf_response(claim_pdf(claim), f"claim-{claim.number}.pdf")


def _pdf_response(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = _inline_disposition(name)
    # A client's requisites and money: not for shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _inline_disposition(name: str) -> str:
    """``inline; filename="invoice-2026-000123.pdf"; filename*=UTF-8''invoice-%D0%A1%D0%A7…``:
    the Cyrillic name (``invoice-СЧ-2026-000123.pdf``) encoded by RFC 5987 for browsers,
    which prefer ``filename*``, and an ASCII name for the few clients that do not."""
    ascii_name = "".join(ch for ch in name if ch.isascii()).replace("--", "-")
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
