"""card_actions"""

urlpatterns: list = []
