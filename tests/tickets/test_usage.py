"""Retention (R5), "usage dropped": a client whose traffic fell far below his usual is put on
the call list; a small fall, a new client and a client without usage data are not."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Account, Usage
from ispcrm import roles
from tests.factories import ClientCardFactory, make_account
from tickets.models import RetentionCall
from tickets.services import retention

Reason = RetentionCall.Reason
GB = 1_000_000_000
MB = 1_000_000


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def account_of(branch):
    """account_of(name) → an active account of the default branch showing no other signal
    (no debt, never paid, no tickets)."""

    def make(name):
        return make_account(client=ClientCardFactory(stage="active", branch=branch, name=name))

    return make


def traffic(account, per_day: int, days: range):
    """``per_day`` bytes (in and out together) on each of ``days`` (days ago)."""
    Usage.objects.bulk_create(
        Usage(account=account, day=days_ago(n), bytes_in=per_day * 9 // 10,
              bytes_out=per_day - per_day * 9 // 10) for n in days)


RECENT = range(1, 15)  # the last 14 days, up to yesterday
BEFORE = range(15, 71)  # the 56 days before them


def history(account, before: int, recent: int):
    traffic(account, before, BEFORE)
    traffic(account, recent, RECENT)


@pytest.fixture
def plain(make_user):
    return make_user(roles.MANAGER, username="plain", position="Менеджер")


def listed() -> dict[str, RetentionCall]:
    retention.build_call_list()
    return {call.client.name: call for call in RetentionCall.objects.select_related("client")}


def test_a_fall_from_2_gb_to_a_tenth_is_flagged_and_others_are_not(account_of, plain):
    history(account_of("Упал трафик"), 2 * GB, GB // 10)
    history(account_of("Вдвое меньше"), 2 * GB, GB)
    new = account_of("Новый клиент")
    traffic(new, 2 * GB, range(10, 15))
    traffic(new, 0, range(1, 10))  # 10 days of history, the last ones without traffic
    account_of("Без данных")  # no collector for him
    history(account_of("Мало качал"), 50 * MB, 0)  # below 100 MB a day before: not judged
    gone = account_of("Пропал")
    traffic(gone, 2 * GB, BEFORE)  # no rows lately at all: days without data are no traffic

    calls = listed()

    assert set(calls) == {"Упал трафик", "Пропал"}
    assert calls["Упал трафик"].reasons == [Reason.USAGE_DROPPED]
    text = calls["Упал трафик"].reason_text
    assert "100 MB" in text and "2.0 GB" in text and "14 days" in text


def test_the_earlier_period_needs_28_days_with_data(account_of, plain):
    history(account_of("Как обычно"), GB, GB)  # the collector is working
    traffic(account_of("27 дней"), 2 * GB, range(15, 42))
    traffic(account_of("28 дней"), 2 * GB, range(15, 43))
    assert set(listed()) == {"28 дней"}


def test_a_closed_account_is_not_flagged(account_of, plain):
    account = account_of("Закрыт")
    history(account, 2 * GB, 0)
    Account.objects.filter(pk=account.pk).update(status="closed")
    assert listed() == {}


def test_nobody_is_flagged_while_the_collector_sends_nothing(account_of, plain):
    traffic(account_of("Был активен"), 2 * GB, BEFORE)  # no usage at all in the recent days
    assert listed() == {}


def test_the_thresholds_are_settings(account_of, plain, settings):
    history(account_of("Вдвое меньше"), 2 * GB, GB)
    settings.RETENTION_USAGE_DROP_PERCENT = 60
    assert set(listed()) == {"Вдвое меньше"}
    RetentionCall.objects.all().delete()
    settings.RETENTION_USAGE_MIN_MB = 3000
    assert listed() == {}


def test_the_recent_period_is_a_setting(account_of, plain, settings):
    account = account_of("Неделю не качает")
    traffic(account, 2 * GB, range(8, 71))
    traffic(account, 0, range(1, 8))
    assert listed() == {}  # 7 quiet days of 14 is half: not below 30 %
    settings.RETENTION_USAGE_RECENT_DAYS = 7
    assert set(listed()) == {"Неделю не качает"}


def test_the_signal_is_one_query(account_of, django_assert_num_queries):
    for n in range(3):
        history(account_of(f"Клиент {n}"), 2 * GB, GB // 10)
    with django_assert_num_queries(1):
        found = retention.usage_dropped(timezone.localdate())
    assert len(found) == 3


def test_the_call_list_shows_the_reason(client, account_of, plain):
    history(account_of("Упал трафик"), 2 * GB, GB // 10)
    listed()
    client.force_login(plain)
    page = client.get(reverse("tickets:retention")).content.decode()
    assert "Упал трафик" in page and "Usage dropped" in page
    call = RetentionCall.objects.get()
    page = client.get(reverse("tickets:retention_call", args=[call.pk])).content.decode()
    assert "Usage dropped" in page and "100 MB" in page
