from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ispcrm import roles


def navigation(request):
    """The header menu, filtered by what the user's roles may see."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [(_("My work"), reverse("home"), True)]
    items.append((_("Clients"), reverse("connections:client_list"),
                  user.has_perm("connections.view_clientcard")))
    items.append((_("Buildings"), reverse("connections:building_list"),
                  user.has_perm("connections.view_building")))
    items.append((_("Cash desk"), reverse("billing:cashier"),
                  user.has_perm("billing.add_payment")))
    items.append((_("Payments"), reverse("billing:payment_list"),
                  user.has_perm("billing.view_payment")))
    items.append((_("Bank"), reverse("billing:bank_import"),
                  user.has_perm("billing.view_bankstatement")))
    items.append((_("Tariffs"), reverse("billing:tariff_list"),
                  user.has_perm("billing.view_tariff")))
    items.append((_("Reports"), reverse("reports:dashboard"),
                  user.has_role(*roles.REPORTS)))
    items.append((_("Admin"), reverse("admin:index"), user.is_staff))
    path = request.path
    return {
        "nav_items": [
            {"label": label, "url": url, "active": (url != "/" and path.startswith(url))
             or path == url}
            for label, url, allowed in items if allowed
        ]
    }
