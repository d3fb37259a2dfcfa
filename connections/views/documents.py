"""documents"""

urlpatterns: list = []
