"""Scans staff attach to the client card: the building owner's permission and the equipment
lease the standard asks for at installation (CS-4), and anything else worth keeping."""

from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from connections.models import CardDocument, ClientCard

MAX_SIZE = 10 * 1024 * 1024
UPLOAD_KINDS = (CardDocument.Kind.OWNER_PERMISSION, CardDocument.Kind.LEASE,
                CardDocument.Kind.OTHER)
# What the file must start with; the name's extension alone proves nothing.
SIGNATURES = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}


def _check_file(file) -> None:
    if file is None:
        raise ValidationError({"file": _("Choose the scan to upload.")})
    name = PurePath(file.name or "").name
    extension = PurePath(name).suffix.lower()
    if extension not in SIGNATURES:
        raise ValidationError({"file": _("«%(name)s» is not accepted: upload a PDF, JPG or "
                                         "PNG scan.") % {"name": name}})
    if file.size > MAX_SIZE:
        raise ValidationError({"file": _("«%(name)s» is %(size).1f MB; a scan may be at most "
                                         "10 MB.") % {"name": name,
                                                      "size": file.size / 1024 / 1024}})
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if not head.startswith(SIGNATURES[extension]):
        raise ValidationError({"file": _("«%(name)s» is not really a %(type)s file: save the "
                                         "scan again as PDF, JPG or PNG.")
                               % {"name": name, "type": extension[1:].upper()}})


@transaction.atomic
def document_add(*, card: ClientCard, actor, kind: str, file, title: str = "",
                 number: str = "") -> CardDocument:
    """Attach a scan to the card; the title defaults to the kind's name."""
    if not actor.has_perm("connections.change_clientcard"):
        raise PermissionDenied(_("You may not add documents to the client card."))
    if kind not in UPLOAD_KINDS:
        raise ValidationError({"kind": _("Choose the building owner's permission, the lease "
                                         "or another document.")})
    _check_file(file)
    title = " ".join(title.split())[:200] or str(CardDocument.Kind(kind).label)
    return CardDocument.objects.create(card=card, kind=kind, title=title,
                                       number=number.strip()[:40], file=file,
                                       created_by=actor)
