"""Traffic usage import (R5): POST /api/v1/usage/ and `manage.py import_usage` — recorded,
replaced on resend, all or nothing with the bad rows named, who may call it; the admin and
the client card."""

import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import Usage
from billing.services.usage import usage_import
from ispcrm import roles
from tests.factories import UserFactory, make_account

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage/"
GB = 1_000_000_000


@pytest.fixture(autouse=True)
def english(settings):
    """Messages as the code writes them (English msgids)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def accounts(db):
    return [make_account(number="10000001"), make_account(number="10000002")]


@pytest.fixture
def collector(api, make_user):
    """The API client as the NetFlow/RADIUS collector: a user with the NOC head's role."""
    return api.as_user(make_user(roles.NOC_HEAD, username="netflow"))


def row(account="10000001", day=1, bytes_in=GB, bytes_out=GB // 10):
    day = days_ago(day).isoformat() if isinstance(day, int) else day
    return {"account": account, "day": day, "bytes_in": bytes_in, "bytes_out": bytes_out}


def stored() -> dict[tuple[str, dt.date], tuple[int, int]]:
    return {(u.account.number, u.day): (u.bytes_in, u.bytes_out)
            for u in Usage.objects.select_related("account")}


# --- The API -------------------------------------------------------------------------------


def test_the_collector_posts_days_and_they_are_recorded(collector, accounts):
    response = collector.post(URL, [row(day=1), row(day=2), row("10000002", day=1, bytes_in=0,
                                                                bytes_out=0)], format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {"imported": 3}
    assert stored() == {("10000001", days_ago(1)): (GB, GB // 10),
                        ("10000001", days_ago(2)): (GB, GB // 10),
                        ("10000002", days_ago(1)): (0, 0)}


def test_a_day_sent_again_replaces_it_and_never_doubles(collector, accounts):
    collector.post(URL, [row(day=1), row(day=2)], format="json")
    response = collector.post(URL, [row(day=1, bytes_in=5, bytes_out=7), row(day=3)],
                              format="json")
    assert response.status_code == 201 and response.json() == {"imported": 2}
    assert Usage.objects.count() == 3
    assert stored()[("10000001", days_ago(1))] == (5, 7)
    assert stored()[("10000001", days_ago(2))] == (GB, GB // 10)


def test_one_bad_row_refuses_the_whole_batch_naming_each_row(collector, accounts):
    collector.post(URL, [row(day=1)], format="json")
    before = stored()
    response = collector.post(URL, [
        row(day=1, bytes_in=1),                        # 1: good, would replace
        row("10009999", day=2),                        # 2: unknown account
        row(day="2026-02-30"),                         # 3: no such day
        row(day=-1),                                   # 4: tomorrow
        row(day=4, bytes_in=-5, bytes_out="12.5"),     # 5: negative, not whole
        row(day=1, bytes_in=2),                        # 6: the same account and day as 1
        row(day=5, bytes_in=1.5),                      # 7: a float
        "10000001;2026-11-01",                         # 8: not a row
        row("10000002", day=6),                        # 9: good
    ], format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_usage"
    assert "nothing was imported" in body["detail"] and "7" in body["detail"]
    errors = body["errors"]
    assert [int(re.match(r"Row (\d+):", e).group(1)) for e in errors] == [2, 3, 4, 5, 6, 7, 8]
    assert "unknown account 10009999" in errors[0]
    assert "2026-02-30" in errors[1] and "not a date" in errors[1]
    assert "in the future" in errors[2]
    assert "bytes_in" in errors[3] and "bytes_out" in errors[3]
    assert "repeat row 1" in errors[4]
    assert "bytes_in" in errors[5]
    assert stored() == before  # neither row 1's replacement nor row 9 was written


def test_today_is_accepted_and_the_error_list_is_capped(collector, accounts):
    assert collector.post(URL, [row(day=0)], format="json").status_code == 201
    response = collector.post(URL, [row("99", day=n) for n in range(1, 151)], format="json")
    body = response.json()
    assert response.status_code == 400 and "150" in body["detail"]
    assert len(body["errors"]) == 101 and "50 more" in body["errors"][-1]


def test_not_a_list_is_refused(collector, accounts):
    response = collector.post(URL, row(), format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_a_list"
    assert not Usage.objects.exists()


def test_ten_thousand_rows_are_taken_and_one_more_is_refused(collector, accounts):
    rows = [row(number, day=n) for number in ("10000001", "10000002") for n in range(1, 5001)]
    response = collector.post(URL, rows, format="json")
    assert response.status_code == 201 and response.json() == {"imported": 10_000}
    response = collector.post(URL, [*rows, row(day=5001)], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_rows" and "10001" in response.json()["detail"]
    assert Usage.objects.count() == 10_000


def test_who_may_post(api, make_user, accounts):
    api.credentials()
    assert api.post(URL, [row()], format="json").status_code == 401
    assert api.as_user(make_user(roles.MANAGER)).post(URL, [row()],
                                                      format="json").status_code == 403
    assert not Usage.objects.exists()
    director = make_user(roles.TECHNICAL_DIRECTOR, username="td")
    assert api.as_user(director).post(URL, [row()], format="json").status_code == 201
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert api.as_user(root).post(URL, [row(day=2)], format="json").status_code == 201


def test_the_schema_describes_the_endpoint(collector):
    schema = collector.get("/api/schema/?format=json").json()
    assert "post" in schema["paths"]["/api/v1/usage/"]


# --- The service and the command -----------------------------------------------------------


def test_the_service_takes_sequences_and_dates(accounts):
    assert usage_import([("10000001", days_ago(1), "10", "20")]) == 1
    assert stored() == {("10000001", days_ago(1)): (10, 20)}


def write(tmp_path, text: str):
    path = tmp_path / "usage.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_command_imports_a_csv_and_replaces_on_resend(tmp_path, accounts, capsys):
    d1, d2 = days_ago(1).isoformat(), days_ago(2).isoformat()
    path = write(tmp_path, f"account,day,bytes_in,bytes_out\n10000001,{d1},100,200\n"
                           f"10000002,{d2},300,400\n")
    call_command("import_usage", path)
    assert "Imported 2" in capsys.readouterr().out
    call_command("import_usage", write(tmp_path, f"account,day,bytes_in,bytes_out\n"
                                                 f"10000001,{d1},1,2\n"))
    assert stored() == {("10000001", days_ago(1)): (1, 2), ("10000002", days_ago(2)): (300, 400)}


def test_the_command_refuses_a_bad_file_naming_its_lines(tmp_path, accounts, capsys):
    d1 = days_ago(1).isoformat()
    path = write(tmp_path, f"account,day,bytes_in,bytes_out\n10000001,{d1},1,2\n\n"
                           f"10000002,{d1},-1,2\n10000003,{d1},1,2\n10000001,{d1},1\n")
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_usage", path)
    err = capsys.readouterr().err
    assert "Row 4:" in err and "bytes_in" in err  # line 3 is blank
    assert "Row 5: unknown account 10000003" in err
    assert "Row 6: not a row" in err
    assert not Usage.objects.exists()


def test_the_command_exits_1_on_a_wrong_header(tmp_path, accounts):
    from django.core.management import ManagementUtility

    path = write(tmp_path, "number,day,in,out\n10000001,2026-01-01,1,2\n")
    with pytest.raises(CommandError, match="first line"):
        call_command("import_usage", path)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "import_usage", path]).execute()
    assert exited.value.code == 1


# --- Admin and the client card ---------------------------------------------------------------


def test_the_admin_lists_usage_read_only(client, accounts):
    usage_import([row(day=1)])
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    page = client.get("/admin/billing/usage/", {"q": "10000001"})
    assert page.status_code == 200 and "10000001" in page.content.decode()
    assert client.get("/admin/billing/usage/add/").status_code == 403


def test_the_card_shows_the_traffic_of_the_last_30_days(client, manager, accounts):
    account = accounts[0]
    client.force_login(manager)
    page = client.get(f"/clients/{account.client_id}/").content.decode()
    assert "account-traffic" not in page  # no data: nothing to show
    usage_import([row(day=n, bytes_in=GB, bytes_out=GB // 2) for n in range(0, 30)]
                 + [row(day=30, bytes_in=100 * GB)])  # 30 days ago: outside
    page = client.get(f"/clients/{account.client_id}/").content.decode()
    assert re.search(r"Traffic last 30 days: 45[.,]0\sGB", page)
