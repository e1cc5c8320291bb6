"""No query string gives a 500: every URL of the URL conf, with ids resolved from real rows, is fetched as
admin and as marketer; the query parameters each view reads are recorded, then each is sent with every
nonsense value below (one at a time, and all together).

A new URL whose keyword arguments are not in `url_kwargs` fails `test_every_url_kwarg_is_resolved`, so the
walk cannot silently skip it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.core.handlers.wsgi import WSGIRequest
from django.http import QueryDict
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.functional import cached_property

from dashboard.api_tokens import api_token_issue
from dashboard.reports.mailing import report_deliver
from dashboard.reports.models import Report
from dashboard.reports.share import share_link_create
from dashboard.selectors.campaigns import campaign_slug
from integrations.delivery.services import destination_create
from integrations.models import Alert, AlertRule, Delivery, PendingInstall, SyncRun
from tests.dashboard.browsing_factories import accounts_make, location_make, statistics_make, tag_make

pytestmark = pytest.mark.django_db

NONSENSE = [
    "9223372036854775807", "-1", "0", "1e309", "NaN", "abc", "", "0001-01-01", "9999-12-31", "2026-02-30",
    "\x00", "x" * 3000, "<b>'\"ß☃",
]
# Parameters the Django admin reads through request.GET.items() (which the recorder cannot name), and fewer
# values for its forty-odd pages, which all share one ChangeList and one change form.
ADMIN_PARAMS = ["p", "o", "q", "e", "all", "_to_field", "_popup", "_changelist_filters"]
ADMIN_NONSENSE = ["9223372036854775807", "-1", "", "abc", "\x00"]
# Views that answer 503 by design (a health probe); any other 5xx is a failure.
MAY_ANSWER_503 = {"healthz"}


class RecordingQueryDict(QueryDict):
    """request.GET that notes every key a view asks for."""

    seen: set[str] | None = None

    def _note(self, key):
        if RecordingQueryDict.seen is not None and isinstance(key, str):
            RecordingQueryDict.seen.add(key)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        self._note(key)
        return super().getlist(key, default)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


@pytest.fixture
def recording(monkeypatch):
    def get(self):
        raw = self.environ.get("QUERY_STRING", "").encode("iso-8859-1")
        return RecordingQueryDict(raw, encoding=self._encoding)

    prop = cached_property(get)
    prop.__set_name__(WSGIRequest, "GET")
    monkeypatch.setattr(WSGIRequest, "GET", prop)
    RecordingQueryDict.seen = set()
    yield RecordingQueryDict
    RecordingQueryDict.seen = None


@pytest.fixture
def rows(admin_user, marketer_user, receiver_free_settings):
    """One real row of everything a URL can name."""
    location = location_make("loc-walk", "Walk Bakery")
    tag = tag_make(location, "spring", tag_id="tag-walk")
    statistics_make(location, end=timezone.localdate(), days=7,
                    accounts=accounts_make(location, platforms=("facebook", "instagram")))
    run = SyncRun.objects.create(kind=SyncRun.Kind.TAGS, status=SyncRun.Status.FAILED, location=location,
                                 connection=location.connection, error="boom", progress_total=1)
    destination, _secret = destination_create(name="Hook", url="https://hooks.example.com/in",
                                              event_types=("tag.created",), locations=None)
    delivery = Delivery.objects.create(destination=destination, event_type="tag.created", body="{}",
                                       next_attempt_at=timezone.now(), status=Delivery.Status.DEAD)
    now = timezone.now()
    alert = Alert.objects.create(kind="sync_failing", dedupe_key="walk", title="Walk", first_seen_at=now,
                                 last_seen_at=now - timedelta(minutes=1))
    rule = AlertRule.objects.create(name="Walk rule", metric="impressions", threshold=30)
    token, _raw = api_token_issue(user=marketer_user, name="walk")
    install = PendingInstall.objects.create(user_type="Location", location_id="loc-new", name="New place",
                                            expires_at=now + timedelta(minutes=15))
    connection = location.connection
    report = Report.objects.create(name="Walk report", location=location, period="30d", review_before_send=True,
                                   sections=["kpis", "charts", "demographics", "posts", "scorecard", "goals", "note"],
                                   recipients="client@example.com")
    held = report_deliver(report, now=now, trigger="schedule")
    share, share_token = share_link_create(user=marketer_user, now=now, days=3, report=report)
    by_pk_prefix = {
        "connection": connection.pk, "destination": destination.pk, "mapping": destination.pk,
        "delivery": destination.pk, "deliveries": destination.pk, "operations_run": run.pk,
        "operations_alert": alert.pk, "operations_rule": rule.pk, "pending_install": install.pk,
        "report": report.pk, "report_deliver": held.pk, "share_link": share.pk,
    }
    return {
        "location_id": location.location_id, "tag_id": tag.tag_id, "run_id": run.pk, "token_id": token.pk,
        "delivery_id": delivery.pk, "event_type": "tag.created", "by_pk_prefix": by_pk_prefix,
        "link_id": share.pk, "token": share_token,
        "slug": campaign_slug(tag.name),
    }


@pytest.fixture
def receiver_free_settings(settings):
    settings.DESTINATION_ALLOWED_HOSTS = []
    # Whatever a view is given, nothing leaves the machine: HighLevel is a closed local port.
    settings.HIGHLEVEL_API_BASE_URL = "http://127.0.0.1:9"
    return settings


def _kwarg_names(pattern) -> list[str]:
    return list(pattern.converters or pattern.regex.groupindex)


def _patterns(resolvers, namespace: str = "", outer: tuple[str, ...] = ()) -> Iterator[tuple[str, list[str]]]:
    """(URL name, every keyword argument of it, its includes' too)."""
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # walked through its registered models below
            inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, inner.strip(":"), (*outer, *_kwarg_names(entry.pattern)))
        elif entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), [*outer, *_kwarg_names(entry.pattern)]


