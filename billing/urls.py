from django.urls import path

from .views import bank, documents

app_name = "billing"

urlpatterns = [
    path("bank/", bank.bank_import, name="bank_import"),
    path("bank/queue/", bank.bank_queue, name="bank_queue"),
    path("bank/transfers/<int:pk>/assign/", bank.bank_transfer_assign,
         name="bank_transfer_assign"),
    path("bank/transfers/<int:pk>/ignore/", bank.bank_transfer_ignore,
         name="bank_transfer_ignore"),
    path("documents/<int:pk>/pdf/", documents.document_pdf_view, name="document_pdf"),
]
