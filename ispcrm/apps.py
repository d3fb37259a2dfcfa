from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IspcrmConfig(AppConfig):
    name = "ispcrm"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import audit, permissions_cache, roles, sqlite

        audit.connect_signals()
        permissions_cache.connect_signals()
        sqlite.connect_signals()
        # Permissions are created after migrations run, so role grants are synced then.
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="ispcrm.sync_roles")
