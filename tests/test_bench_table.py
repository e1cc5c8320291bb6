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
    gauge = "  sandbox CPU               8.3 s  (0.80 ms per request, the machine's speed; cluster / sandbox CPU 3.93)"
    figure = bench.sync_figures("sync", gauge)[0]
    assert (figure.value, figure.ok) == ("0.80 ms (3.93)", None)  # a gauge, without a target


def test_modules_the_benchmarks_share_are_not_run_as_benchmarks():
    scripts = {script.name for script, _ in run_all().plan(False, [])}
    assert {"agency.py", "sync.py", "anomaly_false_alarms.py", "statistics_requests.py"} <= scripts
    assert not scripts & {"common.py", "agency_plant.py", "timeline.py", "sync_profile.py", "run_all.py"}


def test_a_run_fails_when_it_exits_badly_or_prints_none_of_its_figures_but_a_count_only_run_does_not():
    bench = run_all()
    known = dict((script.name, b) for script, b in bench.plan(False, ["anomaly_false_alarms", "statistics_requests"]))
    anomaly, counts = known["anomaly_false_alarms.py"], known["statistics_requests.py"]
    out = ("false alarms: 0 in 83,160 series-days (0.000%)\n"
           "halved days caught (all platforms): 9132 of 12960 (70.5%)\n")
    figures, failed = bench.outcome(anomaly, out, 0)
    assert not failed
    assert [(f.name, f.value, f.ok) for f in figures] == [
        ("false alarms in 83,160 unplanted series-days", "0", True),
        ("halved days caught (all platforms)", "9132 of 12960 (70.5%)", None)]
    figures, _ = bench.outcome(anomaly, out.replace("alarms: 0", "alarms: 3"), 0)
    assert figures[0].ok is False
    assert bench.outcome(anomaly, "Traceback ...\n", 0)[1] is True  # its figures missing: a failed run
    assert bench.outcome(counts, "v3: 12\n", 0) == ([bench.Figure("statistics_requests", "run",
                                                                  "exit 0 (counts only: see its output)")], False)
    assert bench.outcome(counts, "boom\n", 1)[1] is True
