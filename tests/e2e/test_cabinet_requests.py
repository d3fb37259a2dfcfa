"""The client's requests in a real browser (C4, SP-5, SP-9): he opens a request in plain
words, sees it in his list, answers our question, confirms the task the assignee wrote and
rates the result — and an email link does the same without signing in."""

import re

import pytest
from django.conf import settings as conf
from django.contrib.auth.models import Group
from django.core import mail
from playwright.sync_api import expect

from ispcrm import roles
from tickets.models import Category, Rating, ReviewTask, SlaPolicy, Ticket
from tickets.services import tickets as desk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def in_english(page, live_server) -> None:
    """Read the pages as the code writes them, whatever the Russian catalogue holds."""
    page.context.add_cookies([{"name": conf.LANGUAGE_COOKIE_NAME, "value": "en",
                               "url": live_server.url}])


@pytest.fixture
def desk_setup(make_user):
    """A first-line agent with his group and head, the category tree, a fallback SLA."""
    agent = make_user(roles.SUPPORT, username="agent", email="agent@isp.example")
    head = make_user(roles.SUPPORT, username="head", email="head@isp.example")
    group = Group.objects.create(name="First line")
    group.user_set.add(agent)
    internet = Category.objects.create(code="internet", name="Internet", group=group,
                                       head=head, client_name="Internet does not work well")
    Category.objects.create(code="slow", name="Low speed", parent=internet,
                            client_name="Internet is slow")
    SlaPolicy.objects.create(name="Standard", first_response_hours=4, update_hours=8,
                             resolution_hours=40)
    return {"agent": agent, "head": head}


def test_create_confirm_and_rate_a_request_in_the_cabinet(cabinet_page, live_server,
                                                          subscriber, desk_setup):
    page = cabinet_page
    in_english(page, live_server)
    agent = desk_setup["agent"]

    page.goto("/my/requests/")
    expect(page.get_by_text("You have no requests yet.")).to_be_visible()
    page.get_by_role("link", name="New request").click()
    page.get_by_label("What is it about").select_option(label="Internet is slow")
    page.get_by_label("In a few words").fill("Slow in the evenings")
    page.get_by_label("Details").fill("2 Mbit/s after 20:00 since Monday")
    page.get_by_role("button", name="Send the request").click()

    ticket = Ticket.objects.get()
    page.wait_for_url(f"**/my/requests/{ticket.pk}/")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Your request #{ticket.pk} is registered; we will answer by")
    assert (ticket.client_id, ticket.channel, ticket.assignee) == (subscriber.client_id,
                                                                   "cabinet", agent)

    page.get_by_role("link", name="My requests").first.click()
    row = page.get_by_role("article").filter(has_text="Slow in the evenings")
    expect(row).to_contain_text("Registered")
    expect(row).to_contain_text("We will answer by")

    # The assignee asks a question and notes something for himself.
    desk.comment_add(ticket=ticket, author=agent, kind="question", body="Cable or Wi-Fi?")
    desk.comment_add(ticket=ticket, author=agent, kind="note", internal=True,
                     body="Port 12 flaps, check the switch")
    row.get_by_role("link").click()
    expect(page.get_by_text("Waiting for your answer")).to_be_visible()
    expect(page.get_by_text("Cable or Wi-Fi?")).to_be_visible()
    expect(page.get_by_text("Port 12 flaps")).to_have_count(0)
    page.get_by_label("Your message").fill("Wi-Fi, the cable is fine")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("we continue with your request")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.paused_since is None

    # The assignee writes the formal task: the client confirms it here.
    desk.formal_task_set(ticket=ticket, actor=agent, text="Move the router to the hall")
    page.reload()
    expect(page.get_by_text("Move the router to the hall")).to_be_visible()
    page.get_by_role("button", name="Confirm the task").click()
    expect(page.get_by_role("alert")).to_contain_text("the task is confirmed")
    expect(page.get_by_text("You confirmed the task on")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.formal_confirmed_at is not None

    # Resolved: the client rates it.
    desk.ticket_resolve(ticket=ticket, actor=agent, note="Router moved, 95 Mbit/s now")
    page.goto("/my/requests/")
    expect(page.get_by_text("Please rate how we did.")).to_be_visible()
    page.get_by_role("article").filter(has_text="Slow in the evenings").get_by_role(
        "link").click()
    expect(page.get_by_text("Router moved, 95 Mbit/s now")).to_be_visible()
    page.get_by_text("5", exact=True).click()  # the label of the radio button
    page.get_by_label("Comment (optional)").fill("Fast and polite")
    page.get_by_role("button", name="Send the rating").click()
    expect(page.get_by_role("alert")).to_contain_text("Thank you for the rating.")
    expect(page.get_by_text("Your rating: 5 of 5.")).to_be_visible()
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment) == (5, "Fast and polite")
    assert not ReviewTask.objects.exists()
    expect(page.get_by_text("Closed")).to_be_visible()


def test_the_requests_page_fits_a_phone(mobile_page, live_server, subscriber, desk_setup):
    page = mobile_page
    in_english(page, live_server)
    desk.ticket_open(actor=subscriber.client.cabinet_user, client=subscriber.client,
                     category=Category.objects.get(code="slow"), channel="cabinet",
                     subject="No signal in the kitchen")
    page.goto("/my/requests/")
    expect(page.get_by_role("link", name="New request")).to_be_in_viewport()
    expect(page.get_by_text("No signal in the kitchen")).to_be_in_viewport()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing scrolls sideways


def test_a_rating_link_from_the_email_works_without_signing_in(page, live_server, subscriber,
                                                               desk_setup, settings):
    card = subscriber.client
    card.email, card.support_channel = "client@mail.example", "email"
    card.save()
    ticket = desk.ticket_open(actor=desk_setup["agent"], client=card, channel="phone",
                              category=Category.objects.get(code="slow"), subject="No link")
    settings.SITE_URL = live_server.url  # the live server stands in for the site
    desk.ticket_resolve(ticket=ticket, actor=desk_setup["agent"], note="Port reset")
    body = next(m.body for m in mail.outbox if m.to == [card.email])
    link = re.search(r"http://\S+/tickets/link/rate/\S+/", body).group(0)
    in_english(page, live_server)
    page.goto(link)  # nobody is signed in in this browser
    expect(page.get_by_role("navigation", name="Cabinet menu")).to_have_count(0)
    page.get_by_text("3", exact=True).click()
    page.get_by_role("button", name="Send the rating").click()
    expect(page.get_by_text("Your rating: 3 of 5.")).to_be_visible()
    assert Rating.objects.get(ticket=ticket).score == 3
    assert ReviewTask.objects.get().head == desk_setup["head"]
