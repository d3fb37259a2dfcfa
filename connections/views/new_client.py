"""new_client"""

urlpatterns: list = []
