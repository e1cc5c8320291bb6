"""bench/run_all.py reads the `figure:` lines bench/agency.py prints into its one table: a missed target is
MISSED (and so fails `make bench`), a figure without a target has no verdict, other lines are not figures."""

from __future__ import annotations

from tests.support.bench_modules import bench_module


def run_all():
    return bench_module("run_all")


def test_figure_lines_become_rows_with_their_verdicts():
    bench = run_all()
    out = ("first sync: 20 locations\n"
           "figure: wall time | 25.2 s | - | -\n"
           "figure: 429s | 0 | 0 | ok\n"
           "figure: agency statistics page p95 | 163.9 ms (10 queries) | <= 150 ms | missed\n"
           "  figure: indented lines are not figures | 1 | 2 | ok\n")
    figures = bench.figure_lines("agency", out)
    assert [(f.name, f.value, f.target, f.ok) for f in figures] == [
        ("wall time", "25.2 s", "-", None), ("429s", "0", "0", True),
        ("agency statistics page p95", "163.9 ms (10 queries)", "<= 150 ms", False)]
    table = bench.render(figures)
    assert table[-1].endswith("MISSED") and table[-2].endswith("ok")


def test_make_bench_runs_the_agency_benchmark_on_both_backends():
    names = [b.name for script, b in run_all().plan(False, ["agency"])]
    assert names == ["agency (SQLite)", "agency (PostgreSQL + Redis)", "agency pages (SQLite)",
                     "agency pages (PostgreSQL)"]


def test_the_sync_benchmarks_cpu_per_request_is_a_figure_with_its_target():
    bench = run_all()
    line = "  cluster CPU              21.3 s  ({} ms per request, target <= 2.0; user 17.0 s, system 4.3 s); peak"
    met = {f.name: f for f in bench.sync_figures("sync", line.format("1.98"))}
    missed = {f.name: f for f in bench.sync_figures("sync", line.format("2.06"))}
    name = "cluster CPU per HighLevel request (first sync)"
    assert (met[name].value, met[name].target, met[name].ok) == ("1.98 ms", "<= 2.0 ms", True)
    assert (missed[name].value, missed[name].ok) == ("2.06 ms", False)
