from django.urls import path

from .views import detail, help, new, outages, queues

app_name = "tickets"

urlpatterns = [
    path("", queues.queue, name="queue"),
    *new.urlpatterns,
    *outages.urlpatterns,
    *help.urlpatterns,
    *detail.urlpatterns,
]
