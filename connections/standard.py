"""The connection standard's own words for each stage (CS-7): what is done, the result, the
document that proves it, who is responsible (and in which department) and who controls it.

Static text only, so the card page, queue pages and PDFs say the same thing. The controller
of every stage is the client's lead manager (the card names him)."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ispcrm import roles

from .models import CardDocument, Stage


@dataclass(frozen=True)
class StageStandard:
    stage: str
    number: int | None  # 1…5 for the standard's stages, None for the side stages
    what: Promise
    result: Promise
    document: Promise
    responsible: Promise  # the position, as the standard names it
    department: Promise
    role: str | None  # the ispcrm.roles group holding that position
    documents: tuple[str, ...] = ()  # CardDocument kinds that belong to this stage

    @property
    def label(self) -> str:
        return Stage(self.stage).label

    @property
    def code(self) -> str:
        return str(self.stage)


D = CardDocument.Kind

STAGES = (
    StageStandard(
        Stage.COMMERCIAL, 1,
        what=_("The lead manager agrees the preliminary terms with the client: the list and "
               "volume of services and the payment order, ongoing payments included. For "
               "technical terms he asks the chief engineer or the NOC head, for commercial "
               "ones the head of sales or the commercial director. He tells the client a "
               "technical survey is needed and arranges access to the premises, the technical "
               "floor and the roof."),
        result=_("The client knows the terms and how the connection will go."),
        document=_("The commercial terms on the card and the survey request in the technical "
                   "department work log."),
        responsible=_("Lead manager"), department=_("Sales department"), role=roles.MANAGER),
    StageStandard(
        Stage.EXPERTISE, 2,
        what=_("The survey request waits in the technical department work log. Surveys are "
               "made on the branch's survey days (Tuesday and Thursday); an urgent one needs "
               "the technical director's approval. The NOC head enters the result and the "
               "estimate of connection costs with the equipment list, in more detail for a "
               "non-standard installation; the estimate may change the commercial terms. No "
               "technical possibility: network development goes on the agenda of the "
               "technical department meeting."),
        result=_("The request filled in by the technical department: whether the client can "
                 "be connected and what it costs."),
        document=_("Expertise act and estimate."),
        responsible=_("NOC head"), department=_("Technical department"), role=roles.NOC_HEAD,
        documents=(D.EXPERTISE_ACT, D.ESTIMATE)),
    StageStandard(
        Stage.CONTRACT, 3,
        what=_("The lead manager drafts the contract and tells the client his payment duties: "
               "the connection fee, the monthly fee, deadlines and disconnection conditions. "
               "Non-standard terms are approved by the head of sales and the commercial "
               "director; a clause the client disputes goes to the company lawyer. The "
               "contract is signed only with a positive expertise act."),
        result=_("The contract, drawn up and signed by both sides."),
        document=_("Contract."),
        responsible=_("Lead manager"), department=_("Sales department"), role=roles.MANAGER,
        documents=(D.CONTRACT,)),
    StageStandard(
        Stage.INSTALLATION, 4,
        what=_("Only after the connection fee is paid and the contract signed (otherwise with "
               "the technical director's approval). The lead manager gets the building "
               "owner's written permission and, for equipment outside the client's premises, "
               "a lease. The crew leader plans the day and time by the crews' load and the "
               "priority and tells the chief engineer which special equipment to order; the "
               "lead manager agrees the date with the client. A temporary modem connection "
               "is possible."),
        result=_("The client is connected and set up; the act of completed works is signed "
                 "and passed to the subscriber department."),
        document=_("Act of completed works with the client's IP address; the work order; the "
                   "owner's permission and the lease where needed."),
        responsible=_("NOC head"), department=_("Technical department"), role=roles.NOC_HEAD,
        documents=(D.OWNER_PERMISSION, D.LEASE, D.WORK_ORDER, D.WORKS_ACT)),
    StageStandard(
        Stage.ACTIVATION, 5,
        what=_("The subscriber department activates the client and takes him into ongoing "
               "service (statistics server, monthly documents), only with a signed contract, "
               "the connection fee paid and the act of completed works with the client's IP "
               "address."),
        result=_("The connected client is in ongoing service of the subscriber department."),
        document=_("The account in service: monthly billing started."),
        responsible=_("Head of the subscriber department"),
        department=_("Subscriber department"), role=roles.SUBSCRIBER_DEPT),
)

SIDE_STAGES = (
    StageStandard(
        Stage.NETWORK_DEVELOPMENT, None,
        what=_("There is no technical possibility to connect the client: developing the "
               "network here is on the agenda of the technical department meeting. When the "
               "network grows, the card is reopened for a new survey."),
        result=_("The technical department meeting's decision on developing the network."),
        document=_("Expertise act with a negative result."),
        responsible=_("Technical director"), department=_("Technical department"),
        role=roles.TECHNICAL_DIRECTOR),
    StageStandard(
        Stage.CANCELLED, None,
        what=_("The client gave up before the service started; the reason is recorded."),
        result=_("The card is closed; open surveys and crew slots are released."),
        document=_("The reason in the stage log."),
        responsible=_("Lead manager"), department=_("Sales department"), role=roles.MANAGER),
    StageStandard(
        Stage.TERMINATED, None,
        what=_("The client left; the reason and whether the churn was controllable are "
               "recorded (R1)."),
        result=_("The account is closed."),
        document=_("The reason in the stage log."),
        responsible=_("Lead manager"), department=_("Sales department"), role=roles.MANAGER),
)

# Positions of the ispcrm.roles groups, for "who does this" on pages.
ROLE_LABELS = {
    roles.MANAGER: _("Lead manager"),
    roles.HEAD_OF_SALES: _("Head of sales"),
    roles.COMMERCIAL_DIRECTOR: _("Commercial director"),
    roles.NOC_HEAD: _("NOC head"),
    roles.TECHNICAL_DIRECTOR: _("Technical director"),
    roles.CHIEF_ENGINEER: _("Chief engineer"),
    roles.CREW_LEADER: _("Crew leader"),
    roles.SUBSCRIBER_DEPT: _("Subscriber department"),
    roles.ACCOUNTANT: _("Accountant"),
    roles.SUPPORT: _("Support"),
    roles.DIRECTOR: _("Director"),
    roles.LAWYER: _("Lawyer"),
}

BY_STAGE = {item.stage: item for item in (*STAGES, *SIDE_STAGES)}
# The path of a card that goes all the way; "active" closes it.
PATH = (*(item.stage for item in STAGES), Stage.ACTIVE)
_DOCUMENT_STAGE = {kind: item.stage for item in STAGES for kind in item.documents}


def of(stage: str) -> StageStandard | None:
    return BY_STAGE.get(stage)


def role_labels(names) -> str:
    return ", ".join(str(ROLE_LABELS.get(name, name)) for name in names)


def document_stage(kind: str) -> str | None:
    """The stage whose result a document proves (None for "other")."""
    return _DOCUMENT_STAGE.get(kind)
