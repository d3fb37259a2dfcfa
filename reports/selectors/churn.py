"""Churn (R1, R3): the share of clients who leave each month, by segment, controllable or
not, against the plan the director sets; and the ARPU grades of business clients with the
manager who leads each.

The unit is a client card in service (connections.models.ClientCard), months are local
calendar months from the period's first to its last (no future months):

``at_start``
    clients in service at the start of the month: activated (``activated_at``) before its
    first instant and not terminated (``terminated_at``) before it. A client blocked for
    debt is still in service.
``lost``
    clients terminated in the month (``terminated_at`` in it) — including one activated and
    terminated within the same month. Cancelling before activation is not churn.
``churn``
    ``lost ÷ at_start × 100`` for a month (None when nobody was in service); over several
    months ``Σ lost ÷ Σ at_start × 100``, the average monthly churn weighted by clients.
``controllable`` / ``uncontrollable``
    the same by ``ClientCard.termination_controllable`` (recorded at termination: a reason
    the company could have changed — price, service, support — or not — moving, death,
    closing the business); ``unknown`` when it was not recorded. Their rates add up to
    the churn.
segments
    all clients; persons and businesses (``ClientCard.kind``); businesses by ARPU grade.
plan
    ``reports.models.ChurnPlan`` per month and segment (all, persons, businesses);
    ``over_plan`` when the actual churn is above it.

**ARPU grade of a business client in a month** is set by his monthly charges for the
previous month — the sum of the charges (all kinds but the connection fee, by the charge's
``period``) of his account for it, as a positive amount — against the thresholds of the
setting ``REPORT_ARPU_GRADES``: a list of (grade, from roubles a month, manager grade that
should lead such a client), the first whose threshold the charges reach. A client with no
charges for the previous month (activated in the month, blocked all month) is "not graded".
The previous month, not the month itself, so that the refund of a client leaving does not
lower his grade in the month he leaves.

**Assignment by manager grade (R3):** the business clients in service at the period's end
(or today), each with his ARPU grade as of that month, the manager leading him
(``ClientCard.lead_manager``) and that manager's grade read from his position the way
retention calls read it (``tickets.services.retention.grade``: "lead"/"ведущ" a lead
manager, "senior"/"старш" a senior one, anyone else a manager). A client whose manager's
grade is below the one his ARPU grade calls for — or who has no lead manager — is a
mismatch.

The monthly figures are one SQL statement (clients × months, joined to the previous month's
charges), the plans one query, the assignment list one query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Account, LedgerEntry
from connections.models import ClientCard
from reports.models import ChurnPlan
from tickets.services import retention

from .sqlkit import CENT, Sql, add_months, as_date, local_midnight, month_keys, percent, rows_cte

UNGRADED = "-"
MANAGER_GRADES = {
    retention.LEAD: ("lead", gettext_lazy("Lead manager")),
    retention.SENIOR: ("senior", gettext_lazy("Senior manager")),
    retention.PLAIN: ("manager", gettext_lazy("Manager")),
}
_GRADE_BY_NAME = {name: level for level, (name, _label) in MANAGER_GRADES.items()}
DEFAULT_GRADES = (("A", 30000, "lead"), ("B", 10000, "senior"), ("C", 0, "manager"))
FIGURES = ("at_start", "lost", "controllable", "uncontrollable", "unknown")


@dataclass(frozen=True)
class Grade:
    name: str
    minimum: Decimal  # roubles a month
    manager_level: int  # retention.LEAD / SENIOR / PLAIN

    @property
    def manager_label(self) -> str:
        return str(MANAGER_GRADES[self.manager_level][1])


def arpu_grades() -> list[Grade]:
    """The grades of ``settings.REPORT_ARPU_GRADES``, highest threshold first."""
    grades = []
    for name, minimum, manager in getattr(settings, "REPORT_ARPU_GRADES", DEFAULT_GRADES):
        if manager not in _GRADE_BY_NAME:
            raise ValueError(f"REPORT_ARPU_GRADES: unknown manager grade {manager!r}; "
                             f"one of {', '.join(_GRADE_BY_NAME)}")
        grades.append(Grade(str(name), Decimal(str(minimum)), _GRADE_BY_NAME[manager]))
    if not grades:
        raise ValueError("REPORT_ARPU_GRADES is empty")
    return sorted(grades, key=lambda g: g.minimum, reverse=True)


def grade_of(amount: Decimal | None, grades: list[Grade] | None = None) -> str:
    """The ARPU grade of monthly charges; ``UNGRADED`` for none. Below every threshold
    (a month of returns): the lowest grade."""
    if amount is None:
        return UNGRADED
    grades = grades or arpu_grades()
    for grade in grades:
        if amount >= grade.minimum:
            return grade.name
    return grades[-1].name


def _grade_case(grades: list[Grade], kopecks: str) -> tuple[str, list]:
    """The same rule as ``grade_of`` in SQL, over a sum in kopecks."""
    whens = " ".join(f"WHEN {kopecks} >= %s THEN %s" for _g in grades)
    params: list = [UNGRADED]
    for grade in grades:
        params += [int(grade.minimum * 100), grade.name]
    params.append(grades[-1].name)
    return f"CASE WHEN {kopecks} IS NULL THEN %s {whens} ELSE %s END", params


def segments(grades: list[Grade] | None = None) -> list[tuple[str, str]]:
    """(key, label) of the segments in the order they are shown."""
    grades = grades or arpu_grades()
    out = [("all", _("All clients")), ("person", _("Individuals")),
           ("company", _("Businesses"))]
    out += [(f"company:{g.name}", _("Businesses, grade %(grade)s") % {"grade": g.name})
            for g in grades]
    out.append((f"company:{UNGRADED}", _("Businesses, not graded")))
    return out


def _grain(sql: Sql, keys: list[dt.date], branch_id, grades: list[Grade]) -> dict:
    """(month, kind, grade) → FIGURES, one statement."""
    card, account, ledger = sql.table(ClientCard), sql.table(Account), sql.table(LedgerEntry)
    months, month_params = rows_cte(
        sql, [(key, local_midnight(key), local_midnight(add_months(key, 1)),
               add_months(key, -1)) for key in keys],
        [("month", "date"), ("m_from", "at"), ("m_to", "at"), ("prev", "date")])
    mine = "AND c.branch_id = %s" if branch_id else ""
    grade, grade_params = _grade_case(grades, "ch.kop")
    kop = sql.kop("e.amount")
    ended = "c.terminated_at IS NOT NULL AND c.terminated_at < m.m_to"
    text = f"""
        WITH m AS ({months}),
        c AS (
            SELECT c.id, c.kind, c.activated_at, c.terminated_at,
                   c.termination_controllable AS ctrl, a.id AS account_id
            FROM {card} c LEFT JOIN {account} a ON a.client_id = c.id
            WHERE c.activated_at IS NOT NULL {mine}
        ),
        ch AS (
            SELECT e.account_id, e.period, SUM(-{kop}) AS kop
            FROM {ledger} e
            WHERE e.kind = %s AND e.charge_kind <> %s
                  AND e.period >= {sql.date_param()} AND e.period <= {sql.date_param()}
            GROUP BY e.account_id, e.period
        )
        SELECT m.month, c.kind,
               CASE WHEN c.kind = %s THEN {grade} ELSE '' END AS grade,
               SUM(CASE WHEN c.activated_at < m.m_from THEN 1 ELSE 0 END),
               SUM(CASE WHEN {ended} THEN 1 ELSE 0 END),
               SUM(CASE WHEN {ended} AND c.ctrl = {sql.true()} THEN 1 ELSE 0 END),
               SUM(CASE WHEN {ended} AND c.ctrl = {sql.false()} THEN 1 ELSE 0 END),
               SUM(CASE WHEN {ended} AND c.ctrl IS NULL THEN 1 ELSE 0 END)
        FROM c
        JOIN m ON c.activated_at < m.m_to
              AND (c.terminated_at IS NULL OR c.terminated_at >= m.m_from)
        LEFT JOIN ch ON ch.account_id = c.account_id AND ch.period = m.prev
        GROUP BY 1, 2, 3"""
    params = [*month_params, *([branch_id] if branch_id else []),
              LedgerEntry.Kind.CHARGE.value, LedgerEntry.ChargeKind.CONNECTION.value,
              sql.day(add_months(keys[0], -1)), sql.day(add_months(keys[-1], -1)),
              ClientCard.Kind.COMPANY.value, *grade_params]
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        for month, kind, grade_name, *values in cursor.fetchall():
            out[(as_date(month), kind, grade_name or "")] = dict(
                zip(FIGURES, (int(v or 0) for v in values), strict=True))
    return out


def _figures(values: dict, plan: Decimal | None = None) -> dict:
    at_start = values.get("at_start", 0)
    out = {name: values.get(name, 0) for name in FIGURES}
    out["churn"] = percent(out["lost"], at_start)
    out["controllable_churn"] = percent(out["controllable"], at_start)
    out["uncontrollable_churn"] = percent(out["uncontrollable"], at_start)
    out["plan"] = plan
    out["delta"] = (out["churn"] - plan) if plan is not None and out["churn"] is not None \
        else None
    out["over_plan"] = out["delta"] > 0 if out["delta"] is not None else None
    return out


def _segment_keys(kind: str, grade: str) -> list[str]:
    keys = ["all", kind]
    if kind == ClientCard.Kind.COMPANY:
        keys.append(f"company:{grade or UNGRADED}")
    return keys


def churn_report(start: dt.date, end: dt.date, branch=None, *,
                 today: dt.date | None = None) -> dict:
    """{"months": [{"month", "segments": {key: figures}}], "total": {key: figures over the
    period}, "segments": [(key, label)], "grades": [Grade]}; percents as 12.5."""
    today = today or timezone.localdate()
    grades = arpu_grades()
    keys = month_keys(start, min(end, today))
    segment_list = segments(grades)
    if not keys:
        return {"months": [], "total": {key: _figures({}) for key, _l in segment_list},
                "segments": segment_list, "grades": grades}
    sql = Sql.current()
    grain = _grain(sql, keys, getattr(branch, "pk", branch), grades)
    plans = {(month, segment): value for month, segment, value in
             ChurnPlan.objects.filter(month__gte=keys[0], month__lte=keys[-1])
             .values_list("month", "segment", "percent")}
    by_month: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    overall: dict = defaultdict(lambda: defaultdict(int))
    for (month, kind, grade), values in grain.items():
        for key in _segment_keys(kind, grade):
            for name, value in values.items():
                by_month[month][key][name] += value
                overall[key][name] += value
    months = [{"month": key, "segments": {
        segment: _figures(by_month[key][segment], plans.get((key, segment)))
        for segment, _label in segment_list}} for key in keys]
    # Over the period the plan is the plans' average over the months that have one.
    total = {}
    for segment, _label in segment_list:
        planned = [plans[(key, segment)] for key in keys if (key, segment) in plans]
        plan = (sum(planned) / len(planned)).quantize(CENT) if planned else None
        total[segment] = _figures(overall[segment], plan)
    return {"months": months, "total": total, "segments": segment_list, "grades": grades}


def manager_assignment(start: dt.date, end: dt.date, branch=None, *,
                       today: dt.date | None = None) -> dict:
    """The business clients in service at the period's end with their ARPU grade (charges
    for the month before that day's month) and their lead manager's grade; mismatches
    flagged. {"as_of", "charges_month", "clients": [...], "matrix": [...], "mismatches"}."""
    today = today or timezone.localdate()
    as_of = min(end, today)
    charges_month = add_months(as_of, -1)
    moment = local_midnight(as_of + dt.timedelta(days=1))
    grades = arpu_grades()
    charged = (LedgerEntry.objects
               .filter(account__client=OuterRef("pk"), kind=LedgerEntry.Kind.CHARGE,
                       period=charges_month)
               .exclude(charge_kind=LedgerEntry.ChargeKind.CONNECTION)
               .order_by().values("account").annotate(total=Sum("amount")).values("total"))
    cards = (ClientCard.objects
             .filter(kind=ClientCard.Kind.COMPANY, activated_at__lt=moment)
             .filter(Q(terminated_at__isnull=True) | Q(terminated_at__gte=moment))
             .select_related("lead_manager", "account")
             .annotate(charged=Subquery(charged, output_field=DecimalField(max_digits=14,
                                                                          decimal_places=2)))
             .order_by(F("charged").asc(nulls_last=True), "name", "pk"))
    if branch is not None:
        cards = cards.filter(branch=branch)
    clients = []
    matrix: dict = defaultdict(lambda: defaultdict(int))
    wanted = {g.name: g for g in grades}
    for card in cards:  # the rows shown, already computed by the database
        arpu = -Decimal(card.charged).quantize(CENT) if card.charged is not None else None
        grade_name = grade_of(arpu, grades)
        manager = card.lead_manager
        level = retention.grade(manager) if manager else None
        needed = wanted.get(grade_name)
        mismatch = needed is not None and (level is None or level < needed.manager_level)
        clients.append({
            "id": card.pk, "name": card.name, "inn": card.inn,
            "account": getattr(getattr(card, "account", None), "number", ""),
            "arpu": arpu, "grade": grade_name,
            "manager": manager.get_full_name() or manager.username if manager else "",
            "manager_position": manager.position if manager else "",
            "manager_grade": MANAGER_GRADES[level][0] if level is not None else "",
            "manager_grade_label": str(MANAGER_GRADES[level][1]) if level is not None
            else _("no lead manager"),
            "expected": needed.manager_label if needed else "",
            "mismatch": mismatch,
        })
        matrix[grade_name][MANAGER_GRADES[level][0] if level is not None else ""] += 1
    columns = [("lead", MANAGER_GRADES[retention.LEAD][1]),
               ("senior", MANAGER_GRADES[retention.SENIOR][1]),
               ("manager", MANAGER_GRADES[retention.PLAIN][1]), ("", _("no lead manager"))]
    rows = []
    for name, label in [(g.name, g.name) for g in grades] + [(UNGRADED, _("not graded"))]:
        counts = [matrix[name][column] for column, _label in columns]
        rows.append({"grade": name, "label": label, "counts": counts, "total": sum(counts),
                     "expected": wanted[name].manager_label if name in wanted else ""})
    return {"as_of": as_of, "charges_month": charges_month, "clients": clients,
            "columns": [str(label) for _c, label in columns], "matrix": rows,
            "mismatches": sum(1 for c in clients if c["mismatch"]), "grades": grades}
