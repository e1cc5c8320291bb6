"""The fault matrix's table: every case adds one row (`matrix_row`), printed at the end of the session.

Fixtures reused from the sync and delivery suites: `agency` and `location` (the sandbox's agency connected
through OAuth), the demo receiver and its destinations."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.integrations.delivery.conftest import make_destination, make_event, receiver, receiver_secret  # noqa: F401
from tests.integrations.sync.conftest import agency, location  # noqa: F401

COLUMNS = ("case", "injected", "checked", "rows lost", "duplicates", "tokens lost", "time to healthy")


@dataclass
class Row:
    case: str
    injected: str = ""
    checked: str = ""
    rows_lost: int | None = None
    duplicates: int | None = None
    tokens_lost: int | None = None
    healthy_seconds: float | None = None
    clock: str = "real"  # real: measured wall time; simulated: the frozen or travelled clock
    note: str = ""

    def healthy(self) -> str:
        if self.healthy_seconds is None:
            return f"- ({self.note})" if self.note else "-"
        seconds = self.healthy_seconds
        text = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 \
            else f"{seconds / 3600:.1f} h"
        return f"{text} ({self.clock}){' ' + self.note if self.note else ''}"

    def cells(self) -> list[str]:
        return [self.case, self.injected, self.checked, *(str(v) if v is not None else "-" for v in
                (self.rows_lost, self.duplicates, self.tokens_lost)), self.healthy()]

    def line(self) -> str:
        return (f"[fault] {self.case}: injected {self.injected}; checked {self.checked}; rows lost "
                f"{self.rows_lost}, duplicates {self.duplicates}, tokens lost {self.tokens_lost}, "
                f"healthy after {self.healthy()}")


ROWS: list[Row] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: a case of the fault matrix (make faults runs them all)")


@pytest.fixture
def matrix_row(request):
    """The row of this case: fill it in; it is printed as one line and kept for the session's table."""
    row = Row(case=request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name)
    yield row
    if row.rows_lost is not None:
        print("\n" + row.line())
        ROWS.append(row)


def render(rows: list[Row]) -> list[str]:
    table = [list(COLUMNS), *(r.cells() for r in rows)]
    return ["| " + " | ".join(cells) + " |" for cells in table[:1]] + \
        ["|" + "|".join("---" for _ in COLUMNS) + "|"] + ["| " + " | ".join(cells) + " |" for cells in table[1:]]


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    terminalreporter.section("fault matrix")
    for line in render(ROWS):
        terminalreporter.write_line(line)
