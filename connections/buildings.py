"""What higher apps add to the building page, the first-diagnosis screen (M6).

Two kinds, registered in the app's ``AppConfig.ready()``:

- a section ``(request, building, clients) -> dict | None`` shown above the client list,
  returning at least ``template`` (an outage in progress, say);
- a column ``(request, building, clients) -> dict | None`` added to the client list, returning
  ``label`` and ``values`` ({card pk: text or safe HTML}); it must fetch its values for the
  whole building in one query, so the page's query count does not grow with the building.

``clients`` are ``connections.selectors.BuildingRow`` tuples (pk, premises, name, phone,
stage, connection type), not models: the page must stay fast for 500 flats.
"""

from collections.abc import Callable

sections: list[Callable] = []
columns: list[Callable] = []


def register(section: Callable) -> Callable:
    if section not in sections:
        sections.append(section)
    return section


def register_column(column: Callable) -> Callable:
    if column not in columns:
        columns.append(column)
    return column


def render_sections(request, building, clients) -> list[dict]:
    return [part for part in (section(request, building, clients) for section in sections)
            if part]


def render_columns(request, building, clients) -> list[dict]:
    return [part for part in (column(request, building, clients) for column in columns)
            if part]


def rows(clients, found_columns) -> list[tuple]:
    """Each card with its extra cells in column order (templates cannot index a dict)."""
    return [(card, [column["values"].get(card.pk, "") for column in found_columns])
            for card in clients]
