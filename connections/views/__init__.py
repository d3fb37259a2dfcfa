"""Staff pages of the connections app, a module per area; each module's ``urlpatterns``
is joined in connections/urls.py."""

from .clients import home

__all__ = ["home"]
