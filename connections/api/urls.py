from django.urls import path
from rest_framework.routers import SimpleRouter

from . import workflow
from .views import BuildingViewSet, ClientViewSet

router = SimpleRouter()
router.register("buildings", BuildingViewSet, basename="building")
router.register("clients", ClientViewSet, basename="client")

client = "clients/<int:pk>/"
urlpatterns = [
    path(client + "transitions/<str:name>/", workflow.transition, name="client-transition"),
    path(client + "contract/", workflow.contract_draft, name="client-contract"),
    path(client + "contract/approve/", workflow.contract_approve,
         name="client-contract-approve"),
    path(client + "contract/dispute/", workflow.contract_dispute,
         name="client-contract-dispute"),
    path(client + "contract/resolve/", workflow.contract_resolve,
         name="client-contract-resolve"),
    path(client + "survey/decision/", workflow.survey_decide, name="client-survey-decision"),
    path(client + "installation/override/", workflow.installation_override,
         name="client-installation-override"),
    path(client + "installation/slots/", workflow.installation_slots,
         name="client-installation-slots"),
    path(client + "questions/", workflow.question_ask, name="client-questions"),
    *router.urls,
]
