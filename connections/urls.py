from django.urls import path

from .views import card_actions, clients, documents, new_client, queues

app_name = "connections"

urlpatterns = [
    path("clients/", clients.client_list, name="client_list"),
    path("clients/new/", clients.client_create_view, name="client_create"),
    path("clients/search/", clients.client_search, name="client_search"),
    path("clients/<int:pk>/", clients.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", clients.client_edit, name="client_edit"),
    path("clients/<int:pk>/contacts/", clients.contact_add, name="contact_add"),
    path("buildings/", clients.building_list, name="building_list"),
    path("buildings/pick/", clients.building_picker, name="building_picker"),
    path("buildings/<int:pk>/", clients.building_detail, name="building_detail"),
    *new_client.urlpatterns,
    *card_actions.urlpatterns,
    *queues.urlpatterns,
    *documents.urlpatterns,
]
