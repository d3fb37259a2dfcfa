from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from connections import demo, selectors
        from ispcrm.models import CalendarDay

        from . import cards, demo_helpdesk, demo_retention
        from .models import SlaPolicy
        from .services import hours, sla, tickets

        cards.register()  # the card's "Tickets" section and the building page's columns
        hours.register()  # billing's monthly act reads the month's hours (SP-8)
        demo.register(demo_helpdesk.seed_helpdesk)
        demo.register(demo_retention.seed_retention)  # after: calls about its tickets

        if tickets.ticket_events not in selectors.history_sources:
            selectors.history_sources.append(tickets.ticket_events)
        # A changed policy or calendar moves the deadlines of the open tickets (SP-3).
        for model in (SlaPolicy, CalendarDay):
            post_save.connect(sla.deadlines_changed, sender=model,
                              dispatch_uid=f"tickets.recompute.saved.{model.__name__}")
            post_delete.connect(sla.deadlines_changed, sender=model,
                                dispatch_uid=f"tickets.recompute.deleted.{model.__name__}")
