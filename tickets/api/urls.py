from django.urls import path
from rest_framework.routers import SimpleRouter

from . import inbound
from .views import CategoryViewSet, OutageViewSet, TicketViewSet

router = SimpleRouter()
router.register("ticket-categories", CategoryViewSet, basename="ticket-category")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("outages", OutageViewSet, basename="outage")

urlpatterns = [
    path("inbound/email/", inbound.inbound_email, name="inbound-email"),
    path("inbound/telegram/<str:secret>/", inbound.inbound_telegram, name="inbound-telegram"),
    *router.urls,
]
