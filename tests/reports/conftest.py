import datetime as dt
from zoneinfo import ZoneInfo

import pytest

# The moment the summary's hand-built company (summary_data.py) is looked at: its data run
# from August to December 2026 and its figures assume November is the current month.
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.fixture
def november_2026(time_machine):
    time_machine.move_to(NOW, tick=True)
    return NOW
