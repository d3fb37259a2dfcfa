"""``seed_demo``'s connection standard: what stands behind each demo card's stage.

Every card gets the journey its stage implies, walked forward in its branch's working time
from the day it was opened: the survey request placed on the next survey day with room
(some urgent, approved by the technical director), the NOC head's result with an estimate,
the contract numbered in the branch's series, the connection fee paid, the installation on a
free crew slot, completion with the client's IP, activation, and for some the end of the
contract. Each transition is a StageLog row with its actor, time and payload, as
``services.workflow.fire`` writes it; the card's ``stage_changed_at`` is the last row's time.

The open funnel is recent: a card waiting at a stage got there a few working days ago (a
few are late on purpose: overdue surveys, urgent ones awaiting approval, a disputed
contract). Everything is bulk-inserted per model; the only per-card work is in memory.
Billing's seed runs afterwards and reads the timeline (contract signed, fee paid,
activated, terminated) to write the ledger, and fills in the contracts' money terms."""

import datetime as dt
import functools
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings as django_settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from connections.models import (
    SLOTS,
    CardDocument,
    ClientCard,
    ColleagueQuestion,
    ConnectionType,
    Contract,
    ContractCounter,
    Crew,
    EstimateLine,
    Installation,
    Stage,
    StageLog,
    Survey,
    WorkflowSettings,
)
from ispcrm import roles
from ispcrm.workcalendar import WorkCalendar

BATCH = 5000
D = Decimal
MINUTE = dt.timedelta(minutes=1)

# Branch settings by city key; a branch the seed does not know keeps the model defaults.
SERIES = {"msk": "MSK", "ekb": "EKB"}
CREWS = {
    "msk": (("Бригада 1", "Петров А., Сидоров В.", "+79160001101"),
            ("Бригада 2", "Кузьмин Д., Лосев И.", "+79160001102"),
            ("Бригада 3", "Гаврилов С., Рябов П.", "+79160001103")),
    "ekb": (("Бригада 1", "Шадрин О., Зуев К.", "+79120002201"),
            ("Бригада 2", "Носков А., Белых Р.", "+79120002202")),
}
SLOTS_PER_CREW_DAY = len(SLOTS)

# How deep into the standard each stage's journey goes.
REQUEST, RECORD, SIGN, SCHEDULE, COMPLETE, ACTIVATE, TERMINATE = range(1, 8)
DEPTH = {Stage.COMMERCIAL: 0, Stage.EXPERTISE: REQUEST, Stage.NETWORK_DEVELOPMENT: RECORD,
         Stage.CONTRACT: RECORD, Stage.INSTALLATION: SIGN, Stage.ACTIVATION: COMPLETE,
         Stage.ACTIVE: ACTIVATE, Stage.TERMINATED: TERMINATE}
# The recent funnel: rough calendar days from the survey request to arriving at the stage,
# and over how many days before now the arrivals spread; the journey starts late enough
# to end in those last days.
RECENT_SPAN_DAYS = {Stage.CONTRACT: (5, 12), Stage.INSTALLATION: (8, 10),
                    Stage.ACTIVATION: (11, 14)}

ESTIMATES = {  # item, kind, unit, (min qty, max qty), unit price
    ConnectionType.LAN: (
        ("Коммутатор доступа D-Link DES-1210", "equipment", "шт.", (1, 1), D("3500")),
        ("Кабель UTP cat.5e", "equipment", "м", (15, 80), D("25")),
        ("Коннектор RJ-45", "equipment", "шт.", (2, 4), D("15")),
        ("Прокладка кабеля по стояку", "works", "м", (15, 80), D("40")),
        ("Монтаж и настройка оборудования", "works", "шт.", (1, 1), D("1500")),
    ),
    ConnectionType.RADIO: (
        ("Антенна Ubiquiti LiteBeam 5AC", "equipment", "шт.", (1, 1), D("9500")),
        ("Мачта 3 м с кронштейном", "equipment", "шт.", (1, 1), D("4500")),
        ("Кабель FTP outdoor", "equipment", "м", (15, 40), D("45")),
        ("Грозозащита", "equipment", "шт.", (1, 1), D("1800")),
        ("Монтаж антенны на кровле", "works", "шт.", (1, 1), D("6000")),
        ("Юстировка радиоканала", "works", "шт.", (1, 1), D("2500")),
    ),
    ConnectionType.LEASED_LINE: (
        ("Медиаконвертер", "equipment", "шт.", (2, 2), D("3200")),
        ("Оптический кабель, 4 волокна", "equipment", "м", (50, 300), D("60")),
        ("Оптический кросс", "equipment", "шт.", (1, 1), D("5500")),
        ("Сварка волокон", "works", "шт.", (4, 8), D("600")),
        ("Прокладка ВОЛС", "works", "м", (50, 300), D("120")),
        ("Согласование трассы с управляющей компанией", "works", "шт.", (1, 1), D("5000")),
    ),
    ConnectionType.SATELLITE: (
        ("Спутниковый комплект: антенна 1,2 м, конвертер, модем", "equipment", "шт.", (1, 1),
         D("45000")),
        ("Кронштейн для антенны", "equipment", "шт.", (1, 1), D("3500")),
        ("Кабель RG-6", "equipment", "м", (10, 30), D("35")),
        ("Монтаж и юстировка антенны", "works", "шт.", (1, 1), D("8000")),
    ),
}
SURVEY_NOTES = ("Кабель по стояку, доступ к щитку есть.", "Свободный порт на коммутаторе в "
                "подъезде.", "Трасса по техэтажу, нужен ключ от УК.", "Кабель через "
                "слаботочный лоток в коридоре.", "Монтаж без замечаний.")
