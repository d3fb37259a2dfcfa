from django.urls import path

from .views import detail, help, new, outages, queues
from .views import hours as hours_views
from .views import links as link_views
from .views import retention as retention_views

app_name = "tickets"

urlpatterns = [
    path("", queues.queue, name="queue"),
    *new.urlpatterns,
    *outages.urlpatterns,
    *help.urlpatterns,
    *hours_views.urlpatterns,
    *retention_views.urlpatterns,
    *detail.urlpatterns,
    *link_views.urlpatterns,  # email links for clients: no sign-in (tickets.links)
]
