from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from connections.views import home

from . import views

api_v1 = [
    path("", include("connections.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("tickets.api.urls")),
    path("", include("reports.api.urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("connections.urls")),
    path("billing/", include("billing.urls")),
    path("tickets/", include("tickets.urls")),
    path("reports/", include("reports.urls")),
    path("my/", include("cabinet.urls")),
]

# JSON under /api/, the usual pages elsewhere (API.md: one error shape).
handler400 = "ispcrm.api.errors.bad_request"
handler404 = "ispcrm.api.errors.page_not_found"
handler500 = "ispcrm.api.errors.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
