"""The permission matrix (issue 8): every named URL × every role, a staff login without a
role, an anonymous visitor and a cabinet client → allowed or refused, as
``permission_rules.RULES`` says.

The URLs come from the URL conf, so a new view without a rule fails
``test_every_url_is_classified`` until someone says who may open it. Each URL is opened with
real objects of one small world (built once for the module): GET by everybody, and a POST by
everybody the view must refuse, which must write nothing to the database. Allowed POSTs are
not performed here; the features' own tests do that."""

import datetime as dt
import re
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
import weasyprint
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from ispcrm import roles

from .permission_rules import (
    ANON,
    API,
    CABINET,
    CABINET_PAGE,
    EXCLUDED_NAMESPACES,
    EXCLUDED_PATTERNS,
    NO_ROLE,
    PRINCIPALS,
    PUBLIC,
    RULES,
    Rule,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 23, 10, 0)  # a Monday; the world's survey is on Tuesday the 24th
MONDAY = NOW.date()
LOGIN = "/accounts/login/"
CABINET_LOGIN = "/my/login/"
# Tables a refused request may still write: the session (messages, the cabinet's renewal)
# and django-axes' access log.
UNWATCHED_TABLES = ("django_session", "axes_")


# --- The URL conf ---------------------------------------------------------------------------

def url_names() -> list[str]:
    """Every named URL of the project outside the excluded namespaces, as ``ns:name``."""
    found = []

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in EXCLUDED_NAMESPACES:
                    continue
                inner = pattern.namespace or ""
                walk(pattern.url_patterns,
                     f"{namespace}:{inner}".strip(":") if inner else namespace)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None:
                    assert any(word in str(pattern.pattern) for word in EXCLUDED_PATTERNS), (
                        f"{pattern.pattern} has no name: name it and classify it in "
                        "tests/ispcrm/permission_rules.py")
                    continue
                found.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def test_every_url_is_classified():
    missing = [name for name in url_names() if name not in RULES]
    assert not missing, (
        "These URLs have no permission rule: add each to RULES in "
        f"tests/ispcrm/permission_rules.py saying who may GET and POST it: {missing}")
    stale = sorted(set(RULES) - set(url_names()))
    assert not stale, f"Rules for URLs that no longer exist: {stale}"


# --- The world ------------------------------------------------------------------------------