def url_kwargs(name: str, keys: list[str], rows: dict) -> dict | None:
    """Keyword arguments from real rows, or None when a kwarg is not known here."""
    kwargs = {}
    for key in keys:
        if name.startswith(("account_", "mfa_", "socialaccount_")):
            kwargs[key] = 999999 if key == "pk" else "x-y"  # allauth's ids, keys and uids: nonsense is the point
        elif key == "pk":
            prefix = next((p for p in sorted(rows["by_pk_prefix"], key=len, reverse=True) if name.startswith(p)),
                          None)
            if prefix is None:
                return None
            kwargs[key] = rows["by_pk_prefix"][prefix]
        elif key in rows:
            kwargs[key] = rows[key]
        else:
            return None
    return kwargs


def every_url(rows: dict) -> list[tuple[str, str]]:
    urls = []
    for name, keys in _patterns(get_resolver().url_patterns):
        kwargs = url_kwargs(name, keys, rows)
        assert kwargs is not None, f"{name}: add its keyword arguments to url_kwargs"
        urls.append((name, reverse(name, kwargs=kwargs)))
    for model, _model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append((f"{prefix}_changelist", reverse(f"{prefix}_changelist")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append((f"{prefix}_change", reverse(f"{prefix}_change", args=[first.pk])))
    urls.append(("admin:index", reverse("admin:index")))
    return urls


def test_every_url_kwarg_is_resolved(rows):
    assert len(every_url(rows)) > 60


def _walk(client: Client, recording, urls: list[tuple[str, str]]) -> list[str]:
    failures: list[str] = []

    def fetch(name: str, url: str, query: dict | list | None = None) -> None:
        target = f"{url}?{urlencode(query, doseq=True)}" if query else url
        response = client.get(target)
        if response.status_code >= 500 and not (response.status_code == 503 and name in MAY_ANSWER_503):
            failures.append(f"{response.status_code} {name} {target[:160]!r}")

    for name, url in urls:
        recording.seen = set()
        fetch(name, url)
        keys = set(recording.seen) | (set(ADMIN_PARAMS) if name.startswith("admin:") else set())
        tried: set[str] = set()
        values = ADMIN_NONSENSE if name.startswith("admin:") else NONSENSE
        while keys - tried:  # a nonsense value can lead a view to read more parameters: try those too
            for key in sorted(keys - tried):
                tried.add(key)
                for value in values:
                    fetch(name, url, {key: value})
                fetch(name, url, [(key, "1"), (key, "abc")])  # repeated
            keys |= recording.seen
        for value in values:
            fetch(name, url, dict.fromkeys(sorted(tried), value))
    return failures


@pytest.mark.parametrize("role", ["admin", "marketer"])
def test_no_query_string_gives_a_5xx_anywhere(rows, recording, admin_user, marketer_user, role):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user if role == "admin" else marketer_user)
    failures = _walk(client, recording, every_url(rows))
    assert not failures, f"{len(failures)} answers of 5xx:\n" + "\n".join(failures[:60])
