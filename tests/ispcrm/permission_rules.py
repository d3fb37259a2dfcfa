"""Who may open which URL: the expected side of the permission matrix
(tests/ispcrm/test_permission_matrix.py).

Every named URL of the URL conf has a ``Rule`` here; a new view without one fails the matrix
test until someone classifies it. A rule says, for each principal — every role of
``ispcrm.roles``, a staff login without a role, an anonymous visitor and a cabinet client —
whether the view lets him in:

- ``get``: who may open the page (a 2xx, or a redirect that is not to a sign-in page);
  ``None`` for a URL that only takes POST (then nobody gets a 2xx from a GET).
- ``post``: who passes the view's own check on POST (``write`` names the method when it is
  not POST); every other principal must be refused, and his request may write nothing.
  ``None``: the URL takes no POST, or its POST is not checked here (the reason in ``why``).
- ``acts``: for actions whose view lets a wider group in and a service then refuses by role
  with a message (the connection standard's transitions, the helpdesk's outages), who the
  service lets act. The others' requests may write nothing either.

Role sets are written from ``ROLE_PERMISSIONS`` (``perm``) where the view checks a model
permission, and by name where a page is about a role (docs/WORKFLOW.md, docs/REPORTS.md,
docs/HELPDESK.md, docs/CABINET.md)."""

from dataclasses import dataclass, field

from ispcrm import roles
from ispcrm.roles import ROLE_PERMISSIONS

ANON = "anonymous"
CABINET = "cabinet"  # a client of the personal cabinet (a login linked to his card)
NO_ROLE = "no_role"  # a staff login without a role group (not given one yet, or taken away)
STAFF = frozenset(roles.ALL_ROLES)
SIGNED_IN = STAFF | {NO_ROLE, CABINET}
EVERYONE = SIGNED_IN | {ANON}
PRINCIPALS = (*roles.ALL_ROLES, NO_ROLE, ANON, CABINET)

# Areas: how a refusal looks.
PAGE = "page"  # a staff page: anonymous → the sign-in page, others → 403
API = "api"  # /api/v1/: anonymous → 401, others → 403
CABINET_PAGE = "cabinet"  # the client's cabinet: anyone but a client → the cabinet's sign-in
PUBLIC = "public"  # no sign-in: the URL's own secret or signature is its lock


def perm(*perms: str) -> frozenset[str]:
    """The roles whose ROLE_PERMISSIONS hold every one of ``perms``."""
    return frozenset(role for role, held in ROLE_PERMISSIONS.items() if set(perms) <= set(held))


