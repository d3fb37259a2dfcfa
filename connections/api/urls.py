from rest_framework.routers import SimpleRouter

from .views import BuildingViewSet, ClientViewSet

router = SimpleRouter()
router.register("buildings", BuildingViewSet, basename="building")
router.register("clients", ClientViewSet, basename="client")

urlpatterns = router.urls
