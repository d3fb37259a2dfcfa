"""Tariff effectiveness (D9): subscribers over time, revenue by the attribution rule, ARPU,
churn, lifetimes and promotions — on a small hand-built base whose every figure is worked
out by hand below. Times are Moscow time; "today" is 20.11.2026; the period September to
November 2026.

Tariffs «Домашний 600» (T1) and «Турбо 900» (T2); promotion «Осень» on T1.

sub    account  tariff  served from      ended   why            branch
s1     acc1     T1      05.08 (act.)     —       running        Москва
s2     acc2     T1+P    10.09            15.11   account closed Москва
s3a    acc3     T1      01.07            01.11   moved to T2    Москва
s3b    acc3     T2      01.11            —       running        Москва
s4     acc4     T2      20.08            01.10   account closed Тюмень
s5     acc5     T1      — (never activated: not a subscriber)   Москва
s7a    acc7     T1      01.10            16.10   moved to T2    Москва
s7b    acc7     T2      16.10            —       running        Москва
acc6 has a charge and no subscription at all (Москва).

Charges (period = the month charged for; posted at):
acc1  600 p08 (05.08, outside the period), 600 p09 (01.09), 600 p10 (01.10),
      600 p11 (01.11 00:15)
acc2  connection fee 1,000 p09 and 210 p09 (10.09), 300 p10 (01.10), 600 p11 (01.11),
      −300 p11 (15.11, returned at closing)
acc3  600 p09 (01.09), 600 p10 (01.10), 900 p11 posted ahead on 31.10 21:00 → the day
      counted is 01.11 → T2
acc4  900 p09 (01.09), 900 p10 (01.10 00:15), −900 p10 (01.10 12:00, returned at closing)
acc5  connection fee 1,000 p11 (02.11) → T1 (revenue, though not a subscriber)
acc6  100 p10 (05.10) → no tariff
acc7  600 p10 (01.10), recalculation 150 p10 (15.10, the day before T2 starts → T1),
      900 p11 (01.11 00:15) → T2
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from billing.models import Account, LedgerEntry, Promotion, Subscription
from billing.services.ledger import post
from ispcrm import roles
from reports.selectors.tariffs import tariff_report
from tests.factories import (
    BranchFactory,
    BuildingFactory,
    CityFactory,
    ClientCardFactory,
    DistrictFactory,
    StreetFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2026, 11, 20)
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
PERIOD = (SEP, dt.date(2026, 11, 30))


def at(month, day, hour=12, minute=0):
    return timezone.make_aware(dt.datetime(2026, month, day, hour, minute))


def day(month, d):
    return dt.date(2026, month, d)


def charge(account, amount, when, month, kind="monthly_fee"):
    post(account=account, kind=LedgerEntry.Kind.CHARGE, amount=-D(amount),
         period=dt.date(2026, month, 1), charge_kind=kind, description=f"{kind} {month}",
         at=when)


class Base:
    def __init__(self):
        moscow, tyumen = CityFactory(name="Москва"), CityFactory(name="Тюмень")
        self.moscow = BranchFactory(city=moscow)
        self.tyumen = BranchFactory(city=tyumen)
        self.t1 = TariffFactory(name="Домашний 600", monthly_fee=D("600"))
        self.t2 = TariffFactory(name="Турбо 900", monthly_fee=D("900"))
        self.promo = Promotion.objects.create(name="Осень", tariff=self.t1,
                                              discount_percent=D("50"), months=1,
                                              valid_from=day(9, 1))
        self.n = 0

        def account(branch, activated=None, closed=None):
            street = StreetFactory(city=branch.city)
            district = DistrictFactory(city=branch.city)
            card = ClientCardFactory(branch=branch,
                                     building=BuildingFactory(street=street, district=district))
            self.n += 1
            return Account.objects.create(
                number=f"{self.n:08d}", client=card, activated_on=activated, closed_on=closed,
                status="closed" if closed else "active" if activated else "pending")

        def sub(acc, tariff, start, end=None, promotion=None):
            return Subscription.objects.create(account=acc, tariff=tariff, start=start,
                                               end=end, promotion=promotion)

        self.acc1 = acc1 = account(self.moscow, activated=day(8, 5))
        sub(acc1, self.t1, day(8, 1))
        charge(acc1, 600, at(8, 5), 8)
        charge(acc1, 600, at(9, 1), 9)
        charge(acc1, 600, at(10, 1), 10)
        charge(acc1, 600, at(11, 1, 0, 15), 11)

        self.acc2 = acc2 = account(self.moscow, activated=day(9, 10), closed=day(11, 15))
        sub(acc2, self.t1, day(9, 10), day(11, 15), promotion=self.promo)
        charge(acc2, 1000, at(9, 10), 9, kind="connection_fee")
        charge(acc2, 210, at(9, 10), 9)
        charge(acc2, 300, at(10, 1), 10)
        charge(acc2, 600, at(11, 1), 11)
        charge(acc2, -300, at(11, 15), 11, kind="final")

        self.acc3 = acc3 = account(self.moscow, activated=day(7, 1))
        sub(acc3, self.t1, day(7, 1), day(11, 1))
        sub(acc3, self.t2, day(11, 1))
        charge(acc3, 600, at(9, 1), 9)
        charge(acc3, 600, at(10, 1), 10)
        charge(acc3, 900, at(10, 31, 21), 11)

        self.acc4 = acc4 = account(self.tyumen, activated=day(8, 20), closed=day(10, 1))
        sub(acc4, self.t2, day(8, 20), day(10, 1))
        charge(acc4, 900, at(9, 1), 9)
        charge(acc4, 900, at(10, 1, 0, 15), 10)
        charge(acc4, -900, at(10, 1), 10, kind="final")

        self.acc5 = acc5 = account(self.moscow)
        sub(acc5, self.t1, day(11, 2))
        charge(acc5, 1000, at(11, 2), 11, kind="connection_fee")

        self.acc6 = acc6 = account(self.moscow, activated=day(10, 5))
        charge(acc6, 100, at(10, 5), 10)

        self.acc7 = acc7 = account(self.moscow, activated=day(10, 1))
        sub(acc7, self.t1, day(10, 1), day(10, 16))
        sub(acc7, self.t2, day(10, 16))
        charge(acc7, 600, at(10, 1), 10)
        charge(acc7, 150, at(10, 15), 10, kind="proration")
        charge(acc7, 900, at(11, 1, 0, 15), 11)


@pytest.fixture
def base():
    return Base()


def by_name(report):
    return {row["name"]: row for row in report["tariffs"]}


def months(row, *names):
    return [tuple(m[name] for name in names) for m in row["months"]]


def test_subscribers_month_by_month(base, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        report = tariff_report(*PERIOD, today=TODAY)
    assert report["months"] == [SEP, OCT, NOV]
    t1, t2 = by_name(report)["Домашний 600"], by_name(report)["Турбо 900"]
    names = ("at_start", "joined", "terminated", "switched", "at_end", "served")
    # T1 September: at the start s1 (05.08) and s3a (01.07); s2 joins 10.09 → at the end 3,
    #    in service 3.
    # T1 October: at the start s1, s2, s3a; s7a joins 01.10 and moves to T2 on 16.10 →
    #    at the end 3 (s1, s2, s3a); in service 4.
    # T1 November: at the start s1, s2, s3a; s3a ends 01.11 (moved: its last day was 31.10,
    #    so it is not in service in November), s2 ends 15.11 with the account → terminated;
    #    at the end 1 (s1), in service s1 and s2 = 2. 3 + 0 − 1 − 1 = 1.
    # s5 never counts: its account was never activated.
    assert months(t1, *names) == [(2, 1, 0, 0, 3, 3), (3, 1, 0, 1, 3, 4), (3, 0, 1, 1, 1, 2)]
    # T2 September: s4 (20.08) at the start and the end.
    # T2 October: s4 at the start, ends 01.10 with its account → terminated (not in service
    #    in October); s7b joins 16.10 → at the end 1, in service 1.
    # T2 November: s7b at the start; s3b joins 01.11 → at the end 2, in service 2.
    assert months(t2, *names) == [(1, 0, 0, 0, 1, 1), (1, 1, 1, 0, 1, 1), (1, 1, 0, 0, 2, 2)]
    # Over the period: at the start of September, at the end of November, the sums between.
    assert (t1["total"]["at_start"], t1["total"]["at_end"], t1["total"]["joined"],
            t1["total"]["terminated"], t1["total"]["switched"]) == (2, 1, 2, 1, 2)
    assert (t2["total"]["at_start"], t2["total"]["at_end"]) == (1, 2)


def test_churn_is_terminations_over_subscribers_at_the_start(base):
    t1, t2 = (by_name(tariff_report(*PERIOD, today=TODAY))[name]
              for name in ("Домашний 600", "Турбо 900"))
    # T1: 0/2, 0/3 (s7a moved to another tariff: not churn), 1/3 = 33.33 %.
    assert [m["churn"] for m in t1["months"]] == [D("0.00"), D("0.00"), D("33.33")]
    # Over the period Σ terminated / Σ at the start = 1 / (2 + 3 + 3) = 12.5 %.
    assert (t1["total"]["churn"], t1["total"]["start_sum"]) == (D("12.50"), 8)
    # T2: 0/1, 1/1 = 100 %, 0/1; over the period 1 / 3 = 33.33 %.
    assert [m["churn"] for m in t2["months"]] == [D("0.00"), D("100.00"), D("0.00")]
    assert t2["total"]["churn"] == D("33.33")


def test_revenue_follows_the_subscription_of_the_charge_day(base):
    report = tariff_report(*PERIOD, today=TODAY)
    t1, t2 = by_name(report)["Домашний 600"], by_name(report)["Турбо 900"]
    # T1 September: acc1 600 + acc2 (1,000 fee + 210) + acc3 600 = 2,410, without the fee
    #    1,410.
    # T1 October: acc1 600 + acc2 300 + acc3 600 + acc7 600 + its recalculation 150 (posted
    #    15.10, T1 still in force) = 2,250.
    # T1 November: acc1 600 + acc2 600 − 300 + acc5's fee 1,000 (a pending account's charge
    #    still belongs to its tariff) = 1,900, without the fee 900. acc3's November fee was
    #    posted on 31.10 (not a November day) → counted on 01.11 → T2.
    assert months(t1, "revenue", "recurring") == [
        (D("2410.00"), D("1410.00")), (D("2250.00"), D("2250.00")),
        (D("1900.00"), D("900.00"))]
    assert (t1["total"]["revenue"], t1["total"]["recurring"]) == (D("6560.00"), D("4560.00"))
    # T2: September acc4 900; October acc4 900 − 900 returned = 0 (the return on the
    #    closing day goes to the subscription it closed); November acc3 900 + acc7 900.
    assert [m["revenue"] for m in t2["months"]] == [D("900.00"), D("0.00"), D("1800.00")]
    assert t2["total"]["revenue"] == D("2700.00")
    # acc6's 100 has no tariff; every charge of the period is somewhere (acc1's August 600
    # is outside it): 6,560 + 2,700 + 100 = 9,360.
    assert report["no_tariff"] == D("100.00")
    assert report["total"]["revenue"] == D("9360.00")


def test_arpu_is_recurring_revenue_per_subscriber_month(base):
    report = tariff_report(*PERIOD, today=TODAY)
    t1, t2 = by_name(report)["Домашний 600"], by_name(report)["Турбо 900"]
    # T1: 1,410 / 3 = 470; 2,250 / 4 = 562.50; 900 / 2 = 450; the period 4,560 / 9 = 506.67.
    assert [m["arpu"] for m in t1["months"]] == [D("470.00"), D("562.50"), D("450.00")]
    assert t1["total"]["arpu"] == D("506.67")
    # T2: 900 / 1; 0 / 1; 1,800 / 2; the period 2,700 / 4 = 675.
    assert [m["arpu"] for m in t2["months"]] == [D("900.00"), D("0.00"), D("900.00")]
    assert t2["total"]["arpu"] == D("675.00")


def test_lifetime_of_ended_subscriptions_and_the_running_ones_apart(base):
    report = tariff_report(*PERIOD, today=TODAY)
    t1, t2 = by_name(report)["Домашний 600"]["total"], by_name(report)["Турбо 900"]["total"]
    # T1 ended in the period: s2 10.09→15.11 = 66 days, s3a 01.07→01.11 = 123, s7a
    #    01.10→16.10 = 15; average 204 / 3 = 68.0 days = 68 / 30.4375 = 2.2 months.
    assert (t1["ended"], t1["lifetime_days"], t1["lifetime_months"]) == (3, D("68.0"),
                                                                         D("2.2"))
    # Running on 20.11 (censored, shown apart): s1 since 05.08 → 108 days so far (3.5).
    assert (t1["running"], t1["running_days"], t1["running_months"]) == (1, D("108.0"),
                                                                         D("3.5"))
    # T2: s4 20.08→01.10 = 42 days (1.4 months); running s3b 20 days and s7b 36 → 28.0.
    assert (t2["ended"], t2["lifetime_days"], t2["lifetime_months"]) == (1, D("42.0"),
                                                                         D("1.4"))
    assert (t2["running"], t2["running_days"]) == (2, D("28.0"))
    # Subscriptions in force at some time in the period: T1 s1, s2, s3a, s7a; T2 s4, s3b, s7b.
    assert (t1["subscriptions"], t2["subscriptions"]) == (4, 3)


def test_promotions_effect(base):
    t1 = by_name(tariff_report(*PERIOD, today=TODAY))["Домашний 600"]
    rows = {row["key"]: row for row in t1["promotions"]}
    assert list(rows) == ["without", "with", base.promo.pk]
    without, with_promo = rows["without"], rows["with"]
    # Without: s1, s3a, s7a. Subscriber-months 2 + 3 + 1 = 6; recurring revenue acc1 1,800
    # + acc3 1,200 + acc7 750 = 3,750 → ARPU 625; at the start 2 + 2 + 2 = 6, none left.
    assert (without["subscriptions"], without["served"], without["arpu"],
            without["churn"]) == (3, 6, D("625.00"), D("0.00"))
    # With «Осень»: s2 in service 3 months, recurring 210 + 300 + 300 = 810 → 270; at the
    # start of October and November, left in November → 1 / 2 = 50 %; lived 66 days.
    assert (with_promo["subscriptions"], with_promo["served"], with_promo["arpu"],
            with_promo["churn"], with_promo["lifetime_days"]) == (1, 3, D("270.00"),
                                                                  D("50.00"), D("66.0"))
    assert rows[base.promo.pk]["label"] == "Осень"
    # T2 had no promotion: no comparison to show.
    assert by_name(tariff_report(*PERIOD, today=TODAY))["Турбо 900"]["promotions"] == []


def test_branch_filter(base):
    report = tariff_report(*PERIOD, base.tyumen, today=TODAY)
    # Tyumen has only acc4 on T2: 1 at the start of September, terminated in October.
    assert [row["name"] for row in report["tariffs"]] == ["Турбо 900"]
    t2 = report["tariffs"][0]
    assert months(t2, "at_start", "terminated", "revenue") == [
        (1, 0, D("900.00")), (1, 1, D("0.00")), (0, 0, D("0.00"))]
    assert report["no_tariff"] is None


def test_future_months_are_left_out(base):
    report = tariff_report(SEP, dt.date(2026, 12, 31), today=TODAY)
    assert report["months"] == [SEP, OCT, NOV]
    assert report["as_of"] == TODAY
    empty = tariff_report(dt.date(2027, 1, 1), dt.date(2027, 1, 31), today=TODAY)
    assert (empty["months"], empty["tariffs"], empty["total"]["revenue"]) == ([], [], D("0"))


# --- the page ------------------------------------------------------------------------------

@pytest.fixture
def director(make_user):
    web = Client()
    web.force_login(make_user(roles.DIRECTOR))
    return web


QUERY = {"period": "custom", "date_from": "2026-09-01", "date_to": "2026-11-30"}


def test_the_page(base, director, django_assert_max_num_queries):
    # session, user, role check (3), five for the report, the branch list (1), and the base
    # template's own: permissions (2), roles (1), open outages (1), the user's branch (1).
    with django_assert_max_num_queries(14):
        response = director.get("/reports/tariffs/", QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Домашний 600" in html and "Осень" in html
    assert 'id="chart-tariff-' in html  # a chart per tariff, numbers beside it


def test_the_page_for_the_whole_life(base, director):
    response = director.get("/reports/tariffs/")
    assert response.status_code == 200
    assert response.context["period"].start == dt.date(2026, 7, 1)  # s3a, the first


def test_excel(base, director):
    response = director.get("/reports/tariffs/", {**QUERY, "format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    tariffs = book.worksheets[0]
    rows = {r[0]: r for r in tariffs.iter_rows(min_row=2, values_only=True)}
    assert rows["Домашний 600"][1:4] == (2, 1, 4)  # at the start, at the end, subscriptions
    monthly = book.worksheets[1]
    first = next(monthly.iter_rows(min_row=2, values_only=True))
    # Tariffs by subscribers at the end, most first: T2 (2) before T1 (1).
    assert first[:2] == ("Турбо 900", dt.datetime(2026, 9, 1))
    assert len(book.worksheets) == 3


def test_only_report_roles(base, make_user):
    web = Client()
    web.force_login(make_user(roles.MANAGER))
    assert web.get("/reports/tariffs/").status_code == 403
