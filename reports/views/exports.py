"""Excel downloads of the staff lists (D14): the "Excel" button posts here, a small list comes
back as the file at once, a big one goes to a page whose progress bar follows the background
job until the download button appears. Thin: the work is in reports.exports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reports.exports import (
    EXPORTS,
    download_response,
    export_inline,
    export_spec,
    export_start,
    is_expired,
    job_filters,
    job_for,
    job_title,
)
from reports.models import ExportJob

RECENT_JOBS = 50
NOT_FORM_FIELDS = ("kind", "csrfmiddlewaretoken", "page", "retry")


def _params(post) -> dict:
    """The list's filters as posted by the button (one value each)."""
    return {key: post.get(key) for key in post if key not in NOT_FORM_FIELDS}


def _back(request):
    referer = request.headers.get("referer", "")
    return redirect(referer if referer.startswith(request.build_absolute_uri("/")) else
                    "reports:export_list")


@login_required
@require_POST
def export_start_view(request):
    """Start an export of ``kind`` with the list's filters (403 without the data's
    permission). A list of at most EXPORT_INLINE_ROWS rows is answered with the file; a
    retry (``retry`` set) always goes through a job, as the first try did."""
    kind = request.POST.get("kind", "")
    params = _params(request.POST)
    try:
        export_spec(kind, request.user)  # 403 before anything else
        if not request.POST.get("retry"):
            response = export_inline(kind, params, request.user)
            if response is not None:
                return response
        job = export_start(kind, params, request.user)
    except ValidationError as exc:
        messages.error(request, _("The export was not started: %(reason)s")
                       % {"reason": "; ".join(exc.messages)})
        return _back(request)
    return redirect("reports:export_detail", public_id=job.public_id)


def _job_or_404(request, public_id) -> ExportJob:
    job = job_for(request.user, public_id)
    if job is None:
        raise Http404
    return job


def _context(job: ExportJob) -> dict:
    return {"job": job, "title": job_title(job), "filters": job_filters(job),
            "expired": is_expired(job), "now": timezone.now(),
            "active": job.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)}


@login_required
def export_detail(request, public_id):
    """The job's page; htmx polls the same address every second for the progress part."""
    job = _job_or_404(request, public_id)
    if request.headers.get("HX-Request"):
        return render(request, "reports/exports/_progress.html", _context(job))
    return render(request, "reports/exports/detail.html", _context(job))


@login_required
def export_download(request, public_id):
    """The file, to its requester (or a superuser) until the link expires; 404 otherwise —
    the page then says the link expired and offers to build it again."""
    job = _job_or_404(request, public_id)
    spec = EXPORTS.get(job.kind)
    if (job.status != ExportJob.Status.DONE or not job.file or is_expired(job)
            or (spec is not None and not spec.can_use(request.user))):
        raise Http404(_("The link has expired: build the export again."))
    return download_response(job)


@login_required
def export_list(request):
    """My exports: the recent ones, with their state and links. A staff page: 403 to whoever
    may export nothing (a cabinet client, docs/CABINET.md)."""
    if not any(spec.can_use(request.user) for spec in EXPORTS.values()):
        raise PermissionDenied
    jobs = (ExportJob.objects.filter(requested_by=request.user)
            .order_by("-created_at")[:RECENT_JOBS])
    now = timezone.now()
    rows = [{"job": job, "title": job_title(job), "expired": is_expired(job, now)}
            for job in jobs]
    return render(request, "reports/exports/list.html", {"rows": rows})
