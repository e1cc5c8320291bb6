"""The anomaly detector on one daily series, with no database: the day against its trailing 28 days.

Expected value: the median of the same weekday in the window (weekly seasonality). Spread: robust standard
deviations below and above it (a "double MAD", see `_spreads`), from each window day's distance to the
median of the other days of its weekday, so one odd day in the baseline moves neither. A day is anomalous
when it lies more than `threshold` spreads from the expected value AND differs from it by at least
`min_change` (a drop to (1 - min_change) x, a rise to 1 / (1 - min_change) x), so small, jumpy numbers do not
alarm on a few units. Below MIN_VOLUME on both sides nothing is judged.

Followers are a running count: their day-over-day change is judged instead, against the window's changes
without weekdays, and must move by at least 1% of the audience (a count that halves is far past that; a few
unfollows are not). docs/architecture.md, "Goals and health", says where this runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

WINDOW_DAYS = 28
MIN_BASELINE_DAYS = 21  # days of the window that must hold a number
MIN_VOLUME = 50.0  # expected and actual both below this: too small to judge
MAD_TO_SIGMA = 1.4826
FOLLOWER_CHANGE_SHARE = 0.01  # of the audience


@dataclass(frozen=True)
class Finding:
    day: date
    actual: float
    expected: float
    low: float
    high: float
    direction: str  # "drop" or "spike"

    @property
    def change_pct(self) -> float | None:
        return None if not self.expected else round(100.0 * (self.actual - self.expected) / self.expected, 1)


def _mad(values: list[float]) -> float:
    centre = median(values)
    return median(abs(v - centre) for v in values)


def _spreads(by_weekday: dict[int, list[float]]) -> tuple[float, float]:
    """Robust standard deviations below and above a day's expected value (a "double MAD": posting days make
    the upper tail of reach and impressions longer than the lower one, and one width for both would either
    miss halvings or alarm at every busy day).

    Each day is compared with the median of the OTHER same-weekday days: with four of a weekday in the window,
    a median that includes the day itself sits halfway towards it and would make the spread look half as wide
    as it is."""
    residuals = []
    for values in by_weekday.values():
        for index, value in enumerate(values):
            others = values[:index] + values[index + 1:]
            if others:
                residuals.append(value - median(others))
    if not residuals:
        return 0.0, 0.0
    centre = median(residuals)
    below = [centre - r for r in residuals if r <= centre]
    above = [r - centre for r in residuals if r >= centre]
    return MAD_TO_SIGMA * median(below), MAD_TO_SIGMA * median(above)


def detect(series: dict[date, float | None], day: date, *, threshold: float, min_change: float,
           running_count: bool = False) -> Finding | None:
    """A Finding when `day` is anomalous against the WINDOW_DAYS before it; None when it is not, or when the
    series cannot say (the day or too much of its window missing)."""
    if running_count:
        return _detect_running(series, day, threshold=threshold, min_change=min_change)
    actual = series.get(day)
    window = {day - timedelta(days=n): series.get(day - timedelta(days=n)) for n in range(1, WINDOW_DAYS + 1)}
    known = {d: v for d, v in window.items() if v is not None}
    if actual is None or len(known) < MIN_BASELINE_DAYS:
        return None
    by_weekday: dict[int, list[float]] = {}
    for d, v in known.items():
        by_weekday.setdefault(d.weekday(), []).append(v)
    same = by_weekday.get(day.weekday(), [])
    if len(same) < 3:
        return None
    expected = median(same)
    if max(expected, actual) < MIN_VOLUME:
        return None
    # Counts scatter at least as much as chance does (a Poisson count's deviation is its square root): a
    # window that happened to be calm must not make an ordinary busy day look extraordinary.
    floor = max(0.05 * abs(expected), math.sqrt(abs(expected)), 1.0)
    below, above = _spreads(by_weekday)
    # The least change is symmetric in ratio: with min_change 0.3 a drop to 0.7x or a rise to 1/0.7 = 1.43x.
    least_up = expected * (1 / (1 - min(min_change, 0.9)) - 1)
    least = max(min_change * abs(expected), 1.0) if actual < expected else max(least_up, 1.0)
    return _judge(day, actual, expected, max(below, floor), max(above, floor), threshold, least)


def _detect_running(series: dict[date, float | None], day: date, *, threshold: float,
                    min_change: float) -> Finding | None:
    def delta(d: date) -> float | None:
        today, before = series.get(d), series.get(d - timedelta(days=1))
        return None if today is None or before is None else today - before

    actual = delta(day)
    level = series.get(day - timedelta(days=1))
    deltas = [v for n in range(1, WINDOW_DAYS + 1) if (v := delta(day - timedelta(days=n))) is not None]
    if actual is None or not level or len(deltas) < MIN_BASELINE_DAYS:
        return None
    expected = median(deltas)
    spread = max(MAD_TO_SIGMA * _mad(deltas), 1.0)
    found = _judge(day, actual, expected, spread, spread, threshold, FOLLOWER_CHANGE_SHARE * abs(level))
    if found is None:
        return None
    # Shown as follower counts: the expected count and its range, against the count that day.
    return Finding(day=day, actual=level + actual, expected=level + expected, low=level + found.low,
                   high=level + found.high, direction=found.direction)


def _judge(day: date, actual: float, expected: float, below: float, above: float, threshold: float,
           least: float) -> Finding | None:
    low, high = expected - threshold * below, expected + threshold * above
    if abs(actual - expected) < least or low <= actual <= high:
        return None
    return Finding(day=day, actual=actual, expected=expected, low=round(low, 1), high=round(high, 1),
                   direction="drop" if actual < low else "spike")
