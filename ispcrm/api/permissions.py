from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions


class RolePermissions(DjangoModelPermissions):
    """Model permissions of the user's role groups, reads included: a role that may not
    view a model gets 403 (DRF's default lets any authenticated user read)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


def cabinet_card(user):
    """The client card of a cabinet login (API.md: "sees only his own data"), or None for
    staff and anonymous users."""
    if not (user and user.is_authenticated):
        return None
    return getattr(user, "client_card", None)


class StaffOrCabinet(RolePermissions):
    """Staff by model permissions; a cabinet client always passes here, and the view's
    queryset then limits him to his own card's objects (another client's id is a 404)."""

    cabinet_methods: tuple[str, ...] | None = None  # None: every method

    def has_permission(self, request, view) -> bool:
        if cabinet_card(request.user) is not None:
            return self.cabinet_methods is None or request.method in self.cabinet_methods
        return super().has_permission(request, view)


class StaffOrCabinetReading(StaffOrCabinet):
    """The same, but a cabinet client only reads (his account: he pays through the
    cabinet's gateway, not through the payments API)."""

    cabinet_methods = SAFE_METHODS
