"""The catalogue (D5: configuration, not code): tariffs, additional services, promotions.

A tariff is never deleted — clients' history points at it — it is closed for sales from a
day on (``valid_to``); clients on it keep it. Saving goes through the model form: the
catalogue has no rules beyond the models' own validation, and its history is recorded."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.forms import PromotionForm, ServiceForm, TariffCloseForm, TariffForm
from billing.models import Promotion, Service, Tariff
from connections.models import ConnectionType


def _in_force(today) -> Q:
    return (Q(subscriptions__start__lte=today)
            & (Q(subscriptions__end__isnull=True) | Q(subscriptions__end__gt=today)))


@login_required
@permission_required("billing.view_tariff", raise_exception=True)
def tariff_list(request):
    today = timezone.localdate()
    show = request.GET.get("show", "open")
    tariffs = Tariff.objects.annotate(clients=Count("subscriptions", filter=_in_force(today)))
    if show == "closed":
        tariffs = tariffs.filter(valid_to__lte=today)
    elif show == "all":
        pass
    else:
        show = "open"
        tariffs = tariffs.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
    return render(request, "billing/tariff_list.html", {
        "tariffs": tariffs.order_by("monthly_fee", "name"), "show": show, "today": today,
        "connection_types": ConnectionType.choices, "tab": "tariffs",
    })


def _save(request, form, message: str, to: str):
    if request.method == "POST" and form.is_valid():
        obj = form.save()
        messages.success(request, message % {"name": obj})
        return redirect(to)
    return None


@login_required
@permission_required("billing.add_tariff", raise_exception=True)
def tariff_create(request):
    form = TariffForm(request.POST or None)
    return (_save(request, form, _("Tariff «%(name)s» created."), "billing:tariff_list")
            or render(request, "billing/catalog_form.html", {
                "form": form, "title": _("New tariff"), "tab": "tariffs",
                "back": "billing:tariff_list"}))


@login_required
@permission_required("billing.change_tariff", raise_exception=True)
def tariff_edit(request, pk: int):
    tariff = get_object_or_404(Tariff, pk=pk)
    form = TariffForm(request.POST or None, instance=tariff)
    clients = tariff.subscriptions.filter(
        Q(end__isnull=True) | Q(end__gt=timezone.localdate())).count()
    return (_save(request, form, _("Tariff «%(name)s» saved."), "billing:tariff_list")
            or render(request, "billing/catalog_form.html", {
                "form": form, "title": _("Tariff «%(name)s»") % {"name": tariff.name},
                "tab": "tariffs", "back": "billing:tariff_list", "clients": clients}))


@login_required
@permission_required("billing.change_tariff", raise_exception=True)
@require_POST
def tariff_close(request, pk: int):
    tariff = get_object_or_404(Tariff, pk=pk)
    form = TariffCloseForm(request.POST, tariff=tariff)
    if form.is_valid():
        tariff.valid_to = form.cleaned_data["valid_to"]
        tariff.save(update_fields=["valid_to"])
        messages.success(request, _("Tariff «%(name)s» is not sold from %(day)s; clients on it "
                                    "keep it.") % {"name": tariff.name,
                                                   "day": tariff.valid_to.strftime("%d.%m.%Y")})
    else:
        messages.error(request, _("Sales of «%(name)s» were not closed: %(reason)s") % {
            "name": tariff.name, "reason": " ".join(form.errors.get("valid_to", []))})
    return redirect("billing:tariff_list")


@login_required
@permission_required("billing.view_service", raise_exception=True)
def service_list(request):
    return render(request, "billing/service_list.html", {
        "services": Service.objects.order_by("-active", "name"), "tab": "services"})


@login_required
@permission_required("billing.add_service", raise_exception=True)
def service_create(request):
    form = ServiceForm(request.POST or None)
    return (_save(request, form, _("Service «%(name)s» created."), "billing:service_list")
            or render(request, "billing/catalog_form.html", {
                "form": form, "title": _("New additional service"), "tab": "services",
                "back": "billing:service_list"}))


@login_required
@permission_required("billing.change_service", raise_exception=True)
def service_edit(request, pk: int):
    service = get_object_or_404(Service, pk=pk)
    form = ServiceForm(request.POST or None, instance=service)
    return (_save(request, form, _("Service «%(name)s» saved."), "billing:service_list")
            or render(request, "billing/catalog_form.html", {
                "form": form, "title": _("Service «%(name)s»") % {"name": service.name},
                "tab": "services", "back": "billing:service_list"}))


@login_required
@permission_required("billing.view_promotion", raise_exception=True)
def promotion_list(request):
    today = timezone.localdate()
    promotions = (Promotion.objects.select_related("tariff").prefetch_related("districts")
                  .order_by("-valid_from", "name"))
    return render(request, "billing/promotion_list.html", {
        "promotions": promotions, "today": today, "tab": "promotions"})


@login_required
@permission_required("billing.add_promotion", raise_exception=True)
def promotion_create(request):
    form = PromotionForm(request.POST or None,
                         initial={"valid_from": timezone.localdate()})
    return (_save(request, form, _("Promotion «%(name)s» created."), "billing:promotion_list")
            or render(request, "billing/catalog_form.html", {
                "form": form, "title": _("New promotion"), "tab": "promotions",
                "back": "billing:promotion_list"}))


@login_required
@permission_required("billing.change_promotion", raise_exception=True)
def promotion_edit(request, pk: int):
    promotion = get_object_or_404(Promotion, pk=pk)
    form = PromotionForm(request.POST or None, instance=promotion)
    return (_save(request, form, _("Promotion «%(name)s» saved."), "billing:promotion_list")
            or render(request, "billing/catalog_form.html", {
                "form": form, "title": _("Promotion «%(name)s»") % {"name": promotion.name},
                "tab": "promotions", "back": "billing:promotion_list"}))
