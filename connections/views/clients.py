"""Staff pages: the work queue, client list and card, the building page. Thin: parse the
request, call a selector or a service, render."""

from html import escape

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import resolve, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from connections import buildings, cards, selectors
from connections.forms import ClientCardForm, ClientContactForm
from connections.models import Building, ClientCard, ConnectionType, Stage
from connections.services.clients import client_create, client_update, contact_create
from ispcrm.forms import apply_service_errors
from ispcrm.models import Branch
from ispcrm.templatetags.ispcrm import status_badge
from ispcrm.validators import format_phone

from .card_section import workflow_section

PAGE_SIZE = 50
HISTORY_ON_CARD = 50  # the newest events; "whole history" shows the rest


@login_required
def home(request):
    """Each role lands on its own queue (UX.md: work queues, not menus): the queue page is
    shown right here, so "My work" is one click from anywhere."""
    if hasattr(request.user, "client_card"):  # a personal cabinet login: to his cabinet
        return redirect("cabinet:home")
    if not request.user.has_perm("connections.view_clientcard"):
        # A login without a role (not given one yet, or taken away) sees no clients here,
        # as on the client list.
        return render(request, "connections/home.html", {"queue": {"title": _("My work")}})
    queue = selectors.work_queue(request.user)
    if queue.get("page"):
        return resolve(reverse(queue["page"])).func(request)
    return render(request, "connections/home.html", {"queue": queue})


@login_required
@permission_required("connections.view_clientcard", raise_exception=True)
def client_list(request):
    params = request.GET
    query = params.get("q", "").strip()
    cards = (selectors.client_search(query, limit=None) if query
             else selectors.client_queryset().order_by("-created_at"))
    filters = {key: params.get(key, "") for key in ("stage", "connection_type", "branch")}
    if filters["stage"]:
        cards = cards.filter(stage=filters["stage"])
    if filters["connection_type"]:
        cards = cards.filter(connection_type=filters["connection_type"])
    if filters["branch"].isdigit():
        cards = cards.filter(branch_id=int(filters["branch"]))
    if params.get("mine"):
        cards = cards.filter(lead_manager=request.user)
    page = Paginator(cards, PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page, "query": query, "filters": filters, "mine": bool(params.get("mine")),
        "stages": Stage.choices, "connection_types": ConnectionType.choices,
        "branches": Branch.objects.all(),
    }
    # htmx filtering asks for the same page and swaps in its #client-results part.
    return render(request, "connections/client_list.html", context)


@login_required
@permission_required("connections.view_clientcard", raise_exception=True)
def client_search(request):
    """The header's search box: results as you type."""
    query = request.GET.get("q", "")
    return render(request, "connections/partials/search_results.html",
                  {"query": query, "results": selectors.client_search(query, limit=10)})


@login_required
@permission_required("connections.view_clientcard", raise_exception=True)
def client_detail(request, pk: int):
    card = get_object_or_404(selectors.client_queryset(), pk=pk)
    history = selectors.client_history(card, request.user)
    whole = request.GET.get("history") == "all"
    return render(request, "connections/client_detail.html", {
        "card": card,
        "contacts": card.contacts.all(),
        "contact_form": ClientContactForm(),
        "history": history if whole else history[:HISTORY_ON_CARD],
        "history_more": 0 if whole else max(len(history) - HISTORY_ON_CARD, 0),
        "workflow": workflow_section(request, card),
        "neighbours": [other for other in selectors.building_rows(card.building_id)
                       if other.pk != card.pk][:10],
        "sections": cards.render_sections(request, card),
    })


@login_required
@permission_required("connections.add_clientcard", raise_exception=True)
def client_create_view(request):
    form = ClientCardForm(request.POST or None, initial={"branch": request.user.branch_id,
                                                         "lead_manager": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            card = client_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Client card %(name)s opened.") % {"name": card.name})
            return redirect("connections:client_detail", pk=card.pk)
    return render(request, "connections/client_form.html", {"form": form, "card": None})


@login_required
@permission_required("connections.change_clientcard", raise_exception=True)
def client_edit(request, pk: int):
    card = get_object_or_404(ClientCard, pk=pk)
    form = ClientCardForm(request.POST or None, instance=card)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            client_update(card=card, actor=request.user, **changes)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("connections:client_detail", pk=card.pk)
    return render(request, "connections/client_form.html", {"form": form, "card": card})


@login_required
@permission_required("connections.add_clientcontact", raise_exception=True)
@require_POST
def contact_add(request, pk: int):
    card = get_object_or_404(ClientCard, pk=pk)
    form = ClientContactForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        contact_create(card=card, **form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, _("Contact not added: %(errors)s")
                       % {"errors": "; ".join(exc.messages)})
    else:
        messages.success(request, _("Contact added."))
    return redirect("connections:client_detail", pk=card.pk)


@login_required
@permission_required("connections.view_building", raise_exception=True)
def building_list(request):
    query = request.GET.get("q", "").strip()
    buildings = selectors.buildings_with_counts()
    if query:
        buildings = buildings.filter(pk__in=selectors.building_search(query).values("pk"))
    page = Paginator(buildings.order_by("street__name", "house"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "connections/building_list.html", {"page": page, "query": query})


@login_required
@permission_required("connections.view_building", raise_exception=True)
def building_picker(request):
    """Options for the building field of the card form, as the manager types the street."""
    query = request.GET.get("building_query", "").strip()
    city = request.user.branch.city_id if request.user.branch_id else None
    buildings = (selectors.building_search(query, city_first=city)[:8] if len(query) >= 2
                 else [])
    return render(request, "connections/partials/building_options.html",
                  {"buildings": buildings, "query": query})


def _building_rows(rows) -> str:
    """The client table of a building in one pass of f-strings, every value escaped: the
    template engine costs ~0.1 ms a row and format_html a third of that, and a 500-flat
    building must open in under 50 ms (M6, first outage diagnosis)."""
    badges = {stage: status_badge(stage, label) for stage, label in Stage.choices}
    kinds = {kind: escape(label) for kind, label in ConnectionType.choices}
    prefix = reverse("connections:client_list")
    return mark_safe("\n".join(
        f'<tr><td>{escape(row.premises or "—")}</td>'
        f'<td><a href="{prefix}{row.pk}/">{escape(row.name)}</a></td>'
        f'<td class="text-nowrap"><a href="tel:{escape(row.phone)}">'
        f'{escape(format_phone(row.phone))}</a></td>'
        f'<td>{badges[row.stage]}</td><td>{kinds.get(row.connection_type, "")}</td>'
        + "".join(f"<td>{conditional_escape(cell)}</td>" for cell in cells) + "</tr>"
        for row, cells in rows))


@login_required
@permission_required("connections.view_building", raise_exception=True)
def building_detail(request, pk: int):
    building = get_object_or_404(
        Building.objects.select_related("street__city", "district"), pk=pk)
    clients = selectors.building_rows(building.pk)
    active = sum(card.stage == Stage.ACTIVE for card in clients)
    columns = buildings.render_columns(request, building, clients)
    return render(request, "connections/building_detail.html", {
        "building": building, "clients": clients, "active": active, "total": len(clients),
        # What the helpdesk and billing add (M6): an outage on top, balance and tickets.
        "sections": buildings.render_sections(request, building, clients),
        "columns": columns, "rows": _building_rows(buildings.rows(clients, columns)),
        "penetration": round(100 * active / building.households, 1)
        if building.households else None,
    })
