"""The helpdesk journey in real browsers (issue 5: SP-2, SP-3, SP-5, SP-9, Q1): support takes
a call and finds the caller by phone, the ticket is routed and its SLA clock runs; the
assignee writes the formal task, the client confirms it in his cabinet, the assignee
resolves, the client rates 2 — and the group head gets the review."""

import pytest
from django.conf import settings as conf
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from ispcrm import roles
from tickets.models import Category, Rating, ReviewTask, SlaPolicy, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def english(page, live_server) -> None:
    """Pages as the code writes them (English msgids), whatever the catalogue holds."""
    page.context.add_cookies([{"name": conf.LANGUAGE_COOKIE_NAME, "value": "en",
                               "url": live_server.url}])


def staff_page(browser, live_server, user):
    """A browser of its own for a staff member, signed in, in English."""
    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1366, "height": 900})
    web = Client()
    web.force_login(user)
    context.add_cookies([
        {"name": conf.SESSION_COOKIE_NAME, "value": web.cookies[conf.SESSION_COOKIE_NAME].value,
         "url": live_server.url},
        {"name": conf.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def desk(make_user):
    """Support takes calls; TV tickets go to the named engineer; the head reviews ratings."""
    people = {name: make_user(roles.SUPPORT, username=name, first_name=first,
                              last_name="Support", email=f"{name}@isp.example")
              for name, first in (("anna", "Anna"), ("engineer", "Egor"), ("head", "Hanna"))}
    line1, line2 = Group.objects.create(name="L1"), Group.objects.create(name="L2")
    line1.user_set.add(people["anna"])
    line2.user_set.add(people["engineer"])
    Category.objects.create(code="internet", name="Internet", group=line1)
    Category.objects.create(code="tv", name="TV", group=line2, person=people["engineer"],
                            head=people["head"], client_name="Television")
    SlaPolicy.objects.create(name="Standard", first_response_hours=4, update_hours=8,
                             resolution_hours=40)
    return people


def test_a_call_is_routed_confirmed_resolved_and_a_low_rating_reviewed(
        browser, live_server, cabinet_page, subscriber, desk):
    card = subscriber.client
    card.name, card.phone = "Sokolov Petr", "+79161234567"
    card.save()  # the search text follows

    # 1. Anna takes the call: the caller is found by his phone, the category routes it.
    anna = staff_page(browser, live_server, desk["anna"])
    anna.goto("/tickets/new/")
    anna.get_by_label("Caller's phone, name or address").fill("8 916 123-45-67")
    anna.locator("#callers").get_by_text("Sokolov Petr").wait_for()
    anna.get_by_label("Sokolov Petr", exact=False).check()
    anna.get_by_label("Category").select_option(
        str(Category.objects.get(code="tv").pk))
    anna.get_by_label("Subject").fill("No picture on channel 5")
    anna.get_by_label("What the caller says").fill("Since yesterday evening")
    anna.get_by_role("button", name="Open the ticket").click()
    anna.wait_for_url("**/tickets/*/")
    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.channel, ticket.assignee) == (card, "phone",
                                                                desk["engineer"])
    expect(anna.get_by_text(f"Ticket #{ticket.pk} opened and assigned to Egor Support"))\
        .to_be_visible()
    clocks = anna.locator("section", has=anna.get_by_role("heading", name="SLA clocks"))
    expect(clocks).to_contain_text("First response")
    expect(clocks).to_contain_text("left")
    assert ticket.first_response_due and ticket.resolution_due

    # 2. The assignee writes the formal task; taking it waits for the client.
    engineer = staff_page(browser, live_server, desk["engineer"])
    engineer.goto(f"/tickets/{ticket.pk}/")
    engineer.get_by_label("Write the task in words the client confirms before work starts")\
        .fill("Re-tune the set-top box and replace the TV cable")
    engineer.get_by_role("button", name="Send for confirmation").click()
    expect(engineer.get_by_text("Formal task sent to the client for confirmation."))\
        .to_be_visible()
    expect(engineer.get_by_text("awaiting the client's confirmation")).to_be_visible()

    # 3. The client confirms it in his cabinet.
    client = cabinet_page
    english(client, live_server)
    client.goto("/my/requests/")
    row = client.get_by_role("article").filter(has_text="No picture on channel 5")
    expect(row).to_contain_text("A task awaits your confirmation.")
    row.get_by_role("link").click()
    expect(client.get_by_text("Re-tune the set-top box and replace the TV cable"))\
        .to_be_visible()
    client.get_by_role("button", name="Confirm the task").click()
    expect(client.get_by_text("You confirmed the task on")).to_be_visible()

    # 4. The assignee sees the confirmation and resolves with an answer.
    engineer.reload()
    expect(engineer.locator("#formal-h")).to_contain_text("confirmed")
    engineer.locator("#write-body").fill("Set-top box re-tuned, the cable replaced.")
    engineer.get_by_role("button", name="Resolve with this answer").click()
    expect(engineer.get_by_text("Ticket resolved; the client is asked to rate it."))\
        .to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED and not ticket.resolution_breached

    # 5. The client rates it 2.
    client.reload()
    expect(client.get_by_text("Set-top box re-tuned, the cable replaced.")).to_be_visible()
    client.get_by_text("2", exact=True).click()
    client.get_by_label("Comment (optional)").fill("Took two days")
    client.get_by_role("button", name="Send the rating").click()
    expect(client.get_by_text("Your rating: 2 of 5.")).to_be_visible()

    # 6. The head gets the review: a task, a message, the rating on the ticket page.
    review = ReviewTask.objects.get()
    assert review.head == desk["head"] and review.rating == Rating.objects.get(ticket=ticket)
    assert any(message.to == ["head@isp.example"] and f"#{ticket.pk}" in message.subject
               for message in mail.outbox)
    head = staff_page(browser, live_server, desk["head"])
    head.goto(f"/tickets/{ticket.pk}/")
    rating = head.locator("section", has=head.get_by_role("heading", name="Client's rating"))
    expect(rating).to_contain_text("2 / 5")
    expect(rating).to_contain_text("Took two days")
    for page in (anna, engineer, head):
        page.context.close()
