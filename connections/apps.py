from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = _("Clients and connections")

    def ready(self) -> None:
        from . import signals

        signals.connect()
