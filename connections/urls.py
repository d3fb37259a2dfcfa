from django.urls import path

from . import views

app_name = "connections"

urlpatterns = [
    path("clients/", views.client_list, name="client_list"),
    path("clients/new/", views.client_create_view, name="client_create"),
    path("clients/search/", views.client_search, name="client_search"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("clients/<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("buildings/", views.building_list, name="building_list"),
    path("buildings/pick/", views.building_picker, name="building_picker"),
    path("buildings/<int:pk>/", views.building_detail, name="building_detail"),
]
