from django.urls import path

from .views import accounts, bank, cashier, catalog, documents, gateway, payments, terms

app_name = "billing"

urlpatterns = [
    path("bank/", bank.bank_import, name="bank_import"),
    path("bank/queue/", bank.bank_queue, name="bank_queue"),
    path("bank/transfers/<int:pk>/assign/", bank.bank_transfer_assign,
         name="bank_transfer_assign"),
    path("bank/transfers/<int:pk>/ignore/", bank.bank_transfer_ignore,
         name="bank_transfer_ignore"),
    path("documents/<int:pk>/pdf/", documents.document_pdf_view, name="document_pdf"),
    path("claims/<int:pk>/pdf/", documents.claim_pdf_view, name="claim_pdf"),
    # The account and what staff do with it
    path("accounts/<str:number>/", accounts.account_detail, name="account_detail"),
    path("accounts/<str:number>/tariff/", accounts.account_tariff_change,
         name="account_tariff_change"),
    path("accounts/<str:number>/tariff/cancel/", accounts.account_tariff_change_cancel,
         name="account_tariff_change_cancel"),
    path("accounts/<str:number>/pause/", accounts.account_pause, name="account_pause"),
    path("accounts/<str:number>/resume/", accounts.account_resume, name="account_resume"),
    path("accounts/<str:number>/promised-payment/", accounts.account_promised_payment,
         name="account_promised_payment"),
    path("accounts/<str:number>/deferral/", accounts.account_deferral,
         name="account_deferral"),
    path("accounts/<str:number>/never-block/", accounts.account_never_block,
         name="account_never_block"),
    path("accounts/<str:number>/services/", accounts.account_service_add,
         name="account_service_add"),
    path("accounts/<str:number>/services/<int:pk>/stop/", accounts.account_service_remove,
         name="account_service_remove"),
    # The commercial terms of a client (CS-1), edited on the card
    path("clients/<int:pk>/terms/", terms.terms_edit, name="terms_edit"),
    # Money in
    path("cashier/", cashier.cashier, name="cashier"),
    path("cashier/search/", cashier.cashier_search, name="cashier_search"),
    path("payments/", payments.payment_list, name="payment_list"),
    path("payments/<int:pk>/cancel/", payments.payment_cancel_view, name="payment_cancel"),
    # The catalogue
    path("tariffs/", catalog.tariff_list, name="tariff_list"),
    path("tariffs/new/", catalog.tariff_create, name="tariff_create"),
    path("tariffs/<int:pk>/edit/", catalog.tariff_edit, name="tariff_edit"),
    path("tariffs/<int:pk>/close/", catalog.tariff_close, name="tariff_close"),
    path("services/", catalog.service_list, name="service_list"),
    path("services/new/", catalog.service_create, name="service_create"),
    path("services/<int:pk>/edit/", catalog.service_edit, name="service_edit"),
    path("promotions/", catalog.promotion_list, name="promotion_list"),
    path("promotions/new/", catalog.promotion_create, name="promotion_create"),
    path("promotions/<int:pk>/edit/", catalog.promotion_edit, name="promotion_edit"),
    # Online payments: every gateway's notifications, and the test gateway's payment page
    path("gateway/<str:name>/callback/", gateway.gateway_callback, name="gateway_callback"),
    path("gateway/test/pay/<uuid:public_id>/", gateway.test_gateway_pay,
         name="gateway_test_pay"),
]
