"""queues"""

urlpatterns: list = []