def only(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass(frozen=True)
class Rule:
    area: str
    get: frozenset[str] | None
    post: frozenset[str] | None = None
    args: dict[str, str] = field(default_factory=dict)  # URL kwarg → value; "@x.y": world.x.y
    acts: frozenset[str] | None = None
    query: dict = field(default_factory=dict)  # the GET's query string ("@…" as in args)
    data: dict = field(default_factory=dict)  # what a refused POST sends ("@…" as in args)
    write: str = "post"
    hidden: bool = False  # refused with 404: the view documents it hides that the id exists
    why: str = ""


def page(get, post=None, **kw) -> Rule:
    return Rule(PAGE, get, post, **kw)


def action(post, **kw) -> Rule:
    """A staff page that only takes POST."""
    return Rule(PAGE, None, post, **kw)


def api(get, post=None, **kw) -> Rule:
    return Rule(API, get, post, **kw)


def cabinet(get=frozenset({CABINET}), post=None, **kw) -> Rule:
    return Rule(CABINET_PAGE, get, post, **kw)


def public(why: str, get=EVERYONE, **kw) -> Rule:
    return Rule(PUBLIC, get, None, why=why, **kw)


# --- Permission shorthands ------------------------------------------------------------------

VIEW_CARDS = perm("connections.view_clientcard")
VIEW_BUILDINGS = perm("connections.view_building")
ADD_CARDS = perm("connections.add_clientcard")
VIEW_ACCOUNTS = perm("billing.view_account")
REPORTS = only(*roles.REPORTS)
# The helpdesk pages are open to every staff role (tickets.views.common.HELPDESK_ROLES:
# "everybody on the staff may take a call"); the API asks for tickets.add_ticket instead.
HELPDESK = STAFF
OUTAGE_ROLES = only(roles.NOC_HEAD, roles.TECHNICAL_DIRECTOR, roles.SUPPORT)  # API.md

CARD = {"pk": "@card.pk"}
PENDING = {"pk": "@pending.pk"}  # a card whose non-standard contract waits (and is disputed)
PENDING_CONTRACT = {"pk": "@pending.contract.pk"}
ACCOUNT = {"number": "@account.number"}
TICKET = {"pk": "@ticket.pk"}
OUTAGE = {"pk": "@outage.pk"}

RULES: dict[str, Rule] = {
    # --- The site -----------------------------------------------------------------------------
    "home": page(SIGNED_IN, why="each role lands on its queue; a cabinet client is sent to /my/"),
    "login": public("the staff sign-in form"),
    "logout": public("signing out; its POST would end the shared test sessions", get=None),
    "set_language": public("Django's language switch", get=None),
    "api-schema": public("the OpenAPI schema is published (API.md, schemathesis reads it)"),
    "api-docs": public("the browsable API docs (API.md)"),

    # --- API: address register and client cards (API.md) ---------------------------------------
    "building-list": api(VIEW_BUILDINGS, perm("connections.add_building"),
                         data={"house": "1"}),
    "building-detail": api(VIEW_BUILDINGS, args={"pk": "@building.pk"}),
    "building-clients": api(VIEW_BUILDINGS, args={"pk": "@building.pk"}),
    "client-list": api(VIEW_CARDS, ADD_CARDS, data={"name": "Refused"}),
    "client-detail": api(VIEW_CARDS, perm("connections.change_clientcard"), args=CARD,
                         write="patch", data={"name": "Refused"}),
    "client-history": api(VIEW_CARDS, args=CARD),
    # The workflow endpoints let in whoever sees cards; each action then checks its role
    # (403 naming it, connections.api.workflow.CanViewClients).
    "client-transition": api(None, VIEW_CARDS, args={**PENDING, "name": "cancel"},
                             acts=only(roles.MANAGER), data={"reason": "refused"}),
    "client-contract": api(None, VIEW_CARDS, args=PENDING, acts=only(roles.MANAGER)),
    "client-contract-approve": api(None, VIEW_CARDS, args=PENDING,
                                   acts=only(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR)),
    "client-contract-dispute": api(None, VIEW_CARDS, args=PENDING, acts=only(roles.MANAGER),
                                   data={"clause": "refused"}),
    "client-contract-resolve": api(None, VIEW_CARDS, args=PENDING, acts=only(roles.LAWYER),
                                   data={"resolution": "refused"}),
    "client-survey-decision": api(None, VIEW_CARDS, args=CARD,
                                  acts=only(roles.TECHNICAL_DIRECTOR)),
    "client-installation-override": api(None, VIEW_CARDS, args=CARD,
                                        acts=only(roles.TECHNICAL_DIRECTOR),
                                        data={"reason": "refused"}),
    "client-installation-slots": api(VIEW_CARDS, args=CARD),
    "client-questions": api(None, VIEW_CARDS, args=CARD, acts=only(*roles.SALES),
                            data={"role": roles.NOC_HEAD, "question": "refused"}),

    # --- API: billing ------------------------------------------------------------------------
    "tariff-list": api(perm("billing.view_tariff")),
    "tariff-detail": api(perm("billing.view_tariff"), args={"pk": "@tariff.pk"}),
    # A cabinet client reads his own account and ledger (docs/CABINET.md); the world's
    # account is his, so he is let in here.
    "account-detail": api(VIEW_ACCOUNTS | {CABINET}, args=ACCOUNT),
    "account-ledger": api(VIEW_ACCOUNTS | {CABINET}, args=ACCOUNT),
    "payment-list": api(None, perm("billing.add_payment"),
                        data={"account": "@account.number", "amount": "1.00", "channel": "cash",
                              "external_id": "refused"},
                        why="POST only: payments are created here, read one by one"),
    "payment-detail": api(perm("billing.view_payment"), args={"pk": "@payment.pk"}),
    "bank-statement-import": api(None, perm("billing.add_bankstatement")),
    "usage-import": api(None, perm("billing.add_usage")),
    "inbound-email": api(None, only(roles.SUPPORT),
                         why="the mail gateway posts as a support login"),
    "inbound-telegram": public("Telegram's webhook: the secret path part is the lock "
                               "(a wrong one is 404)", get=None,
                               args={"secret": "wrong-secret"}),

    # --- API: helpdesk -----------------------------------------------------------------------
    "ticket-category-list": api(perm("tickets.view_category") | {CABINET}),
    "ticket-list": api(perm("tickets.view_ticket") | {CABINET},
                       perm("tickets.add_ticket") | {CABINET}, data={"subject": ""}),
    "ticket-detail": api(perm("tickets.view_ticket") | {CABINET}, args=TICKET,
                         why="the world's ticket is the cabinet client's own"),
    "ticket-comments": api(None, perm("tickets.add_ticket", "tickets.add_comment") | {CABINET},
                           args=TICKET, data={"body": ""}),
    "ticket-rating": api(None, only(CABINET), args=TICKET,
                         why="only the ticket's client rates it"),
    "outage-list": api(perm("tickets.view_outage"), OUTAGE_ROLES,
                       data={"description": "refused"}),
    "outage-detail": api(perm("tickets.view_outage"), args=OUTAGE),
    "outage-updates": api(None, OUTAGE_ROLES, args=OUTAGE, data={"text": "refused"}),
    "outage-resolve": api(None, OUTAGE_ROLES, args=OUTAGE),
    "outage-notify": api(None, OUTAGE_ROLES, args=OUTAGE, data={"text": "refused"}),

    # --- API: reports ------------------------------------------------------------------------
    "reports-summary": api(REPORTS, query={"from": "2026-10-01", "to": "2026-10-31"}),

    # --- Client cards and buildings (connections) ----------------------------------------------
    "connections:client_list": page(VIEW_CARDS),
    "connections:client_create": page(ADD_CARDS, ADD_CARDS),
    "connections:client_search": page(VIEW_CARDS),
    "connections:client_detail": page(VIEW_CARDS, args=CARD),
    "connections:client_edit": page(perm("connections.change_clientcard"),
                                    perm("connections.change_clientcard"), args=CARD,
                                    data={"name": "Refused"}),
    "connections:contact_add": action(perm("connections.add_clientcontact"), args=CARD,
                                      data={"name": "Refused", "phone": "+79120000000"}),
    "connections:building_list": page(VIEW_BUILDINGS),
    "connections:building_picker": page(VIEW_BUILDINGS),
    "connections:building_detail": page(VIEW_BUILDINGS, args={"pk": "@building.pk"}),
    "connections:client_start": page(ADD_CARDS, ADD_CARDS),
    "connections:client_start_live": page(ADD_CARDS),
    # Card actions: the card's viewers reach them, the workflow refuses a wrong role with
    # the reason (docs/WORKFLOW.md, "403 naming the roles" in the API).
    "connections:card_transition": action(VIEW_CARDS, args={**PENDING, "name": "cancel"},
                                          acts=only(roles.MANAGER), data={"reason": "refused"}),
    "connections:card_survey_decide": action(VIEW_CARDS, args=CARD,
                                             acts=only(roles.TECHNICAL_DIRECTOR)),
    "connections:card_contract_draft": action(VIEW_CARDS, args=PENDING, acts=only(roles.MANAGER)),
    "connections:card_contract_approve": action(
        VIEW_CARDS, args=PENDING, acts=only(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR)),
    "connections:card_contract_dispute": action(VIEW_CARDS, args=PENDING, acts=only(roles.MANAGER),
                                                data={"clause": "refused"}),
    "connections:card_contract_resolve": action(VIEW_CARDS, args=PENDING, acts=only(roles.LAWYER),
                                                data={"resolution": "refused"}),
    "connections:card_installation_override": action(
        VIEW_CARDS, args=CARD, acts=only(roles.TECHNICAL_DIRECTOR), data={"reason": "refused"}),
    "connections:card_installation_confirm": action(VIEW_CARDS, args=CARD,
                                                    acts=only(roles.MANAGER)),
    "connections:card_question_ask": action(VIEW_CARDS, args=CARD, acts=only(*roles.SALES),
                                            data={"role": roles.NOC_HEAD,
                                                  "question": "refused"}),
    "connections:card_question_answer": action(
        VIEW_CARDS, args={**CARD, "question_pk": "@question.pk"},
        acts=only(roles.NOC_HEAD), data={"answer": "refused"},
        why="the question was put to the NOC head"),
    "connections:card_document_upload": action(VIEW_CARDS, args=CARD),
    "connections:card_document_file": page(VIEW_CARDS,
                                           args={**CARD, "document_pk": "@card_document.pk"}),
    # Work queues (connections.queues, docs/WORKFLOW.md "Where each role works").
    "connections:pipeline": page(only(*roles.SALES, roles.DIRECTOR, roles.TECHNICAL_DIRECTOR)),
    "connections:survey_log": page(only(*roles.TECHNICAL, roles.DIRECTOR)),
    "connections:queue_survey_decide": action(only(roles.TECHNICAL_DIRECTOR),
                                              args={"pk": "@survey.pk"},
                                              data={"decision": "decline"}),
    "connections:network_agenda": page(only(*roles.TECHNICAL, roles.DIRECTOR,
                                            roles.HEAD_OF_SALES)),
    "connections:queue_survey_again": action(
        only(roles.MANAGER, roles.NOC_HEAD, roles.TECHNICAL_DIRECTOR), args=CARD),
    "connections:crew_board": page(only(roles.CREW_LEADER, *roles.TECHNICAL, roles.DIRECTOR)),
    "connections:queue_plan_installation": action(only(roles.CREW_LEADER), args=CARD),
    "connections:equipment_list": page(only(roles.CHIEF_ENGINEER, roles.TECHNICAL_DIRECTOR,
                                            roles.CREW_LEADER, roles.DIRECTOR)),
    "connections:queue_equipment_ordered": action(only(roles.CHIEF_ENGINEER),
                                                  args={"pk": "@installation.pk"}),
    "connections:activation_queue": page(only(roles.SUBSCRIBER_DEPT, roles.DIRECTOR)),
    "connections:queue_activate": action(only(roles.SUBSCRIBER_DEPT), args=CARD),
    "connections:contract_queue": page(only(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR,
                                            roles.LAWYER)),
    "connections:queue_contract_approve": action(
        only(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR), args=PENDING_CONTRACT),
    "connections:queue_contract_resolve": action(only(roles.LAWYER), args=PENDING_CONTRACT,
                                                 data={"resolution": "refused"}),
    "connections:question_queue": page(only(roles.CHIEF_ENGINEER, roles.NOC_HEAD,
                                            roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR)),
    "connections:queue_question_answer": action(
        only(roles.CHIEF_ENGINEER, roles.NOC_HEAD, roles.HEAD_OF_SALES,
             roles.COMMERCIAL_DIRECTOR), args={"pk": "@question.pk"},
        data={"answer": "refused"}),
    # Printed documents (M8): whoever sees the card.
    "connections:contract_pdf": page(VIEW_CARDS, args=CARD),
    "connections:expertise_pdf": page(VIEW_CARDS, args=CARD),
    "connections:work_order_pdf": page(VIEW_CARDS, args=CARD),
    "connections:works_act_pdf": page(VIEW_CARDS, args=CARD),
    "connections:survey_route": page(VIEW_CARDS, args={"branch": "@branch.pk",
                                                       "date": "@survey_day"}),

    # --- Billing pages -------------------------------------------------------------------------
    "billing:bank_import": page(perm("billing.view_bankstatement"),
                                perm("billing.add_bankstatement")),
    "billing:bank_queue": page(perm("billing.view_banktransfer")),
    "billing:bank_transfer_assign": action(perm("billing.change_banktransfer"),
                                           args={"pk": "@transfer.pk"},
                                           data={"account": "@account.number"}),
    "billing:bank_transfer_ignore": action(perm("billing.change_banktransfer"),
                                           args={"pk": "@transfer.pk"},
                                           data={"reason": "refused"}),
    "billing:document_pdf": page(perm("billing.view_document"), args={"pk": "@document.pk"}),
    "billing:claim_pdf": page(perm("billing.view_claim"), args={"pk": "@claim.pk"}),
    "billing:account_detail": page(VIEW_ACCOUNTS, args=ACCOUNT),
    "billing:account_tariff_change": page(perm("billing.add_subscription"),
                                          perm("billing.add_subscription"), args=ACCOUNT,
                                          data={"tariff": "@tariff.pk"}),
    "billing:account_tariff_change_cancel": page(perm("billing.add_subscription"),
                                                 perm("billing.add_subscription"),
                                                 args=ACCOUNT),
    "billing:account_pause": page(perm("billing.add_pause"), perm("billing.add_pause"),
                                  args=ACCOUNT),
    "billing:account_resume": page(perm("billing.add_pause"), perm("billing.add_pause"),
                                   args=ACCOUNT),
    "billing:account_promised_payment": page(perm("billing.add_promisedpayment"),
                                             perm("billing.add_promisedpayment"), args=ACCOUNT),
    "billing:account_deferral": page(perm("billing.change_account"),
                                     perm("billing.change_account"), args=ACCOUNT,
                                     data={"until": "2026-12-10", "reason": "refused"}),
    "billing:account_never_block": page(perm("billing.change_account"),
                                        perm("billing.change_account"), args=ACCOUNT,
                                        data={"value": "on", "reason": "refused"}),
    "billing:account_service_add": page(perm("billing.add_accountservice"),
                                        perm("billing.add_accountservice"), args=ACCOUNT,
                                        data={"service": "@service.pk"}),
    "billing:account_service_remove": page(perm("billing.add_accountservice"),
                                           perm("billing.add_accountservice"),
                                           args={**ACCOUNT, "pk": "@account_service.pk"}),
    "billing:terms_edit": action(VIEW_CARDS, args=CARD, acts=only(*roles.SALES),
                                 why="the view refuses other roles with a message on the card"),
    "billing:cashier": page(perm("billing.add_payment"), perm("billing.add_payment"),
                            data={"account": "@account.number", "amount": "1.00"}),
    "billing:cashier_search": page(perm("billing.add_payment")),
    "billing:payment_list": page(perm("billing.view_payment")),
    "billing:payment_cancel": page(perm("billing.change_payment"),
                                   perm("billing.change_payment"), args={"pk": "@payment.pk"},
                                   data={"reason": "refused"}),
    "billing:tariff_list": page(perm("billing.view_tariff")),
    "billing:tariff_create": page(perm("billing.add_tariff"), perm("billing.add_tariff")),
    "billing:tariff_edit": page(perm("billing.change_tariff"), perm("billing.change_tariff"),
                                args={"pk": "@tariff.pk"}),
    "billing:tariff_close": action(perm("billing.change_tariff"), args={"pk": "@tariff.pk"}),
    "billing:service_list": page(perm("billing.view_service")),
    "billing:service_create": page(perm("billing.add_service"), perm("billing.add_service")),
    "billing:service_edit": page(perm("billing.change_service"), perm("billing.change_service"),
                                 args={"pk": "@service.pk"}),
    "billing:promotion_list": page(perm("billing.view_promotion")),
    "billing:promotion_create": page(perm("billing.add_promotion"),
                                     perm("billing.add_promotion")),
    "billing:promotion_edit": page(perm("billing.change_promotion"),
                                   perm("billing.change_promotion"),
                                   args={"pk": "@promotion.pk"}),
    "billing:gateway_callback": public("a payment gateway's notification, checked by its "
                                       "signature", get=None, args={"name": "test"}),
    "billing:gateway_test_pay": public("the test bank's page: the signed session is the lock",
                                       args={"public_id": "@online_payment.public_id"}),

    # --- Helpdesk pages ------------------------------------------------------------------------
    "tickets:queue": page(HELPDESK),
    "tickets:new": page(HELPDESK, HELPDESK, data={"subject": ""}),
    "tickets:callers": page(HELPDESK),
    "tickets:outages": page(HELPDESK),
    # Declaring and updating an outage: the page lets staff post, the service refuses the
    # roles that do not run outages; notifying clients is refused by the view itself.
    "tickets:outage_create": action(HELPDESK, acts=OUTAGE_ROLES,
                                    data={"description": "refused",
                                          "buildings": "@building.pk"}),
    "tickets:outage_update": action(HELPDESK, args=OUTAGE, acts=OUTAGE_ROLES,
                                    data={"text": "refused"}),
    "tickets:outage_resolve": action(HELPDESK, args=OUTAGE, acts=OUTAGE_ROLES),
    "tickets:outage_notify": action(OUTAGE_ROLES, args=OUTAGE, data={"text": "refused"}),
    "tickets:help": page(HELPDESK),
    "tickets:hours": page(only(*roles.SALES, roles.DIRECTOR),
                          why="and the head of a helpdesk category (none in the world)"),
    "tickets:retention": page(only(roles.MANAGER, roles.HEAD_OF_SALES,
                                   roles.COMMERCIAL_DIRECTOR, roles.DIRECTOR)),
    "tickets:retention_call": page(only(roles.MANAGER, roles.HEAD_OF_SALES,
                                        roles.COMMERCIAL_DIRECTOR, roles.DIRECTOR),
                                   only(roles.MANAGER, roles.HEAD_OF_SALES,
                                        roles.COMMERCIAL_DIRECTOR, roles.DIRECTOR),
                                   args={"pk": "@retention_call.pk"},
                                   why="the call is the world's manager's own"),
    "tickets:detail": page(HELPDESK, args=TICKET),
    "tickets:action": action(HELPDESK, args={**TICKET, "action": "take"}),
    "tickets:link_confirm": public("an emailed link: the signed token is the lock",
                                   args={"token": "forged"}),
    "tickets:link_rate": public("an emailed link: the signed token is the lock",
                                args={"token": "forged"}),

    # --- Reports (docs/REPORTS.md: the report roles; the 1C page the director and the
    # accountant; the churn plan the director and the commercial director) -----------------
    "reports:dashboard": page(REPORTS),
    "reports:index": page(REPORTS),
    "reports:connection_speed": page(REPORTS),
    "reports:tariffs": page(REPORTS),
    "reports:penetration": page(REPORTS),
    "reports:churn": page(REPORTS),
    "reports:churn_plan": action(only(roles.DIRECTOR, roles.COMMERCIAL_DIRECTOR),
                                 data={"month": "2026-12", "segment": "person",
                                       "percent": "1"}),
    "reports:employees": page(REPORTS),
    "reports:operations": page(REPORTS),
    "reports:operations_managers": page(REPORTS),
    "reports:operations_overdue": page(REPORTS),
    "reports:operations_tickets": page(REPORTS),
    "reports:operations_hours": page(REPORTS),
    # Exports follow the data, not the report roles: whoever may see a list may export it.
    "reports:export_list": page(STAFF, why="a staff member's own exports"),
    "reports:export_start": action(perm("billing.view_payment"), data={"kind": "payments"}),
    "reports:export_detail": page(only(roles.DIRECTOR), args={"public_id": "@export.public_id"},
                                  hidden=True,
                                  why="only the requester (the director) sees his job; "
                                      "404 to others (reports.exports.job_for)"),
    "reports:export_download": page(only(roles.DIRECTOR),
                                    args={"public_id": "@export.public_id"}, hidden=True,
                                    why="only the requester downloads his file"),
    "reports:accounting": page(only(roles.ACCOUNTANT, roles.DIRECTOR)),
    "reports:accounting_download": page(only(roles.ACCOUNTANT, roles.DIRECTOR),
                                        args={"public_id": "@accounting_job.public_id"}),
    "reports:accounting_rebuild": action(only(roles.ACCOUNTANT, roles.DIRECTOR),
                                         args={"public_id": "@accounting_job.public_id"}),

    # --- The personal cabinet (docs/CABINET.md): only the client; staff and visitors are
    # sent to the cabinet's sign-in. Another client's ids: tests/cabinet/test_isolation.py.
    "cabinet:login": public("the cabinet's sign-in form"),
    "cabinet:logout": public("signing out; its POST would end the shared test sessions",
                             get=None),
    "cabinet:code_request": public("asking for a one-time sign-in code"),
    "cabinet:code_confirm": public("setting a password with a one-time code"),
    "cabinet:send_code": action(VIEW_CARDS, args={"card_id": "@card.pk"},
                                why="staff send the client a code from his card"),
    "cabinet:see_as": action(VIEW_CARDS, args={"card_id": "@card.pk"},
                             data={"reason": "refused"},
                             why="staff open the cabinet read-only, with a logged reason"),
    "cabinet:see_as_end": action(SIGNED_IN, why="ends a see-as view, if any; changes no data"),
    "cabinet:home": cabinet(),
    "cabinet:topup": cabinet(post=only(CABINET), data={"amount": "1"}),
    "cabinet:topup_result": cabinet(args={"public_id": "@online_payment.public_id"}),
    "cabinet:promised_payment": cabinet(None, only(CABINET)),
    "cabinet:tariff": cabinet(),
    "cabinet:tariff_change": cabinet(post=only(CABINET), query={"tariff": "@other_tariff.pk"},
                                     data={"tariff": "@other_tariff.pk"}),
    "cabinet:tariff_cancel": cabinet(None, only(CABINET)),
    "cabinet:pause": cabinet(post=only(CABINET)),
    "cabinet:resume": cabinet(None, only(CABINET)),
    "cabinet:history": cabinet(),
    "cabinet:documents": cabinet(),
    "cabinet:document_pdf": cabinet(args={"pk": "@document.pk"}),
    "cabinet:contract_pdf": cabinet(),
    "cabinet:claim_pdf": cabinet(args={"pk": "@claim.pk"}),
    "cabinet:requests": cabinet(),
    "cabinet:request_new": cabinet(post=only(CABINET), data={"subject": "refused"}),
    "cabinet:request_detail": cabinet(args=TICKET),
    "cabinet:request_reply": cabinet(None, only(CABINET), args=TICKET,
                                     data={"body": "refused"}),
    "cabinet:request_confirm": cabinet(None, only(CABINET), args=TICKET),
    "cabinet:request_rate": cabinet(None, only(CABINET), args=TICKET, data={"score": "5"}),
    "cabinet:referrals": cabinet(),
    "cabinet:join": public("the referral landing page: a code, not an object",
                           args={"code": "@referral_code"}),
    "cabinet:join_thanks": public("the referral landing page's thanks",
                                  args={"code": "@referral_code"}),
}

# Patterns left out of the matrix, and why.
EXCLUDED_NAMESPACES = {
    "admin": "Django's admin checks is_staff itself (test_admin_refuses_every_role)",
}
EXCLUDED_PATTERNS = {
    "media": "uploaded files under /media/ exist only with DEBUG (runserver)",
}
