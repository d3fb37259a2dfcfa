from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CabinetConfig(AppConfig):
    name = "cabinet"
    verbose_name = _("Personal cabinet")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from connections import cards
        from connections import demo as connections_demo

        from . import demo
        from .cards import cabinet_section
        from .services.auth import on_user_logged_in

        cards.register(cabinet_section)  # the staff card's "Personal cabinet" section
        connections_demo.register(demo.seed_cabinet)  # after billing's: needs the accounts
        # A cabinet client's session is short, whichever sign-in form he used.
        user_logged_in.connect(on_user_logged_in, dispatch_uid="cabinet.session_age")