def build_world() -> SimpleNamespace:
    """One client through the whole connection standard (so every document exists), with a
    cabinet login, and one of every object a URL names."""
    from billing.models import (
        Account,
        AccountService,
        BankStatement,
        BankTransfer,
        Claim,
        Document,
        OnlinePayment,
        Payment,
        Promotion,
        Service,
    )
    from cabinet.referral_codes import referral_code
    from connections.models import CardDocument, ColleagueQuestion, Crew
    from connections.services import contracts
    from reports.models import ExportJob
    from tests.factories import BranchFactory, TariffFactory, UserFactory
    from tests.workflow.journey import drive
    from tickets.models import Category, RetentionCall, Ticket
    from tickets.services.outages import outage_create

    branch = BranchFactory()
    team = {role: UserFactory(username=role, roles=(role,), branch=branch,
                              email=f"{role}@isp.example") for role in roles.ALL_ROLES}
    team[NO_ROLE] = UserFactory(username=NO_ROLE, roles=(), branch=branch)
    tariff = TariffFactory(name="Домашний 100")
    crew = Crew.objects.create(branch=branch, name="Бригада 1", members="Иванов, Петров")
    card = drive(team, to="activate", tariff=tariff, crew=crew)
    card.cabinet_user = UserFactory(username=f"client{card.pk}", roles=())
    card.save(update_fields=["cabinet_user"])
    # A second client at the contract stage: non-standard terms waiting for approval and a
    # clause disputed, so every contract action meets a contract it could act on.
    pending = drive(team, to="record_expertise", tariff=tariff)
    contract = contracts.draft(card=pending, actor=team[roles.MANAGER], nonstandard=True,
                               connection_fee=Decimal("1"))
    contracts.dispute(contract=contract, actor=team[roles.MANAGER], clause="Clause 5")
    account = Account.objects.get(client=card)
    survey = card.surveys.order_by("pk").first()
    service = Service.objects.create(code="ip", name="Static IP", monthly_fee=Decimal("150"))
    statement = BankStatement.objects.create(file_name="statement.txt", sha256="0" * 64,
                                             format="1c", our_account="40702810000000000001")
    category = Category.objects.create(code="other", name="Other")
    done = {"status": ExportJob.Status.DONE, "expires_at": timezone.now() + dt.timedelta(days=1)}
    export = ExportJob(kind="payments", requested_by=team[roles.DIRECTOR], **done)
    export.file.save("payments.xlsx", ContentFile(b"xlsx"), save=True)
    accounting_job = ExportJob(kind="1c_payments", automatic=True, period=dt.date(2026, 10, 1),
                               **done)
    accounting_job.file.save("payments.xlsx", ContentFile(b"xlsx"), save=True)
    card_document = CardDocument(card=card, kind=CardDocument.Kind.OTHER, title="Scan",
                                 created_by=team[roles.MANAGER])
    card_document.file.save("scan.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return SimpleNamespace(
        team=team, branch=branch, card=card, building=card.building, account=account,
        pending=pending, tariff=tariff, other_tariff=TariffFactory(name="Домашний 200"),
        survey=survey, survey_day=survey.date.isoformat(),
        installation=card.installation,
        question=ColleagueQuestion.objects.create(card=card, role=roles.NOC_HEAD,
                                                  question="Is the riser free?",
                                                  asked_by=team[roles.MANAGER]),
        card_document=card_document,
        payment=Payment.objects.filter(account=account).order_by("pk").first(),
        document=Document.objects.create(kind=Document.Kind.ACT, number="A-1", account=account,
                                         period=dt.date(2026, 10, 1),
                                         issued_on=dt.date(2026, 11, 2), total=Decimal("600")),
        claim=Claim.objects.create(account=account, number="П-1",
                                   created_on=dt.date(2026, 11, 2), debt=Decimal("600")),
        transfer=BankTransfer.objects.create(statement=statement, doc_number="1",
                                             doc_date=MONDAY, amount=Decimal("100"),
                                             status=BankTransfer.Status.UNMATCHED),
        service=service,
        account_service=AccountService.objects.create(account=account, service=service,
                                                      start=MONDAY),
        promotion=Promotion.objects.create(name="Winter", valid_from=dt.date(2026, 1, 1)),
        online_payment=OnlinePayment.objects.create(account=account, amount=Decimal("500"),
                                                    gateway="test"),
        ticket=Ticket.objects.create(client=card, branch=branch, category=category,
                                     channel="phone", subject="Slow internet"),
        outage=outage_create(actor=team[roles.NOC_HEAD], description="Switch down",
                             buildings=[card.building]),
        retention_call=RetentionCall.objects.create(client=card, due=MONDAY,
                                                    manager=team[roles.MANAGER]),
        export=export, accounting_job=accounting_job, referral_code=referral_code(card.pk),
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world and a signed-in test client per principal, built once and rolled back at
    the end of the module; each test runs in its own savepoint inside it."""
    now = timezone.make_aware(NOW)
    with (pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock(),
          override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))):
        patch.setattr(timezone, "now", lambda: now)
        patch.setattr(timezone, "localdate", lambda value=None, timezone=None: MONDAY)
        # Who may print is the question here, not how it looks: WeasyPrint's layout (~0.5 s a
        # page) is left to the documents' own tests.
        patch.setattr(weasyprint.HTML, "write_pdf", lambda self, *a, **kw: b"%PDF-1.4 test")
        with transaction.atomic():
            built = build_world()
            built.web = {}
            for principal in PRINCIPALS:
                web = Client(HTTP_ACCEPT_LANGUAGE="en")
                if principal == CABINET:
                    web.force_login(built.card.cabinet_user)
                elif principal != ANON:
                    web.force_login(built.team[principal])
                built.web[principal] = web
            yield built
            transaction.set_rollback(True)


# --- Asking and judging ---------------------------------------------------------------------

def value(world, text):
    if isinstance(text, str) and text.startswith("@"):
        found = world
        for part in text[1:].split("."):
            found = getattr(found, part)
        return str(found)
    return text


def url_of(world, name: str, rule: Rule) -> str:
    return reverse(name, kwargs={key: value(world, v) for key, v in rule.args.items()})


def query_of(world, rule: Rule) -> dict:
    return {key: value(world, v) for key, v in rule.query.items()}


def outcome(response) -> str:
    """What the principal got, in the matrix's words."""
    code = response.status_code
    if 200 <= code < 300:
        return "ok"
    if 300 <= code < 400:
        location = response["Location"]
        if location.startswith(LOGIN):
            return "sign-in"
        if location.startswith(CABINET_LOGIN):
            return "cabinet sign-in"
        return "redirect"
    return str(code)


def refusal(rule: Rule, principal: str) -> set[str]:
    """How the rule's area refuses ``principal``."""
    if rule.area == CABINET_PAGE:
        return {"cabinet sign-in"}
    if principal == ANON:
        return {"401"} if rule.area == API else {"sign-in"}
    return {"404"} if rule.hidden else {"403"}


def admitted(rule: Rule) -> set[str]:
    if rule.area == API:
        return {"ok"}
    return {"ok", "redirect"}


def send(web, method: str, url: str, rule: Rule, world):
    data = {key: value(world, v) for key, v in rule.data.items()}
    if rule.area == API:
        return getattr(web, method)(url, data, content_type="application/json")
    return getattr(web, method)(url, data)


WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


def written_tables(queries) -> list[str]:
    """The tables the captured SQL wrote, but the unwatched ones (sessions, axes' log)."""
    tables = {match[1] for query in queries if (match := WRITE.match(query["sql"]))}
    return sorted(t for t in tables if not t.startswith(UNWATCHED_TABLES))


SIGN_IN_OR_REFUSAL = {"401", "403", "sign-in", "cabinet sign-in"}


def judge_get(rule: Rule, principal: str, got: str) -> str | None:
    """None when a GET's outcome is what the rule says, else what was expected."""
    if rule.get is None:
        return None if got != "ok" else "no page (the URL takes POST only)"
    if rule.area == PUBLIC:
        return None if got not in SIGN_IN_OR_REFUSAL and got[0] != "5" else "no sign-in asked"
    want = admitted(rule) if principal in rule.get else refusal(rule, principal)
    return None if got in want else " or ".join(sorted(want))


def judge_write(rule: Rule, principal: str, got: str) -> str | None:
    """The same for a refused POST (or PATCH)."""
    if principal in rule.post:
        # The view lets him in and the service refuses his role: the API says 403 (API.md),
        # a page shows the reason (a redirect back, or the form again).
        want = {"403"} if rule.area == API else {"ok", "redirect"}
    else:
        want = refusal(rule, principal)
    return None if got in want else " or ".join(sorted(want))


def refused_writers(rule: Rule) -> list[str]:
    if rule.post is None:
        return []
    return [principal for principal in PRINCIPALS if principal not in rule.post
            or (rule.acts is not None and principal not in rule.acts)]


@pytest.mark.parametrize("name", url_names())
def test_matrix(world, name):
    rule = RULES.get(name)
    if rule is None:
        pytest.fail(f"{name} has no rule: classify it in tests/ispcrm/permission_rules.py")
    url = url_of(world, name, rule)
    wrong = []
    # A public URL asks nobody to sign in: the visitor's view is the one that matters.
    for principal in (ANON,) if rule.area == PUBLIC else PRINCIPALS:
        got = outcome(world.web[principal].get(url, query_of(world, rule)))
        expected = judge_get(rule, principal, got)
        if expected:
            wrong.append(f"GET {principal}: got {got}, expected {expected}")
    for principal in refused_writers(rule):
        with CaptureQueriesContext(connection) as queries:
            got = outcome(send(world.web[principal], rule.write, url, rule, world))
        expected = judge_write(rule, principal, got)
        if expected:
            wrong.append(f"{rule.write.upper()} {principal}: got {got}, expected {expected}")
        if written := written_tables(queries):
            wrong.append(f"{rule.write.upper()} {principal} wrote to {written}")
    assert not wrong, f"{name} ({url}):\n" + "\n".join(wrong)


@pytest.mark.parametrize(("name", "role"), [
    ("client-questions", roles.MANAGER),
    ("client-contract-dispute", roles.MANAGER),
    ("connections:card_question_ask", roles.MANAGER),
    ("connections:card_transition", roles.MANAGER),
    ("tickets:outage_create", roles.NOC_HEAD),
    ("billing:account_never_block", roles.SUBSCRIBER_DEPT),
])
def test_a_refused_body_works_for_the_right_role(world, name, role):
    """Control: what the matrix posts as the wrong role changes the data when the right
    role posts it, so "nothing changed" above was the role's refusal, not a bad form."""
    rule = RULES[name]
    assert role in rule.post and (rule.acts is None or role in rule.acts)
    with CaptureQueriesContext(connection) as queries:
        response = send(world.web[role], rule.write, url_of(world, name, rule), rule, world)
    assert response.status_code < 400
    assert written_tables(queries)


def test_admin_refuses_every_role(world):
    """The Django admin has its own gate (is_staff): no role, no client gets past it."""
    for principal in PRINCIPALS:
        response = world.web[principal].get("/admin/")
        assert response.status_code == 302, principal
        assert response["Location"].startswith("/admin/login/"), principal


def test_home_shows_clients_only_to_those_who_may_see_them(world):
    """The home page lists the branch's newest clients; a login without a role sees none
    (as the client list refuses him), and a cabinet client is sent to his cabinet."""
    name = world.card.name
    assert name in world.web[roles.SUPPORT].get("/").content.decode()
    response = world.web[NO_ROLE].get("/")
    assert response.status_code == 200 and name not in response.content.decode()
    assert world.web[CABINET].get("/")["Location"] == reverse("cabinet:home")


def test_staff_in_the_cabinet_are_sent_to_its_sign_in(world):
    """Staff are not clients: the cabinet asks them to sign in as one (docs/CABINET.md),
    and its sign-in page tells them so."""
    response = world.web[roles.MANAGER].get(reverse("cabinet:home"))
    assert response["Location"].startswith(CABINET_LOGIN)
    page = world.web[roles.MANAGER].get(CABINET_LOGIN)
    assert page.status_code == 200 and page.context["staff_user"]


def test_unused_uuid_is_not_a_leak(world):
    """An export id that is nobody's answers like one that is somebody else's."""
    url = reverse("reports:export_detail", kwargs={"public_id": uuid.uuid4()})
    assert world.web[roles.MANAGER].get(url).status_code == 404