NEGATIVE_NOTES = ("Нет свободных портов, узел перегружен: нужна модернизация.",
                  "Дом не подключён: нужна трасса до здания, согласование с УК.",
                  "УК не даёт доступ на крышу и в подвал.")
ACCESS_NOTES = ("Ключ от техэтажа у консьержа.", "Звонить председателю ТСЖ за час.",
                "Код домофона в карточке, щиток на 3 этаже.", "Пропуск в бизнес-центр "
                "заказывает офис-менеджер.")
SPECIAL_EQUIPMENT = {ConnectionType.RADIO: "Мачта 3 м, грозозащита",
                     ConnectionType.SATELLITE: "Спутниковый комплект 1,2 м",
                     ConnectionType.LEASED_LINE: "Оптический кросс, медиаконвертеры"}
OVERRIDES = ("Бюджетная организация: оплата через казначейство после подключения.",
             "Гарантийное письмо директора об оплате до конца месяца.")
DISPUTES = ("П. 5.2: клиент не согласен с приостановкой услуги через 5 рабочих дней долга.",)
TERMINATIONS = (  # reason, controllable (R1)
    ("Переезд за пределы зоны покрытия", False), ("Закрытие бизнеса", False),
    ("Продажа квартиры", False), ("Ушёл к конкуренту: дешевле", True),
    ("Недоволен скоростью вечером", True), ("Частые аварии в доме", True),
    ("Долго решали заявку в поддержке", True),
)
QUESTIONS = (
    (roles.CHIEF_ENGINEER, "Потянет ли узел в этом доме ещё 20 портов для офиса?",
     "Да, в узле свободен коммутатор на 24 порта."),
    (roles.NOC_HEAD, "Можно ли провести оптику до 3 этажа без согласования с УК?",
     "Нет, нужна заявка в УК, это 5–7 дней."),
    (roles.HEAD_OF_SALES, "Клиент просит скидку 10% при оплате за год — согласуем?",
     "Согласую при договоре на 12 месяцев."),
    (roles.COMMERCIAL_DIRECTOR, "Клиент хочет рассрочку платы за подключение на 3 месяца.",
     ""),
    (roles.NOC_HEAD, "Нужен ли выезд на крышу для радиоканала или хватит балкона?", ""),
)


@functools.cache
def _translated(language: str, msgid: str) -> str:
    return gettext(msgid)


def _(msgid: str) -> str:
    """gettext, looked up once per text: the seed formats the same few texts 100,000s of
    times."""
    return _translated(translation.get_language(), msgid)


# --- Per-branch working time and capacity ---------------------------------------------


