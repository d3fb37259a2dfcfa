"""GET /api/v1/reports/summary/ exactly per API.md: figures per group, money as strings with
two decimals, counts as ints; 400 with field errors; 401/403 by role."""

import pytest
from django.core.cache import cache

from ispcrm import roles
from tests.reports.summary_data import Company

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("november_2026")]
URL = "/api/v1/reports/summary/"
FIGURES = {"new_clients", "lost_clients", "connected", "disconnected", "collected_total",
           "collected_debt", "collected_prepaid", "collected_current", "charged", "arpu"}


@pytest.fixture(autouse=True)
def _no_cached_months():
    """Closed months are cached (reports.selectors.summary): each test's data is new."""
    cache.clear()


@pytest.fixture
def director_api(api, make_user):
    return api.as_user(make_user(roles.DIRECTOR))


def test_november_by_district(director_api):
    company = Company()
    response = director_api.get(URL, {"from": "2026-11-01", "to": "2026-11-30",
                                       "group_by": "district"})
    assert response.status_code == 200
    body = response.json()
    assert body["from"] == "2026-11-01" and body["to"] == "2026-11-30"
    assert body["group_by"] == "district"
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == {company.a.pk, company.b.pk, company.c.pk}
    assert all(set(g) >= FIGURES for g in body["groups"])
    # The figures worked out in test_summary: Северный is acc2 alone.
    assert {k: groups[company.b.pk][k] for k in FIGURES} == {
        "new_clients": 0, "lost_clients": 0, "connected": 0, "disconnected": 0,
        "collected_total": "5000.00", "collected_debt": "0.00",
        "collected_current": "387.10", "collected_prepaid": "4612.90",
        "charged": "3000.00", "arpu": "3000.00"}
    assert groups[company.b.pk]["label"] == "Северный"
    assert body["total"]["collected_total"] == "8800.00"
    assert body["total"]["new_clients"] == 2


def test_by_month_is_the_default_and_lists_every_month(director_api):
    Company()
    body = director_api.get(URL, {"from": "2026-09-15", "to": "2026-12-31"}).json()
    assert body["group_by"] == "month"
    assert [g["key"] for g in body["groups"]] == ["2026-09", "2026-10", "2026-11", "2026-12"]
    assert [g["collected_total"] for g in body["groups"]] == [
        "0.00", "8500.00", "8800.00", "100.00"]  # 11.09's 1,000 is before the 15th


@pytest.mark.parametrize("group_by", ["tariff", "connection_type"])
def test_other_groupings(director_api, group_by):
    Company()
    body = director_api.get(URL, {"from": "2026-11-01", "to": "2026-11-30",
                                  "group_by": group_by}).json()
    assert sum(int(g["new_clients"]) for g in body["groups"]) == 2
    assert f"{sum(float(g['collected_total']) for g in body['groups']):.2f}" == "8800.00"


def test_one_branch(director_api):
    company = Company()
    body = director_api.get(URL, {"from": "2026-11-01", "to": "2026-11-30",
                                  "branch": company.tyumen_branch.pk}).json()
    assert body["total"]["collected_total"] == "1000.00"


@pytest.mark.parametrize("params, field", [
    ({"to": "2026-11-30"}, "from"),
    ({"from": "2026-11-01"}, "to"),
    ({"from": "01.11.2026", "to": "2026-11-30"}, "from"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "2026-12-01", "to": "2026-11-30"}, "to"),
    ({"from": "2026-11-01", "to": "2026-11-30", "group_by": "street"}, "group_by"),
    ({"from": "2026-11-01", "to": "2026-11-30", "branch": "999999"}, "branch"),
    ({"from": "1900-01-01", "to": "2026-11-30"}, "to"),
])
def test_bad_input_is_400_naming_the_field(director_api, params, field):
    response = director_api.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body and body["detail"] and body["code"]


@pytest.mark.parametrize("role", [roles.DIRECTOR, roles.COMMERCIAL_DIRECTOR,
                                  roles.HEAD_OF_SALES, roles.ACCOUNTANT,
                                  roles.TECHNICAL_DIRECTOR])
def test_report_roles_may_read(api, make_user, role):
    response = api.as_user(make_user(role)).get(URL, {"from": "2026-11-01",
                                                      "to": "2026-11-30"})
    assert response.status_code == 200


@pytest.mark.parametrize("role", [roles.MANAGER, roles.SUPPORT, roles.CREW_LEADER])
def test_other_roles_are_refused(api, make_user, role):
    response = api.as_user(make_user(role)).get(URL, {"from": "2026-11-01",
                                                      "to": "2026-11-30"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_anonymous_is_401(api):
    assert api.get(URL, {"from": "2026-11-01", "to": "2026-11-30"}).status_code == 401


def test_in_the_openapi_schema(api, make_user):
    api.force_authenticate(make_user(roles.DIRECTOR))
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/reports/summary/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "to", "group_by", "branch"} <= names
