"""The reports part of API.md, mounted under /api/v1/."""

urlpatterns = [
]
