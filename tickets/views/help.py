"""The staff help page (Q6): how a ticket flows, in plain words."""

from django.shortcuts import render
from django.urls import path

from .common import staff_only


@staff_only
def help_page(request):
    return render(request, "tickets/help.html")


urlpatterns = [path("help/", help_page, name="help")]
