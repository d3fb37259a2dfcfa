"""The header's "Work" menu: the queue pages the signed-in user's roles open."""

from django import template
from django.urls import reverse

from connections import queues

register = template.Library()


@register.simple_tag(takes_context=True)
def work_links(context) -> list[dict]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    links = []
    for page in queues.pages_for(user):
        url = reverse(page.url_name)
        links.append({"label": page.label, "url": url, "active": request.path == url})
    return links
