"""Sections that higher apps add to the client card page (UX: one window per client).

A section is a function ``(request, card) -> dict | None`` returning at least ``template``
(and any context it needs under its own keys), or None to show nothing. Billing adds the
account; the helpdesk will add tickets. Registered in the app's ``AppConfig.ready()``."""

from collections.abc import Callable

sections: list[Callable] = []


def register(section: Callable) -> Callable:
    if section not in sections:
        sections.append(section)
    return section


def render_sections(request, card) -> list[dict]:
    return [part for part in (section(request, card) for section in sections) if part]
