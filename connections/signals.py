"""Keep denormalised data right when the address register changes."""

from django.db.models.signals import post_save

from connections.models import Building, ClientCard, Street

BATCH = 2000


def refresh_search_text(cards) -> None:
    """Rebuild the search text of these cards in batches (a street may have thousands)."""
    cards = cards.select_related("building__street").order_by("pk")
    batch = []
    for card in cards.iterator(chunk_size=BATCH):
        card.refresh_search_text()
        batch.append(card)
        if len(batch) == BATCH:
            ClientCard.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        ClientCard.objects.bulk_update(batch, ["search_text"])


def _street_saved(sender, instance: Street, created: bool, **kwargs) -> None:
    if not created:
        refresh_search_text(ClientCard.objects.filter(building__street=instance))


def _building_saved(sender, instance: Building, created: bool, **kwargs) -> None:
    if not created:
        refresh_search_text(ClientCard.objects.filter(building=instance))


def connect() -> None:
    post_save.connect(_street_saved, sender=Street, dispatch_uid="connections.street_saved")
    post_save.connect(_building_saved, sender=Building, dispatch_uid="connections.building_saved")
