"""Sort orders of many rows, kept with the rows and spliced, not sorted again, when a few of them change.

An agency's campaign list holds tens of thousands of campaigns; after one location's sync a few hundred of
them are new objects (campaigns.py, `_merged_again`). Sorting them all again costs more than the rest of that
view (reading each row's figure and folding its name, 40,000 times), and the short-lived objects it makes
wake Python's cyclic collector over the whole kept heap. An `Order` keeps each row's sort key beside it, so the
changed rows come out by bisection and go in by bisection, and the rest is copied by slices.

Every key ends with the row's slug, which is unique: an order spliced from an older one is the very order
sorted afresh (`sorted_rows`' order, ties of figure and name broken by slug).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Sortable(Protocol):
    slug: str
    name: str

    def value(self, key: str) -> Any: ...


def row_key(row: Sortable, key: str) -> tuple:
    """(figure, folded name, slug), or (folded name, slug) for a row without the figure."""
    value = row.value(key)
    folded = row.name.casefold()
    return (folded, row.slug) if value is None else (value, folded, row.slug)


@dataclass(frozen=True)
class Order:
    """Rows with the figure ascending by it (then name, then slug), and rows without it by name (then slug),
    each with its key. Shared once made: never changed."""

    keys: list[tuple]
    rows: list[Any]
    missing_keys: list[tuple]
    missing_rows: list[Any]

    @classmethod
    def of(cls, rows: Iterable[Sortable], key: str) -> Order:
        present, missing = [], []
        for row in rows:
            k = row_key(row, key)
            (missing if len(k) == 2 else present).append((k, row))
        present.sort(key=_first)
        missing.sort(key=_first)
        return cls([k for k, _ in present], [r for _, r in present], [k for k, _ in missing], [r for _, r in missing])

    def listed(self, *, descending: bool) -> list[Any]:
        """The rows as a list shows them: by the figure either way, rows without it last (by name)."""
        return (self.rows[::-1] if descending else self.rows) + self.missing_rows

    def spliced(self, key: str, *, gone: Iterable[Sortable], came: Iterable[Sortable]) -> Order | None:
        """This order without the rows `gone` and with the rows `came` (by `key`, the key this order was made
        by); None when a row gone is not in it (the caller sorts afresh)."""
        gone_keys = [row_key(row, key) for row in gone]
        came_pairs = [(row_key(row, key), row) for row in came]
        present = _splice(self.keys, self.rows, [k for k in gone_keys if len(k) == 3],
                          [p for p in came_pairs if len(p[0]) == 3])
        missing = _splice(self.missing_keys, self.missing_rows, [k for k in gone_keys if len(k) == 2],
                          [p for p in came_pairs if len(p[0]) == 2])
        if present is None or missing is None:
            return None
        return Order(*present, *missing)


def _first(pair: tuple) -> tuple:
    return pair[0]


def _splice(keys: list[tuple], rows: list[Any], gone: list[tuple], came: list[tuple[tuple, Any]]
            ) -> tuple[list[tuple], list[Any]] | None:
    """(keys, rows) without the keys `gone` and with the (key, row) pairs `came`, both found by bisection and
    the rest copied in slices: O(changed x log rows) in Python, one copy of the lists in C."""
    cuts = []
    for k in gone:
        at = bisect_left(keys, k)
        if at == len(keys) or keys[at] != k:
            return None
        cuts.append(at)
    kept_keys: list[tuple] = []
    kept_rows: list[Any] = []
    start = 0
    for at in sorted(cuts):
        kept_keys += keys[start:at]
        kept_rows += rows[start:at]
        start = at + 1
    kept_keys += keys[start:]
    kept_rows += rows[start:]
    out_keys: list[tuple] = []
    out_rows: list[Any] = []
    start = 0
    for k, row in sorted(came, key=_first):
        at = bisect_left(kept_keys, k, start)
        if at < len(kept_keys) and kept_keys[at] == k:
            return None  # a row came whose key is still there: not a splice this order can make
        out_keys += kept_keys[start:at]
        out_rows += kept_rows[start:at]
        out_keys.append(k)
        out_rows.append(row)
        start = at
    out_keys += kept_keys[start:]
    out_rows += kept_rows[start:]
    return out_keys, out_rows