class _Branch:
    """A branch's calendar, survey days with their places and crews with their slots."""

    def __init__(self, branch, settings: WorkflowSettings, crews: list[Crew],
                 start: dt.date, end: dt.date):
        self.branch, self.settings, self.crews = branch, settings, crews
        self.tz = branch.tz
        self.calendar = WorkCalendar(branch, start=start, end=end)
        self.surveys: Counter[dt.date] = Counter()
        self.slots: set[tuple[int, dt.date, dt.time]] = set()

    def day(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    def working(self, day: dt.date, n: int = 0) -> dt.date:
        """``day`` or the next working day (n=0), else the n-th working day after it."""
        return self.calendar.add_working_days(day, n)

    def moment(self, day: dt.date, rng: random.Random, after: dt.datetime | None = None,
               latest: float = 0.6) -> dt.datetime:
        """A moment in the working hours of ``day`` (or the next working day), after
        ``after``; early in the day, so a follow-up the same day still fits."""
        while True:
            hours = self.calendar.working_hours_on(day)
            if hours is not None:
                start = hours[0] if after is None else max(hours[0], after + 5 * MINUTE)
                if hours[1] - start > 20 * MINUTE:
                    span = (hours[1] - start).total_seconds()
                    return start + dt.timedelta(seconds=rng.uniform(0.02, latest) * span)
            day = self.calendar.next_working_day(day)

    def survey_day(self, after: dt.date, *, commit: bool) -> dt.date:
        """The next survey day after ``after`` with a free place (services.surveys.place)."""
        weekdays, day = self.settings.weekdays, after
        for _n in range(400):
            day += dt.timedelta(days=1)
            if day.weekday() in weekdays and self.calendar.is_working_day(day) \
                    and self.surveys[day] < self.settings.survey_capacity:
                if commit:
                    self.surveys[day] += 1
                return day
        raise RuntimeError("no survey day")  # pragma: no cover - capacity is never zero

    def urgent_day(self, after: dt.date) -> dt.date:
        """An approved urgent survey: the next working day that still has a place."""
        day = self.working(after, 1)
        while self.surveys[day] >= self.settings.survey_capacity:
            day = self.working(day, 1)
        return day

    def free_slot(self, earliest: dt.date, rng: random.Random, *, commit: bool):
        """The first free (day, time, crew) from ``earliest`` on, crews in random order."""
        day = self.working(earliest)
        crews = self.crews[:]
        rng.shuffle(crews)
        while True:
            for slot in SLOTS:
                for crew in crews:
                    if (crew.pk, day, slot) not in self.slots:
                        if commit:
                            self.slots.add((crew.pk, day, slot))
                        return day, slot, crew
            day = self.working(day, 1)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def connection_days(self, paid: dt.datetime, activated: dt.datetime) -> Decimal:
        """CS-6 as services.workflow.connection_days computes it, on this calendar."""
        worked = self.calendar.working_time_between(paid, max(paid, activated))
        day = dt.datetime.combine(dt.date.today(), self.calendar.work_end) - \
            dt.datetime.combine(dt.date.today(), self.calendar.work_start)
        return (Decimal(worked.total_seconds()) / Decimal(day.total_seconds())).quantize(
            Decimal("0.01"))


# --- One card's journey --------------------------------------------------------------------


@dataclass
class _Step:
    name: str
    source: str
    target: str
    at: dt.datetime
    actor: int | None
    payload: dict
    summary: str
    documents: list = field(default_factory=list)  # (kind, title, number with {names})


@dataclass
class _Journey:
    card: dict
    steps: list[_Step] = field(default_factory=list)
    survey: Survey | None = None
    estimate: list[dict] = field(default_factory=list)  # EstimateLine rows
    contract: Contract | None = None
    installation: Installation | None = None
    questions: list[ColleagueQuestion] = field(default_factory=list)
    updates: dict = field(default_factory=dict)  # the card's own fields

    def step(self, name, source, target, at, actor, payload, summary, documents=()):
        self.steps.append(_Step(name, source, target, at, actor, payload, summary,
                                list(documents)))

    @property
    def last(self) -> dt.datetime:
        return self.steps[-1].at if self.steps else self.card["created_at"]

    @property
    def end(self) -> dt.datetime:
        """The latest moment of the journey, the fee payment included."""
        return max(self.last, self.updates.get("fee_paid_at") or self.last)


class _Walker:
    """Walks cards through the standard in their branch's time; ``commit`` takes the
    survey places and crew slots used (a trial walk only looks)."""

    def __init__(self, branches: dict[int, _Branch], users: dict[str, int], now: dt.datetime):
        self.branches, self.users, self.now = branches, users, now

    # The pieces -----------------------------------------------------------------------

    def request(self, j: _Journey, b: _Branch, t: dt.datetime, rng, *, urgent=False,
                commit=True, survey_day: dt.date | None = None) -> dt.date | None:
        """request_expertise at ``t``; the survey day (None while urgent awaits approval)."""
        card = j.card
        day = b.day(t)
        if survey_day is None and not urgent:
            survey_day = b.survey_day(day, commit=commit)
        elif survey_day and commit:
            b.surveys[survey_day] += 1  # an approved urgent survey takes a place too
        access = {"access_premises": rng.random() < 0.8,
                  "access_technical_floor": rng.random() < 0.4,
                  "access_roof": card["connection_type"] in (ConnectionType.RADIO,
                                                             ConnectionType.SATELLITE)}
        notes = rng.choice(ACCESS_NOTES) if rng.random() < 0.4 else ""
        j.survey = Survey(
            card_id=card["pk"], branch_id=card["branch_id"], urgent=urgent,
            requested_by_id=card["lead_manager_id"], requested_at=t, date=survey_day,
            due_date=b.working(day, b.settings.survey_term_days),
            status=Survey.Status.SCHEDULED if survey_day else Survey.Status.AWAITING_APPROVAL,
            access_notes=notes, **access)
        if urgent and survey_day:
            j.survey.approved_by_id = self.users[roles.TECHNICAL_DIRECTOR]
            j.survey.approved_at = b.moment(day, rng, after=t)
        summary = (_("Survey booked for %(day)s") % {"day": survey_day.strftime("%d.%m.%Y")}
                   if survey_day and not urgent else
                   _("Urgent survey requested: waits for the technical director's approval"))
        j.step("request_expertise", Stage.COMMERCIAL, Stage.EXPERTISE, t,
               card["lead_manager_id"], {"urgent": urgent, "survey": None,
                                         "date": survey_day.isoformat() if survey_day and
                                         not urgent else None, **access,
                                         "access_notes": notes},
               summary)
        return survey_day

    def record(self, j: _Journey, b: _Branch, rng, *, possible: bool, compress=False):
        survey, card = j.survey, j.card
        day = survey.date
        if not compress and rng.random() < 0.2:
            day = b.working(day, 1)  # entered the next morning
        t = b.moment(day, rng, after=b.at(survey.date, dt.time(13, 0)) if day == survey.date
                     else None, latest=0.5)
        survey.status, survey.possible = Survey.Status.DONE, possible
        survey.recorded_by_id, survey.recorded_at = self.users[roles.NOC_HEAD], t
        if possible:
            survey.notes = rng.choice(SURVEY_NOTES)
            survey.nonstandard = card["connection_type"] in (
                ConnectionType.LEASED_LINE, ConnectionType.SATELLITE) and rng.random() < 0.5
            j.estimate = _estimate(card["connection_type"], survey.nonstandard, rng)
            total = sum((line["quantity"] * line["unit_price"] for line in j.estimate),
                        D("0.00"))
            summary = _("Connection possible, estimate %(total)s ₽") % {"total": total}
        else:
            survey.notes = rng.choice(NEGATIVE_NOTES)
            total = D("0.00")
            summary = _("No technical possibility: on the network development agenda")
        documents = [(CardDocument.Kind.EXPERTISE_ACT, _("Expertise act"), "Э-{survey}")]
        if j.estimate:
            documents.append((CardDocument.Kind.ESTIMATE, _("Estimate"), "С-{survey}"))
        j.step("record_expertise", Stage.EXPERTISE,
               Stage.CONTRACT if possible else Stage.NETWORK_DEVELOPMENT, t,
               self.users[roles.NOC_HEAD], {"possible": possible, "survey": None,
                                            "estimate_total": str(total),
                                            "notes": survey.notes}, summary, documents)

    def draft(self, j: _Journey, b: _Branch, rng, *, compress=False) -> dt.datetime:
        t = b.moment(b.working(b.day(j.last), 0 if compress else rng.randint(0, 2)), rng,
                     after=j.last)
        j.contract = Contract(card_id=j.card["pk"], branch_id=j.card["branch_id"],
                              drafted_by_id=j.card["lead_manager_id"], drafted_at=t,
                              connection_fee=D("0.00"))
        return t

    def sign(self, j: _Journey, b: _Branch, rng, *, compress=False):
        drafted = self.draft(j, b, rng, compress=compress)
        contract, card = j.contract, j.card
        if card["kind"] == ClientCard.Kind.COMPANY and rng.random() < 0.1:
            contract.nonstandard = True  # approved by both heads before signing
            contract.sales_approved_by_id = self.users[roles.HEAD_OF_SALES]
            contract.sales_approved_at = b.moment(b.day(drafted), rng, after=drafted)
            contract.director_approved_by_id = self.users[roles.COMMERCIAL_DIRECTOR]
            contract.director_approved_at = b.moment(b.day(contract.sales_approved_at), rng,
                                                     after=contract.sales_approved_at)
            drafted = contract.director_approved_at
        t = b.moment(b.working(b.day(drafted), 0 if compress else rng.randint(0, 3)), rng,
                     after=drafted)
        contract.signed_by_id, contract.signed_at = card["lead_manager_id"], t
        term = b.settings.install_term(card["connection_type"])
        j.installation = Installation(card_id=card["pk"], created_at=t,
                                      due_date=b.working(b.day(t), term))
        j.step("sign_contract", Stage.CONTRACT, Stage.INSTALLATION, t, card["lead_manager_id"],
               {"contract": None, "nonstandard": contract.nonstandard},
               _("Contract %(number)s signed") % {"number": "{contract}"},
               [(CardDocument.Kind.CONTRACT, _("Contract"), "{contract}")])

    def pay(self, j: _Journey, b: _Branch, rng, *, compress=False) -> dt.datetime:
        day = b.working(b.day(j.last), 0 if compress or rng.random() < 0.5 else 1)
        paid = b.moment(day, rng, after=j.last)
        j.updates["fee_paid_at"] = paid
        return paid

    def schedule(self, j: _Journey, b: _Branch, rng, after: dt.datetime, *, earliest=None,
                 commit=True, compress=False):
        card, inst = j.card, j.installation
        planned = b.moment(b.working(b.day(after), 0 if compress or rng.random() < 0.6 else 1),
                           rng, after=after)
        plan_day = b.day(planned)  # a late payment is planned the next morning
        day, slot, crew = b.free_slot(max(earliest or plan_day, b.working(plan_day, 1)), rng,
                                      commit=commit)
        inst.date, inst.slot, inst.crew = day, slot, crew
        inst.planned_by_id, inst.planned_at = self.users[roles.CREW_LEADER], planned
        inst.priority = (Installation.Priority.HIGH if card["kind"] == ClientCard.Kind.COMPANY
                         else Installation.Priority.NORMAL)
        inst.special_equipment = (SPECIAL_EQUIPMENT.get(card["connection_type"], "")
                                  if rng.random() < 0.5 else "")
        if inst.special_equipment and (day <= b.day(self.now) or rng.random() < 0.5):
            inst.equipment_ordered_at = b.moment(plan_day, rng, after=planned)
        inst.temporary_modem = rng.random() < 0.05
        override = bool(inst.override_by_id and not j.updates.get("fee_paid_at"))
        j.step("schedule_installation", Stage.INSTALLATION, Stage.INSTALLATION, planned,
               self.users[roles.CREW_LEADER],
               {"date": day.isoformat(), "time": slot.strftime("%H:%M"), "crew": crew.pk,
                "override": override},
               _("Installation planned for %(day)s %(time)s, %(crew)s") % {
                   "day": day.strftime("%d.%m.%Y"), "time": slot.strftime("%H:%M"),
                   "crew": crew},
               [(CardDocument.Kind.WORK_ORDER, _("Work order"), "Н-{installation}")])
        if rng.random() < 0.8:
            inst.confirmed_by_id = card["lead_manager_id"]
            inst.confirmed_at = b.moment(plan_day, rng, after=planned)

    def complete(self, j: _Journey, b: _Branch, rng):
        inst, pk = j.installation, j.card["pk"]
        done = b.at(inst.date, inst.slot) + dt.timedelta(minutes=rng.randint(90, 170))
        inst.ip_address = f"10.{(pk // 62500) % 250 + 1}.{(pk // 250) % 250}.{pk % 250 + 2}"
        inst.completed_by_id, inst.completed_at = self.users[roles.CREW_LEADER], done
        if inst.special_equipment and not inst.equipment_ordered_at:
            inst.equipment_ordered_at = inst.planned_at + dt.timedelta(hours=1)
        j.step("complete_installation", Stage.INSTALLATION, Stage.ACTIVATION, done,
               self.users[roles.CREW_LEADER], {"ip_address": inst.ip_address},
               _("Installation completed, IP %(ip)s") % {"ip": inst.ip_address},
               [(CardDocument.Kind.WORKS_ACT, _("Act of completed works"), "А-{installation}")])

    def activate(self, j: _Journey, b: _Branch, rng, *, compress=False):
        day = b.working(b.day(j.last), 0 if compress or rng.random() < 0.6 else 1)
        t = b.moment(day, rng, after=j.last, latest=0.9)
        j.updates["activated_at"] = t
        j.updates["connection_days"] = b.connection_days(j.updates["fee_paid_at"], t)
        j.step("activate", Stage.ACTIVATION, Stage.ACTIVE, t, self.users[roles.SUBSCRIBER_DEPT],
               {}, _("Activated: billing started, the client is in support"))

    # Whole journeys -----------------------------------------------------------------------

    def walk(self, card: dict, b: _Branch, rng: random.Random, start: dt.datetime, depth: int,
             *, possible=True, commit=True, compress=False) -> _Journey:
        """The journey to ``depth`` from a survey request at ``start``."""
        j = _Journey(card)
        urgent = compress or rng.random() < 0.05
        survey_day = b.urgent_day(b.day(start)) if urgent else None
        self.request(j, b, start, rng, urgent=urgent, commit=commit, survey_day=survey_day)
        if depth == REQUEST:
            return j
        self.record(j, b, rng, possible=possible, compress=compress)
        if depth == RECORD:
            return j
        self.sign(j, b, rng, compress=compress)
        paid = self.pay(j, b, rng, compress=compress)
        if depth == SIGN:
            return j
        self.schedule(j, b, rng, paid, commit=commit, compress=compress)
        self.complete(j, b, rng)
        if depth == COMPLETE:
            return j
        self.activate(j, b, rng, compress=compress)
        return j

    def fits(self, card, b, rng_seed: str, start, depth, *, possible=True,
             compress=False) -> _Journey | None:
        """Walk on trial; keep the walk, and take its survey place and crew slot, if it
        ends before now."""
        j = self.walk(card, b, random.Random(rng_seed), start, depth, possible=possible,
                      commit=False, compress=compress)
        if j.end >= self.now:
            return None
        if j.survey and j.survey.date:
            b.surveys[j.survey.date] += 1
        if j.installation and j.installation.crew:
            b.slots.add((j.installation.crew.pk, j.installation.date, j.installation.slot))
        return j

    def journey(self, card: dict, rng: random.Random) -> _Journey:
        b = self.branches[card["branch_id"]]
        stage = card["stage"]
        opened = card["created_at"]
        if stage == Stage.COMMERCIAL:
            return _Journey(card)
        if stage == Stage.EXPERTISE:
            return self.waiting_for_survey(card, b, rng, rng.random())
        if stage == Stage.CANCELLED:
            return self.cancelled(card, b, rng)
        depth, possible = DEPTH[stage], stage != Stage.NETWORK_DEVELOPMENT
        seed = f"{rng.random()}"
        starts = []
        if stage in RECENT_SPAN_DAYS:  # the recent funnel: arrived a few days ago
            span, spread = RECENT_SPAN_DAYS[stage]
            latest = self.now - dt.timedelta(days=span + rng.uniform(0, spread))
            if latest > opened:
                starts.append(b.moment(b.day(latest), rng, after=latest))
        starts.append(b.moment(b.working(b.day(opened), rng.randint(0, 2)), rng, after=opened))
        starts.append(b.moment(b.day(opened), rng, after=opened))
        j = None
        for start in starts:
            j = self.fits(card, b, seed, start, depth, possible=possible)
            if j:
                break
        if j is None:  # opened too recently for the usual pace: everything urgent, no waits
            j = self.fits(card, b, seed, starts[-1], depth, compress=True,
                          possible=possible) or self.squeezed(card, b, seed, starts[-1],
                                                              depth, possible)
        if stage == Stage.INSTALLATION:
            self.installation_stage(j, b, rng)
        if stage == Stage.TERMINATED:
            self.terminate(j, b, rng)
        return j

    def squeezed(self, card, b, seed, start, depth, possible=True) -> _Journey:
        """The last resort (a card opened just before a long holiday): the quickest walk,
        its moments pressed proportionally into the time between opening and now."""
        j = self.walk(card, b, random.Random(seed), start, depth, compress=True,
                      possible=possible)  # takes its place and slot as it goes
        first, last = card["created_at"], j.end

        def press(moment):
            return first + (moment - first) * ((self.now - MINUTE - first) / (last - first))

        for step in j.steps:
            step.at = press(step.at)
        for key in ("fee_paid_at", "activated_at"):
            if key in j.updates:
                j.updates[key] = press(j.updates[key])
        if j.survey and j.survey.recorded_at:
            j.survey.recorded_at = press(j.survey.recorded_at)
        if j.contract:
            j.contract.drafted_at = j.contract.signed_at = press(j.contract.signed_at)
        if j.installation and j.installation.completed_at:
            inst = j.installation
            b.slots.discard((inst.crew.pk, inst.date, inst.slot))
            inst.planned_at, inst.completed_at = press(inst.planned_at), press(inst.completed_at)
            inst.confirmed_at = inst.confirmed_by_id = None
            # The visit moves to the day it now happened on, a free crew slot of it.
            inst.date = b.day(inst.completed_at)
            free = [(slot, crew) for slot in SLOTS for crew in b.crews
                    if (crew.pk, inst.date, slot) not in b.slots]
            inst.slot, inst.crew = free[0] if free else (None, None)
            if inst.crew:
                b.slots.add((inst.crew.pk, inst.date, inst.slot))
            plan = next(step for step in j.steps if step.name == "schedule_installation")
            plan.payload.update(date=inst.date.isoformat(), crew=inst.crew and inst.crew.pk,
                                time=inst.slot and inst.slot.strftime("%H:%M"))
        return j

    def waiting_for_survey(self, card: dict, b: _Branch, rng: random.Random,
                           kind: float, days_back: int | None = None) -> _Journey:
        """Expertise: most surveys booked for the coming survey days (requested
        ``days_back`` working days ago, 0-3); ``kind`` < 0.2: past the guaranteed term and
        not surveyed (when the card is old enough); > 0.85: urgent, waiting for the
        technical director."""
        opened, today = card["created_at"], b.day(self.now)
        j = _Journey(card)
        late = _working_days_back(b, today, b.settings.survey_term_days + rng.randint(1, 5))
        if kind < 0.2 and b.day(opened) < late:
            self.request(j, b, b.moment(late, rng), rng)
            return j
        back = rng.randint(0, 3) if days_back is None else days_back
        day = max(_working_days_back(b, today, back), b.working(b.day(opened)))
        start = b.moment(day, rng, after=opened if b.day(opened) == day else None)
        while start >= self.now and day > b.day(opened):  # today's hours have not begun
            day = _working_days_back(b, day - dt.timedelta(days=1), 0)
            start = b.moment(day, rng, after=opened if b.day(opened) == day else None)
        if start >= self.now or start <= opened:
            start = opened + (self.now - opened) * rng.uniform(0.3, 0.9)
        self.request(j, b, start, rng, urgent=kind > 0.85)
        return j

    def installation_stage(self, j: _Journey, b: _Branch, rng: random.Random):
        """Signed: most paid and planned on the crews' next free slots; some wait for the
        payment (a few of them allowed by the technical director), some for the planner."""
        kind = rng.random()
        # Planned over the coming week, as the crew leader spreads them by load.
        first_day = b.working(b.day(self.now), 1 + rng.randint(0, 4))
        if kind < 0.25:
            del j.updates["fee_paid_at"]
            if kind < 0.08:
                j.installation.override_by_id = self.users[roles.TECHNICAL_DIRECTOR]
                j.installation.override_reason = rng.choice(OVERRIDES)
                self.plan_ahead(j, b, rng, j.last, first_day)
        elif kind < 0.4:
            pass  # paid, the crew leader has not planned it yet
        else:
            self.plan_ahead(j, b, rng, j.updates["fee_paid_at"], first_day)

    def plan_ahead(self, j, b, rng, after, earliest):
        if after >= self.now - dt.timedelta(minutes=30):
            after = self.now - dt.timedelta(minutes=30)
        self.schedule(j, b, rng, after, earliest=earliest)
        if j.steps[-1].at >= self.now:  # planned today: a moment ago
            j.steps[-1].at = max(after, self.now - dt.timedelta(minutes=rng.randint(5, 25)))
            j.installation.planned_at = j.steps[-1].at
            if j.installation.confirmed_at:
                j.installation.confirmed_at = None
                j.installation.confirmed_by_id = None
            if j.installation.equipment_ordered_at and \
                    j.installation.equipment_ordered_at >= self.now:
                j.installation.equipment_ordered_at = None

    def terminate(self, j: _Journey, b: _Branch, rng: random.Random):
        activated = j.updates["activated_at"]
        room = (self.now - activated).days
        days = rng.randint(30, max(31, room - 1)) if room > 60 else max(1, room // 2)
        t = b.moment(b.day(activated + dt.timedelta(days=days)), rng)
        if t >= self.now:
            t = activated + (self.now - activated) / 2
        reason, controllable = rng.choice(TERMINATIONS)
        j.updates.update(terminated_at=t, termination_reason=reason,
                         termination_controllable=controllable)
        kind = _("controllable") if controllable else _("uncontrollable")
        actor = rng.choice((j.card["lead_manager_id"], self.users[roles.SUBSCRIBER_DEPT]))
        j.step("terminate", Stage.ACTIVE, Stage.TERMINATED, t, actor,
               {"reason": reason, "controllable": controllable},
               _("Contract terminated (%(kind)s): %(reason)s") % {"kind": kind,
                                                                  "reason": reason})

    def cancelled(self, card: dict, b: _Branch, rng: random.Random) -> _Journey:
        """Cancelled before service: at the commercial stage, waiting for the survey, at the
        contract, or after a negative survey (the note says which)."""
        reason = card["notes"] or "Отказ клиента."
        opened = card["created_at"]
        possible = "техническ" not in reason.lower()  # "no technical possibility"
        depth = RECORD if not possible else rng.choice((0, 0, REQUEST, RECORD))
        j = _Journey(card)
        if depth:
            seed = f"{rng.random()}"
            start = b.moment(b.working(b.day(opened), rng.randint(0, 2)), rng, after=opened)
            j = (self.fits(card, b, seed, start, depth, possible=possible)
                 or self.squeezed(card, b, seed, start, depth, possible))
        source = j.steps[-1].target if j.steps else Stage.COMMERCIAL
        t = b.moment(b.day(j.last) + dt.timedelta(days=rng.randint(1, 20)), rng, after=j.last)
        if t >= self.now:
            t = j.last + (self.now - j.last) / 2
        if j.survey is not None and j.survey.status != Survey.Status.DONE:
            j.survey.status = Survey.Status.CANCELLED
        j.step("cancel", source, Stage.CANCELLED, t, card["lead_manager_id"],
               {"reason": reason}, _("Cancelled: %(reason)s") % {"reason": reason})
        return j


def _working_days_back(b: _Branch, day: dt.date, n: int) -> dt.date:
    """The n-th working day before ``day`` (``day`` itself, or the last working day
    before it, for n=0)."""
    while not b.calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    for _n in range(n):
        day -= dt.timedelta(days=1)
        while not b.calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
    return day


def _estimate(connection_type: str, nonstandard: bool, rng) -> list[dict]:
    catalog = ESTIMATES[connection_type]
    lines = catalog if nonstandard else [line for line in catalog if rng.random() < 0.75]
    return [{"item": item, "kind": kind, "unit": unit, "quantity": D(rng.randint(*qty)),
             "unit_price": price} for item, kind, unit, qty, price in (lines or catalog[:1])]


# --- The contract-stage drafts -------------------------------------------------------------


def _contract_stage(journeys: list[_Journey], walker: _Walker, branches, rng):
    """Most cards at the contract stage have a draft; a few non-standard ones wait for the
    two approvals (one of them given); one clause is disputed and waits for the lawyer."""
    drafts = 0
    for j in journeys:
        if j.card["stage"] != Stage.CONTRACT or (drafts >= 3 and rng.random() < 0.35):
            continue
        b = branches[j.card["branch_id"]]
        drafted = walker.draft(j, b, rng)
        contract = j.contract
        if drafted >= walker.now:
            contract.drafted_at = j.last + (walker.now - j.last) / 2
        drafts += 1
        if drafts == 1:  # the lawyer's queue
            contract.disputed, contract.dispute = True, DISPUTES[0]
        elif drafts in (2, 3) or (j.card["kind"] == ClientCard.Kind.COMPANY
                                  and rng.random() < 0.3):
            contract.nonstandard = True  # the approvals queue: one of two given, or none
            if drafts == 3 or rng.random() < 0.5:
                contract.sales_approved_by_id = walker.users[roles.HEAD_OF_SALES]
                contract.sales_approved_at = contract.drafted_at + \
                    (walker.now - contract.drafted_at) / 2


# --- The section ---------------------------------------------------------------------------


def _branch_setup(s, keys_by_branch: dict[int, str], cards: list[dict], start, end, since):
    """WorkflowSettings and crews per branch, sized to the seed: survey places for the
    waiting funnel, crews (2–3 at the default size) for the installation history."""
    per_branch = Counter((c["branch_id"], c["stage"]) for c in cards)
    branches = {}
    for branch in s.branches.values():
        key = keys_by_branch[branch.pk]
        def count(*stages, pk=branch.pk):
            return sum(per_branch[(pk, stage)] for stage in stages)

        # The waiting surveys spread over about four survey days, the recent funnel's done
        # ones over the last twelve or so; six places a day at the default size.
        capacity = max(6, math.ceil(count(Stage.EXPERTISE) / 4 + count(
            Stage.CONTRACT, Stage.INSTALLATION, Stage.ACTIVATION) / 12))
        settings, _created = WorkflowSettings.objects.get_or_create(
            branch=branch, defaults={"contract_series": SERIES.get(key, ""),
                                     "survey_capacity": capacity})
        # Crews for the busiest time, the last four weeks (about 20 working days: the
        # cards waiting for activation and the newest subscribers were installed then),
        # with room to spare: 2-3 crews at the default size, more for a big seed.
        recent = count(Stage.ACTIVATION) + sum(
            1 for c in cards if c["branch_id"] == branch.pk and c["created_at"] > since
            and c["stage"] in (Stage.ACTIVE, Stage.TERMINATED))
        wanted = max(len(CREWS.get(key, ())) or 2,
                     math.ceil(recent * 1.5 / (20 * SLOTS_PER_CREW_DAY)))
        specs = list(CREWS.get(key, ()))
        specs += [(f"Бригада {n}", "", "") for n in range(len(specs) + 1, wanted + 1)]
        for name, members, phone in specs:
            Crew.objects.get_or_create(branch=branch, name=name,
                                       defaults={"members": members, "phone": phone})
        crews = list(Crew.objects.filter(branch=branch, active=True).order_by("name"))
        branches[branch.pk] = b = _Branch(branch, settings, crews, start, end)
        branch._workflow_settings_cache = settings
        # Places and slots taken before this run (a second run adds cards to none, but a
        # partly seeded database may have surveys and installations already).
        for day in Survey.objects.filter(branch=branch, status__in=[
                Survey.Status.SCHEDULED, Survey.Status.DONE]).values_list("date", flat=True):
            if day:
                b.surveys[day] += 1
        b.slots.update(Installation.objects.filter(crew__branch=branch).values_list(
            "crew_id", "date", "slot"))
    return branches


def seed_workflow(s) -> None:
    """The section: run by seed_demo after the cards, before billing."""
    import time

    from connections.management.commands.seed_demo import insert_rows, update_rows

    started = time.monotonic()
    ids = getattr(s, "card_ids", [])
    keys_by_branch = {branch.pk: key for key, branch in s.branches.items()}
    cards = list(ClientCard.objects.filter(pk__in=ids).order_by("created_at", "pk").values(
        "pk", "stage", "branch_id", "kind", "connection_type", "created_at",
        "lead_manager_id", "notes")) if ids else []
    now = timezone.now()
    today = timezone.localdate(now)
    start = min((c["created_at"].date() for c in cards), default=today) - dt.timedelta(days=7)
    branches = _branch_setup(s, keys_by_branch, cards, start, today + dt.timedelta(days=120),
                             since=now - dt.timedelta(days=42))
    if not cards:
        return
    users = {role: user.pk for user, role in s.staff if role in roles.ALL_ROLES}
    walker = _Walker(branches, users, now)
    rng = s.rng("workflow")
    # Translated as the product shows them: the summaries are stored text.
    with translation.override(django_settings.LANGUAGE_CODE):
        journeys = [walker.journey(card, rng) for card in cards]
        _queue_examples(journeys, walker, rng)
    _contract_stage(journeys, walker, branches, rng)
    _questions(journeys, users, now, rng)
    _save(journeys, branches, insert_rows, update_rows)
    s.log(f"workflow: {sum(len(j.steps) for j in journeys)} stage log rows, "
          f"{sum(j.survey is not None for j in journeys)} surveys, "
          f"{sum(j.contract is not None for j in journeys)} contracts, "
          f"{sum(j.installation is not None for j in journeys)} installations "
          f"in {time.monotonic() - started:.1f} s")


def _questions(journeys, users, now, rng):
    """"Ask a colleague" on a few open cards: some answered, some still in the queues."""
    open_cards = [j for j in journeys if j.card["stage"] in (
        Stage.COMMERCIAL, Stage.EXPERTISE, Stage.CONTRACT)]
    count = max(len(QUESTIONS), len(open_cards) // 25)
    for n, j in enumerate(rng.sample(open_cards, min(count, len(open_cards)))):
        role, text, answer = QUESTIONS[n % len(QUESTIONS)]
        asked = j.card["created_at"] + (now - j.card["created_at"]) * rng.uniform(0.2, 0.6)
        question = ColleagueQuestion(card_id=j.card["pk"], role=role, question=text,
                                     asked_by_id=j.card["lead_manager_id"] or users[
                                         roles.MANAGER], asked_at=asked)
        if answer and rng.random() < 0.7:
            question.answer, question.answered_by_id = answer, users[role]
            question.answered_at = asked + (now - asked) * rng.uniform(0.1, 0.5)
        j.questions.append(question)


def _queue_examples(journeys: list[_Journey], walker: _Walker, rng) -> None:
    """Whatever the size, the survey log shows a survey past its term, an urgent one
    awaiting approval (the two oldest cards at expertise) and one booked for the coming
    survey day (the newest)."""
    waiting = [j for j in journeys if j.card["stage"] == Stage.EXPERTISE]
    examples = [(0.1, None), (0.9, None), (0.5, 0)]
    for j, (kind, days_back) in zip([*waiting[:2], *waiting[2:][-1:]], examples,
                                    strict=False):
        b = walker.branches[j.card["branch_id"]]
        if j.survey.date:
            b.surveys[j.survey.date] -= 1  # its place is given back
        fresh = walker.waiting_for_survey(j.card, b, rng, kind, days_back)
        j.steps, j.survey = fresh.steps, fresh.survey


def _number_contracts(journeys, branches) -> list[ContractCounter]:
    """«<series>-<year>-<n>» in drafting order per branch and year, after the numbers
    already used (contracts.next_number continues from the counters)."""
    counters = {(c.branch_id, c.year): c for c in ContractCounter.objects.all()}
    contracts = sorted((j.contract for j in journeys if j.contract is not None),
                       key=lambda c: (c.drafted_at, c.card_id))
    for contract in contracts:
        year = timezone.localtime(contract.drafted_at).year
        counter = counters.get((contract.branch_id, year))
        if counter is None:
            counter = counters[(contract.branch_id, year)] = ContractCounter(
                branch_id=contract.branch_id, year=year, last=0)
        counter.last += 1
        series = branches[contract.branch_id].settings.series
        contract.number = f"{series}-{year}-{counter.last:05d}"
    return list(counters.values())


def _save(journeys: list[_Journey], branches, insert_rows, update_rows) -> None:
    counters = _number_contracts(journeys, branches)
    insert_rows(Survey, [j.survey for j in journeys if j.survey])
    insert_rows(EstimateLine, [{**line, "survey_id": j.survey.pk}
                               for j in journeys for line in j.estimate])
    insert_rows(Contract, [j.contract for j in journeys if j.contract])
    insert_rows(Installation, [j.installation for j in journeys if j.installation])
    for counter in counters:
        counter.save()
    logs, step_docs = [], []
    for j in journeys:
        names = {"survey": j.survey.pk if j.survey else None,
                 "contract": j.contract.number if j.contract else None,
                 "installation": j.installation.pk if j.installation else None}

        def named(text: str, names=names) -> str:
            for key, value in names.items():
                text = text.replace(f"{{{key}}}", str(value))
            return text

        for step in j.steps:
            payload = {key: names[key] if key in ("survey", "contract") else value
                       for key, value in step.payload.items()}
            logs.append({"card_id": j.card["pk"], "transition": step.name,
                         "source": step.source, "target": step.target,
                         "actor_id": step.actor, "at": step.at, "payload": payload,
                         "summary": named(step.summary)[:500]})
            step_docs.extend((len(logs) - 1, kind, title, named(number))
                             for kind, title, number in step.documents)
    ids = insert_rows(StageLog, logs)
    documents = [{"card_id": logs[n]["card_id"], "kind": kind, "title": title,
                  "number": number, "stage_log_id": ids[n], "created_by_id": logs[n]["actor_id"],
                  "created_at": logs[n]["at"]} for n, kind, title, number in step_docs]
    for j in journeys:  # the owner's permission for antennas on the roof (CS-4)
        if j.installation and j.installation.planned_at and j.card["connection_type"] in (
                ConnectionType.RADIO, ConnectionType.SATELLITE):
            documents.append({
                "card_id": j.card["pk"], "kind": CardDocument.Kind.OWNER_PERMISSION,
                "title": "Разрешение собственника на размещение антенны",
                "created_by_id": j.card["lead_manager_id"],
                "created_at": j.installation.planned_at})
    insert_rows(CardDocument, documents)
    insert_rows(ColleagueQuestion, [q for j in journeys for q in j.questions])
    columns = ("stage_changed_at", "fee_paid_at", "activated_at", "connection_days",
               "terminated_at", "termination_reason", "termination_controllable")
    rows = []
    for j in journeys:
        values = {"termination_reason": "", **j.updates, "stage_changed_at": j.last}
        rows.append((j.card["pk"], *(values.get(name) for name in columns)))
    for chunk in range(0, len(rows), BATCH):
        update_rows(ClientCard, columns, rows[chunk:chunk + BATCH])
