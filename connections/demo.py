"""Demo data sections that higher apps add to ``manage.py seed_demo``.

A higher app (billing, tickets…) registers its section in ``AppConfig.ready()``; the command
runs them after its own, in registration order. A section takes the command's ``Seeder``."""

from collections.abc import Callable

extra_sections: list[Callable] = []


def register(section: Callable) -> Callable:
    if section not in extra_sections:
        extra_sections.append(section)
    return section
