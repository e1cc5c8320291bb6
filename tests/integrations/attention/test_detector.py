"""The anomaly detector on plain series: quiet on ordinary weekly noise, loud on a halving or a tripling,
silent when the day or its window is missing, and not thrown by one odd day in the baseline."""

from __future__ import annotations

import random
from datetime import date, timedelta

from integrations.attention.detector import detect

DAY = date(2026, 3, 3)  # a Tuesday
WEEKLY = (1.0, 1.06, 1.12, 1.08, 1.0, 0.82, 0.76)


def series(level: float = 1000.0, days: int = 40, noise: float = 0.08, seed: int = 1) -> dict[date, float]:
    rng = random.Random(seed)
    out = {}
    for n in range(days):
        day = DAY - timedelta(days=n)
        out[day] = round(level * WEEKLY[day.weekday()] * rng.uniform(1 - noise, 1 + noise))
    return out


def judge(values, day=DAY, **kw):
    return detect(values, day, threshold=kw.pop("threshold", 4.0), min_change=kw.pop("min_change", 0.3), **kw)


def test_ordinary_days_with_weekly_seasonality_are_quiet():
    for seed in range(30):
        values = series(seed=seed)
        for back in range(5):
            assert judge(values, DAY - timedelta(days=back)) is None


def test_a_day_that_halves_is_a_drop_with_its_expected_range():
    values = series()
    values[DAY] = values[DAY] * 0.5
    found = judge(values)
    assert found is not None and found.direction == "drop"
    assert found.low <= found.expected <= found.high and found.actual < found.low
    assert found.change_pct is not None and found.change_pct < -40


def test_a_day_that_triples_is_a_spike():
    values = series()
    values[DAY] = values[DAY] * 3
    found = judge(values)
    assert found is not None and found.direction == "spike" and found.actual > found.high


def test_weekday_seasonality_a_quiet_sunday_is_not_a_drop():
    """A weekday that is always low is judged against the same weekday, not the week's median."""
    values = {}
    for n in range(40):
        day = DAY - timedelta(days=n)
        values[day] = 400.0 if day.weekday() == 6 else 1000.0 + (n % 3) * 10
    sunday = DAY - timedelta(days=(DAY.weekday() + 1) % 7)
    assert sunday.weekday() == 6
    assert judge(values, sunday) is None
    values[DAY] = 400.0  # a Tuesday as low as a Sunday is a drop
    assert judge(values).direction == "drop"


def test_one_odd_day_in_the_baseline_does_not_hide_a_drop_or_raise_a_false_alarm():
    values = series()
    values[DAY - timedelta(days=7)] = values[DAY - timedelta(days=7)] * 5  # a viral day last week
    assert judge(values) is None
    values[DAY] = values[DAY] * 0.5
    assert judge(values).direction == "drop"


def test_a_missing_day_or_a_thin_window_says_nothing():
    values = series()
    del values[DAY]
    assert judge(values) is None
    thin = {d: v for d, v in series().items() if (DAY - d).days % 2 == 0 or d == DAY}
    thin[DAY] = 1.0
    assert judge(thin) is None  # fewer than 21 days of the window hold a number
    values = series()
    values[DAY] = None
    assert judge(values) is None  # "not available" is not zero


def test_small_numbers_do_not_alarm():
    values = series(level=12, noise=0.5)
    values[DAY] = 2
    assert judge(values) is None


def test_followers_are_judged_by_their_daily_change():
    counts = {DAY - timedelta(days=n): 5000.0 - 3 * n for n in range(40)}  # +3 a day
    assert judge(counts, running_count=True) is None
    counts[DAY] = counts[DAY - timedelta(days=1)] / 2  # half the audience gone
    found = judge(counts, running_count=True)
    assert found is not None and found.direction == "drop" and found.actual == counts[DAY]
    assert found.low <= found.expected <= found.high


def test_a_higher_threshold_lets_a_smaller_drop_pass():
    values = series(noise=0.02)
    values[DAY] = values[DAY] * 0.6
    assert judge(values, threshold=4) is not None
    assert judge(values, threshold=30) is None
