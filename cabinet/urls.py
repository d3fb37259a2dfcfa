"""The client's personal cabinet, under /my/. Each feature's views live in their own module;
add a feature's paths in its own block below."""

from django.urls import path

from .views import auth, history, home, money, referrals, requests, tariff

app_name = "cabinet"

urlpatterns = [
    # Sign-in, one-time codes, sign-out, staff "see as client" (cabinet.views.auth)

    # Home (cabinet.views.home)

    # Top up and promised payment (cabinet.views.money)

    # Tariff, pause and resume (cabinet.views.tariff)

    # History and documents (cabinet.views.history)

    # Requests (cabinet.views.requests)

    # Referrals (cabinet.views.referrals)
]
