"""The client's personal cabinet, under /my/. Each feature's views live in their own module;
add a feature's paths in its own block below."""

from django.urls import path

from .views import auth, history, home, money, referrals, requests, tariff

app_name = "cabinet"

urlpatterns = [
    # Sign-in, one-time codes, sign-out, staff "see as client" (cabinet.views.auth)
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("code/", auth.code_request, name="code_request"),
    path("code/confirm/", auth.code_confirm, name="code_confirm"),
    path("code/send/<int:card_id>/", auth.send_code, name="send_code"),  # staff, from the card
    path("see-as/end/", auth.see_as_end, name="see_as_end"),
    path("see-as/<int:card_id>/", auth.see_as, name="see_as"),

    # Home (cabinet.views.home)
    path("", home.home, name="home"),

    # Top up and promised payment (cabinet.views.money)
    path("topup/", money.topup, name="topup"),
    path("topup/<uuid:public_id>/", money.topup_result, name="topup_result"),
    path("promised/", money.promised_payment, name="promised_payment"),

    # Tariff, pause and resume (cabinet.views.tariff)
    path("tariff/", tariff.tariff, name="tariff"),
    path("tariff/change/", tariff.tariff_change, name="tariff_change"),
    path("tariff/cancel/", tariff.tariff_cancel, name="tariff_cancel"),
    path("pause/", tariff.pause, name="pause"),
    path("pause/resume/", tariff.resume, name="resume"),

    # History and documents (cabinet.views.history)
    path("history/", history.history, name="history"),
    path("documents/", history.documents, name="documents"),
    path("documents/<int:pk>.pdf", history.document_pdf_view, name="document_pdf"),
    path("documents/contract.pdf", history.contract_pdf, name="contract_pdf"),
    path("documents/claims/<int:pk>.pdf", history.claim_pdf_view, name="claim_pdf"),

    # Requests (cabinet.views.requests)
    path("requests/", requests.request_list, name="requests"),
    path("requests/new/", requests.request_new, name="request_new"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/reply/", requests.request_reply, name="request_reply"),
    path("requests/<int:pk>/confirm/", requests.request_confirm, name="request_confirm"),
    path("requests/<int:pk>/rate/", requests.request_rate, name="request_rate"),

    # Referrals (cabinet.views.referrals)
    path("referrals/", referrals.referrals, name="referrals"),
    path("join/<str:code>/", referrals.join, name="join"),
    path("join/<str:code>/thanks/", referrals.join_thanks, name="join_thanks"),
]
