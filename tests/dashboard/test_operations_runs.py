"""The run history: filters, a run's timeline, retry, retry-all-failed (bulk, with progress) and cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import ApiCall, Connection, Location, SyncRun
from integrations.sync.runs import run_finish
from integrations.sync.services import sync_unit_execute

pytestmark = pytest.mark.django_db
F, S, Q = SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED, SyncRun.Status.QUEUED


@pytest.fixture
def enqueued(monkeypatch):
    """Units handed to the worker, recorded instead of run (tests run tasks in-process otherwise)."""
    ids: list[int] = []
    monkeypatch.setattr("integrations.sync.services.enqueue_unit", lambda run_id, **kw: ids.append(run_id))
    monkeypatch.setattr("integrations.sync.services.enqueue_units", ids.extend)
    monkeypatch.setattr("integrations.operations.runs.enqueue_units", ids.extend)
    return ids


@pytest.fixture
def world(db):
    agency = Connection.objects.create(name="Acme agency", kind=Connection.Kind.OAUTH_AGENCY, company_id="C1")
    pit = Connection.objects.create(name="Bakery PIT", kind=Connection.Kind.PRIVATE_TOKEN, location_id="LOCb")
    a = Location.objects.create(location_id="LOCa", connection=agency, name="Alpha Cafe")
    b = Location.objects.create(location_id="LOCb", connection=pit, name="Bravo Bakery")
    now = timezone.now()

    def run(location, status, kind="tags", minutes_ago=10, **extra):
        return SyncRun.objects.create(kind=kind, status=status, location=location, connection=location.connection,
                                      finished_at=None if status == Q else now - timedelta(minutes=minutes_ago),
                                      started_at=None if status == Q else now - timedelta(minutes=minutes_ago + 1),
                                      **extra)

    return {"a": a, "b": b, "agency": agency, "pit": pit, "run": run}


def _ids(response):
    return [r.pk for r in response.context["page"].object_list]


def test_filters_narrow_the_history(admin_http, world):
    run = world["run"]
    ok_a = run(world["a"], S)
    failed_a = run(world["a"], F, kind="statistics", error="ServerError: 500")
    failed_b = run(world["b"], F, minutes_ago=60 * 24 * 3)
    assert _ids(admin_http.get("/operations/runs/")) == [failed_b.pk, failed_a.pk, ok_a.pk]
    assert _ids(admin_http.get("/operations/runs/?status=failed")) == [failed_b.pk, failed_a.pk]
    assert _ids(admin_http.get("/operations/runs/?kind=statistics")) == [failed_a.pk]
    assert _ids(admin_http.get("/operations/runs/?location=LOCb")) == [failed_b.pk]
    assert _ids(admin_http.get(f"/operations/runs/?connection={world['agency'].pk}")) == [failed_a.pk, ok_a.pk]
    today = timezone.now().date()
    assert _ids(admin_http.get(f"/operations/runs/?since={today}&until={today}")) == [failed_b.pk, failed_a.pk,
                                                                                     ok_a.pk]
    assert _ids(admin_http.get(f"/operations/runs/?until={today - timedelta(days=1)}")) == []
    page = admin_http.get("/operations/runs/?status=failed").content.decode()
    assert "ServerError: 500" in page and "Retry all failed in this filter" in page


def test_a_run_shows_its_timeline_errors_trace_ids_and_calls(admin_http, world):
    failed = world["run"](world["a"], F, error="ServerError: HighLevel answered 503", trace_ids=["tr-9f2c"],
                          attempts=5)
    ApiCall.objects.create(at=timezone.now(), method="GET", endpoint="/social-media-posting/{locationId}/tags",
                           resource_id="LOCa", run_id=failed.pk, status=503, latency_ms=812, attempt=3,
                           trace_id="tr-9f2c")
    html = admin_http.get(f"/operations/runs/{failed.pk}/").content.decode()
    assert "Queued (manual)" in html and "Finished: Failed" in html and "over 5 attempts" in html
    assert "HighLevel answered 503" in html and "tr-9f2c" in html and "812" in html
    assert f'action="/operations/runs/{failed.pk}/retry/"' in html


def test_the_list_shows_non_zero_counts_and_a_trace_id_only_beside_something_wrong(admin_http, world):
    clean = world["run"](world["a"], S, kind="statistics", trace_ids=["tr-clean"],
                         counts={"created": 0, "unchanged": 3, "rows_written": 0})
    odd = world["run"](world["b"], S, trace_ids=["tr-odd"], problems=["tags[4]: no id"],
                       counts={"created": 2, "unchanged": 5})
    html = admin_http.get("/operations/runs/").content.decode()
    rows = {pk: html[html.index(f">#{pk}</a>"):] for pk in (clean.pk, odd.pk)}
    clean_row, odd_row = (rows[pk][:rows[pk].index("</tr>")] for pk in (clean.pk, odd.pk))
    assert '<span class="count">unchanged 3</span></td>' in clean_row and "created 0" not in clean_row
    assert "tr-clean" not in clean_row  # a run that went well has no error to trace
    assert '<span class="count">created 2</span><span class="count">unchanged 5</span>' in odd_row
    assert "1 problem in HighLevel's answers" in odd_row and "tr-odd" in odd_row


def test_retrying_a_failed_unit_makes_a_new_run(admin_http, world, enqueued):
    failed = world["run"](world["a"], F)
    response = admin_http.post(f"/operations/runs/{failed.pk}/retry/")
    again = SyncRun.objects.get(retry_of=failed)
    assert response["Location"] == f"/operations/runs/{again.pk}/"
    assert (again.kind, again.trigger, again.location, again.status) == ("tags", "retry", world["a"], Q)
    assert enqueued == [again.pk]
    ok = world["run"](world["a"], S)
    admin_http.post(f"/operations/runs/{ok.pk}/retry/")
    assert not SyncRun.objects.filter(retry_of=ok).exists()


def test_retry_all_failed_in_the_filter_is_one_bulk_run_with_progress(admin_http, world, enqueued):
    run = world["run"]
    run(world["a"], S, minutes_ago=90)
    run(world["a"], F, minutes_ago=50)
    newest_a = run(world["a"], F, minutes_ago=20)  # the same location and kind: retried once
    failed_b = run(world["b"], F, kind="statistics")
    done = run(world["b"], F, kind="accounts")
    run(world["b"], S, kind="accounts", retry_of=done)  # already retried
    run(world["b"], F, kind="tags")
    run(world["b"], S, kind="tags")  # a later success settles it
    response = admin_http.post("/operations/runs/retry-failed/", {"status": "failed"})
    bulk = SyncRun.objects.get(kind="all", trigger="retry")
    assert response["Location"] == f"/operations/runs/{bulk.pk}/"
    units = list(bulk.children.order_by("id"))
    assert sorted(u.retry_of_id for u in units) == sorted([newest_a.pk, failed_b.pk])
    assert sorted(enqueued) == sorted(u.pk for u in units)
    assert (bulk.progress_done, bulk.progress_total) == (0, 2)
    run_finish(units[0], status=S)
    page = admin_http.get(f"/operations/runs/{bulk.pk}/").content.decode()
    assert "Progress: 1 of 2" in page and 'data-poll="5"' in page
    run_finish(units[1], status=S)
    bulk.refresh_from_db()
    assert bulk.status == S and bulk.progress_done == 2
    # Nothing is left to retry in that filter now.
    admin_http.post("/operations/runs/retry-failed/", {"status": "failed"})
    assert SyncRun.objects.filter(kind="all").count() == 1


def test_retry_all_failed_respects_the_filter(admin_http, world, enqueued):
    world["run"](world["a"], F)
    failed_b = world["run"](world["b"], F)
    admin_http.post("/operations/runs/retry-failed/", {"status": "failed", "location": "LOCb"})
    assert [u.retry_of_id for u in SyncRun.objects.get(kind="all").children.all()] == [failed_b.pk]


def test_cancelling_a_queued_run_skips_it_and_the_worker_finds_nothing_to_do(admin_http, world):
    queued = world["run"](world["a"], Q)
    response = admin_http.post(f"/operations/runs/{queued.pk}/cancel/", follow=True)
    queued.refresh_from_db()
    assert queued.status == SyncRun.Status.SKIPPED and queued.error == "Cancelled by admin@example.com"
    assert "Cancelled 1 queued unit" in response.content.decode()
    assert sync_unit_execute(run_id=queued.pk) == "nothing to do"
    world["a"].refresh_from_db()
    assert world["a"].last_sync_status == ""  # a cancelled run is no outcome of the location


def test_a_running_run_is_not_cancelled(admin_http, world):
    running = world["run"](world["a"], SyncRun.Status.RUNNING)
    response = admin_http.post(f"/operations/runs/{running.pk}/cancel/", follow=True)
    running.refresh_from_db()
    assert running.status == SyncRun.Status.RUNNING
    assert "not queued any more" in response.content.decode()


def test_marketers_can_neither_see_nor_act(marketer_http, world, enqueued):
    failed = world["run"](world["a"], F)
    assert marketer_http.get("/operations/runs/").status_code == 403
    assert marketer_http.post(f"/operations/runs/{failed.pk}/retry/").status_code == 403
    assert marketer_http.post("/operations/runs/retry-failed/", {"status": "failed"}).status_code == 403
    assert marketer_http.post(f"/operations/runs/{failed.pk}/cancel/").status_code == 403
    assert enqueued == [] and SyncRun.objects.count() == 1


def test_actions_need_post_and_csrf(admin_user, world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    failed = world["run"](world["a"], F)
    assert strict.get(f"/operations/runs/{failed.pk}/retry/").status_code == 405
    assert strict.post(f"/operations/runs/{failed.pk}/retry/").status_code == 403
    assert not SyncRun.objects.filter(retry_of=failed).exists()
