from django.urls import path
from rest_framework.routers import SimpleRouter

from .bank import BankStatementImportView
from .usage import UsageImportView
from .views import AccountViewSet, PaymentViewSet, TariffViewSet

router = SimpleRouter()
router.register("tariffs", TariffViewSet, basename="tariff")
router.register("accounts", AccountViewSet, basename="account")
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = [
    *router.urls,
    path("bank-statements/", BankStatementImportView.as_view(), name="bank-statement-import"),
    path("usage/", UsageImportView.as_view(), name="usage-import"),
]
