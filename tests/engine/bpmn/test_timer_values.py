"""Timer definitions as Camunda reads them: ISO 8601 literals, Quartz cron cycles, JUEL and Python."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.bpmn import timer_values
from engine.bpmn.juel import TEAM_ZONE, juel_timer

# A fixed reference: Friday 4 December 2026, 10:00 in Shanghai.
FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=TEAM_ZONE)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TEAM_ZONE).astimezone(UTC)


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        # Weekdays at 9: Saturday and Sunday are skipped.
        ("0 0 9 ? * MON-FRI", [local(2026, 12, 7, 9, 0), local(2026, 12, 8, 9, 0)]),
        # Quartz numbers weekdays 1=SUN ... 7=SAT: 2-6 is Monday to Friday.
        ("0 0 9 ? * 2-6", [local(2026, 12, 7, 9, 0), local(2026, 12, 8, 9, 0)]),
        ("0 30 8 ? * 1", [local(2026, 12, 6, 8, 30), local(2026, 12, 13, 8, 30)]),  # Sundays
        ("0 0 12 ? * SAT,SUN", [local(2026, 12, 5, 12, 0), local(2026, 12, 6, 12, 0)]),
        # The seconds field, and increments as in Camunda's own example.
        ("0/5 0/1 * 1/1 * ?", [local(2026, 12, 4, 10, 0, 5), local(2026, 12, 4, 10, 0, 10)]),
        ("30 * * * * ?", [local(2026, 12, 4, 10, 0, 30), local(2026, 12, 4, 10, 1, 30)]),
        # Day of month with '?' for the weekday; the last day of the month.
        ("0 0 6 1 * ?", [local(2027, 1, 1, 6, 0), local(2027, 2, 1, 6, 0)]),
        ("0 0 18 L * ?", [local(2026, 12, 31, 18, 0), local(2027, 1, 31, 18, 0)]),
        # A year field.
        ("0 0 9 1 1 ? 2028", [local(2028, 1, 1, 9, 0)]),
    ],
)
def test_quartz_cron_fires_when_camunda_would(cron: str, expected: list[datetime]) -> None:
    fired = []
    after = FRIDAY
    for _ in expected:
        after = timer_values.cron_next(cron, after)
        fired.append(after)
    assert fired == expected


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 0 9 * *", "6 or 7 fields"),
        ("0 0 9 ? * ?", "only one of"),
        ("0 0 9 1 * MON", "must be '?'"),
        ("0 0 25 ? * MON", "not a valid Quartz"),
    ],
)
def test_invalid_cron_is_refused(cron: str, words: str) -> None:
    with pytest.raises(timer_values.TimerValueError, match=words):
        timer_values.quartz_to_croniter(cron)


@pytest.mark.parametrize(
    ("kind", "text", "source"),
    [
        ("timeDuration", "PT5M", "'PT5M'"),
        ("timeDuration", '"PT5M"', '"PT5M"'),  # a quoted Python string keeps working
        ("timeDuration", "delay", "delay"),  # a Python variable
        ("timeCycle", "R3/PT10M", "'R3/PT10M'"),
        ("timeCycle", "0 0 9 ? * MON-FRI", "'0 0 9 ? * MON-FRI'"),
        ("timeDate", "2027-01-01T09:00:00", "'2027-01-01T09:00:00+08:00'"),  # no offset: the team's zone
        ("timeDate", "2027-01-01T09:00:00Z", "'2027-01-01T09:00:00Z'"),
        ("timeDate", "2027-01-01T09:00:00+02:00", "'2027-01-01T09:00:00+02:00'"),
        ("timeCycle", "R2/2027-01-01T09:00:00/P1D", "'R2/2027-01-01T09:00:00+08:00/P1D'"),
        ("timeDuration", "${delay}", "juel_timer('timeDuration', delay)"),
    ],
)
def test_timer_source(kind: str, text: str, source: str) -> None:
    assert timer_values.timer_source(kind, text) == source


@pytest.mark.parametrize(
    ("kind", "text", "words"),
    [
        ("timeDate", "PT1M", "is a duration or cycle"),
        ("timeDuration", "P1X", "not a valid ISO-8601"),
        ("timeDuration", "0 0 9 ? * MON-FRI", "neither ISO 8601"),
        ("timeCycle", "R3/soon", "not a valid ISO-8601"),
        ("timeDuration", "'one day'", "not an ISO-8601 duration"),
        ("timeDuration", "", "empty"),
    ],
)
def test_bad_timer_is_refused(kind: str, text: str, words: str) -> None:
    with pytest.raises(timer_values.TimerValueError, match=words):
        timer_values.timer_source(kind, text)


def test_juel_dates_without_offset_get_the_team_zone() -> None:
    assert juel_timer("timeDate", "2027-01-01T09:00") == "2027-01-01T09:00:00+08:00"
    assert juel_timer("timeDate", datetime(2027, 1, 1, 9)) == "2027-01-01T09:00:00+08:00"
    assert juel_timer("timeDuration", "PT1H") == "PT1H"
