"""The helpdesk in the staff header: a link to the ticket queues and a red badge with the
number of active outages (M5), so whoever takes a call knows at once what is down."""

from django import template
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tickets.models import Outage

register = template.Library()

CACHE_KEY = "tickets:active_outages"
CACHE_SECONDS = 60


def active_outage_count() -> int:
    """Every staff page shows it: one COUNT a minute, dropped when an outage changes."""
    return cache.get_or_set(CACHE_KEY,
                            lambda: Outage.objects.filter(resolved_at__isnull=True).count(),
                            CACHE_SECONDS)


@receiver(post_save, sender=Outage, dispatch_uid="tickets.helpdesk.outage_saved")
@receiver(post_delete, sender=Outage, dispatch_uid="tickets.helpdesk.outage_deleted")
def forget_count(**kwargs) -> None:
    cache.delete(CACHE_KEY)


@register.inclusion_tag("tickets/partials/header.html", takes_context=True)
def helpdesk_header(context):
    from tickets.services.retention import may_work
    from tickets.views.common import is_helpdesk
    from tickets.views.hours import may_see_hours

    user = context.get("user")
    staff = user is not None and is_helpdesk(user)
    return {"staff": staff, "outages": active_outage_count() if staff else 0,
            "calls": staff and may_work(user), "hours": staff and may_see_hours(user),
            "request": context.get("request")}
