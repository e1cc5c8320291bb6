"""Issue 17's done-when scan. Hostile markup is planted in every name the sandbox makes (agency, locations,
their social accounts, tags, account groups, post texts); a whole sandbox run follows (OAuth connect, a
marketplace install left pending, a Private Integration token, every sync kind, deliveries, alerts, the
digest). Then every page of the URL conf (with real ids, and again with the markup in the query string),
every Django admin page, every mail, every log line and every database column is scanned:
- no page and no HTML mail carries the markup unescaped;
- nothing carries a secret: HighLevel tokens, the app's client secret, signing secrets, MFA secrets,
  API tokens, Django's and Fernet's keys.
"""

from __future__ import annotations

import io
import json
import logging
import re
from urllib.parse import urlencode

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection as db
from django.urls import get_resolver, reverse
from django.utils import timezone

from dashboard.api_tokens import api_token_issue
from dashboard.devtools.receiver import ReceiverServer
from dashboard.logging import ContextFilter, RedactSecretsFilter
from dashboard.reports.branding import branding_save
from dashboard.reports.mailing import delivery_send, report_deliver
from dashboard.reports.models import Report
from dashboard.reports.share import share_link_create
from dashboard.selectors.campaigns import campaign_slug
from integrations import crypto
from integrations.alerts.digest import digest_preference_set, weekly_digest_send
from integrations.alerts.engine import alerts_evaluate
from integrations.connections.key_rotation import encrypted_fields
from integrations.delivery import sending
from integrations.delivery.services import destination_create
from integrations.delivery.signing import secret_generate
from integrations.models import (
    Alert,
    AlertRule,
    Connection,
    Delivery,
    Location,
    PendingInstall,
    SyncRun,
    Tag,
)
from integrations.sync.services import refresh_all_enqueue
from tests.dashboard.test_url_permissions import _walk
from tests.integrations.connections.test_oauth_flow import consent
from tests.integrations.connections.test_pending_installs import marketplace_code

# Each piece is one way a name from HighLevel could act in a browser if printed raw.
MARKUP_PIECES = (
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
)
MARKUP = "".join(MARKUP_PIECES) + " "
# Lowercase tokens that only raw markup contains (escaped it reads &lt;meta ...).
RAW_MARKUP = re.compile(r"<meta http-equiv=\"refresh\"[^>]*evil|<img src=x onerror|<script>alert\(1\)", re.I)


class LogCapture(logging.Handler):
    """The project's console handler as configured (its filters), writing to memory."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = io.StringIO()
        self.addFilter(ContextFilter())
        self.addFilter(RedactSecretsFilter())
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("sandbox"):  # HighLevel's side of the wire, another process in real life
            return
        self.stream.write(self.format(record) + "\n")


@pytest.fixture
def logs():
    handler = LogCapture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _pk_for(name: str, ids: dict[str, int]) -> int:
    for prefix, key in (("pending_install", "pending"), ("connection", "connection"), ("destination", "destination"),
                        ("mapping", "destination"), ("deliver", "destination"), ("operations_run", "run"),
                        ("operations_rule", "rule"), ("operations_alert", "alert"), ("report_deliver", "mailing"),
                        ("report", "report"), ("share_link", "share")):
        if name.startswith(prefix):
            return ids[key]
    raise AssertionError(f"no real id known for the pk of {name}: add it to _pk_for")


def _our_urls(ids: dict) -> list[str]:
    urls = []
    for _route, pattern in _walk(get_resolver().url_patterns):
        if not pattern.name or not getattr(pattern.callback, "__module__", "").startswith(("dashboard.", "integ")):
            continue
        kwargs = {}
        for key in pattern.pattern.converters:
            kwargs[key] = _pk_for(pattern.name, ids) if key == "pk" else ids["share" if key == "link_id" else key]
        urls.append(reverse(pattern.name, kwargs=kwargs))
    return urls


def _admin_urls() -> list[str]:
    urls = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(f"/admin/{meta.app_label}/{meta.model_name}/")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(f"/admin/{meta.app_label}/{meta.model_name}/{first.pk}/change/")
    return urls


def _secrets(hl, *, api_token: str, totp_secret: str) -> dict[str, str]:
    found = {"client secret": django_settings.HIGHLEVEL_CLIENT_SECRET, "SECRET_KEY": django_settings.SECRET_KEY,
             "API token": api_token, "TOTP secret": totp_secret}
    for i, key in enumerate(django_settings.TOKEN_ENCRYPTION_KEYS):
        found[f"Fernet key {i}"] = key
    for resource, pit in hl.state()["private_integration_tokens"].items():
        found[f"PIT {resource}"] = pit
    for model, names in encrypted_fields().items():
        for row in model._default_manager.all():
            for name in names:
                value = crypto.decrypt(getattr(row, name))
                if value:
                    found[f"{model.__name__} {row.pk} {name}"] = value
    recovery = Authenticator.objects.get(type="recovery_codes")
    found["recovery seed"] = crypto.decrypt(recovery.data["seed"])
    return {label: value for label, value in found.items() if value}


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [label for label, value in secrets.items() if value in text]


def _database_text() -> str:
    """Every column of every table as stored, then every model row as the ORM reads it (pickles undone),
    then every session decoded."""
    parts = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
            for row in cursor.fetchall():
                parts.append(" ".join(str(value) for value in row))
    for model in apps.get_models():
        if not model._meta.managed:
            continue
        for row in model._default_manager.all().iterator():
            values = []
            for field in model._meta.concrete_fields:
                value = getattr(row, field.attname)
                values.append(json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value))
            parts.append(" ".join(values))
    for session in Session.objects.all():
        parts.append(json.dumps(session.get_decoded(), default=str))
    return "\n".join(parts)


@pytest.mark.django_db
def test_a_full_sandbox_run_leaks_no_secret_and_no_unescaped_markup(hl, client, make_user, settings, logs):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    hl.reset(name_prefix=MARKUP, locations=2, tags=12, days=14)
    state = hl.state()
    assert all(loc["name"].startswith(MARKUP) for loc in state["locations"])

    admin_user = make_user("scan@example.com", "Admin")
    admin_user.is_staff = admin_user.is_superuser = True  # the Django admin's pages are scanned too
    admin_user.save()
    totp_secret = generate_totp_secret()
    TOTP.activate(admin_user, totp_secret)
    RecoveryCodes.activate(admin_user)
    digest_preference_set(user=admin_user, weekly_digest=True)
    _row, api_token = api_token_issue(user=admin_user, name="scan")
    client.force_login(admin_user)

    # Connect the agency through the pages, as an admin would.
    start = client.get("/connections/oauth/start/?install=agency")
    back = consent(hl, start, f"company:{state['agencies'][0]['id']}")
    assert client.get("/connections/oauth/callback/", back).status_code == 302
    agency = Connection.objects.get(kind=Connection.Kind.OAUTH_AGENCY)
    # A marketplace install waiting for confirmation, and a Private Integration token.
    code = marketplace_code(hl, f"location:{state['locations'][1]['id']}")
    client.get("/connections/oauth/callback/", {"code": code})
    pending = PendingInstall.objects.get()
    client.post("/connections/private-token/", {"name": "", "location_id": state["locations"][0]["id"],
                                                 "token": hl.pit(state["locations"][0]["id"])})

    signing_secret = secret_generate()
    receiver = ReceiverServer([signing_secret]).start()
    try:
        destination, _ = destination_create(name=MARKUP + "hook", url=f"{receiver.url}/", secret=signing_secret,
                                            event_types=["tag.created", "tag.removed", "statistics.updated"])
        refresh_all_enqueue()
        location = Location.objects.filter(connection=agency).order_by("location_id").first()
        hl.add_tag(location.location_id, MARKUP + "new tag")
        hl.delete_tag(location.location_id, Tag.objects.filter(location=location).order_by("tag_id").first().tag_id)
        refresh_all_enqueue()
        sending.deliveries_sweep()
    finally:
        receiver.stop()
    AlertRule.objects.create(name="Impressions move", metric="impressions", threshold=0.0, location=location,
                             comparison=AlertRule.Comparison.values[0])
    alerts_evaluate()
    weekly_digest_send()

    assert Tag.objects.filter(name__startswith=MARKUP).exists()
    assert Delivery.objects.filter(destination=destination).exists()
    # A branded report on the location, mailed and shared, everything carrying the markup.
    branding_save(agency_name=MARKUP, accent="#123456", footer=MARKUP, logo=None, remove_logo=False, user=admin_user)
    report = Report.objects.create(name=MARKUP + "report", location=location, period="30d", note=MARKUP,
                                   sections=["kpis", "charts", "demographics", "posts", "scorecard", "goals", "note"],
                                   recipients="client@example.com")
    mailing = report_deliver(report, now=timezone.now(), trigger="manual")
    delivery_send(mailing.pk)  # the worker's half: the mail itself, scanned below
    share, share_token = share_link_create(user=admin_user, now=timezone.now(), days=3, report=report)
    ids = {
        "location_id": location.location_id,
        "tag_id": Tag.objects.filter(location=location, name__startswith=MARKUP).first().tag_id,
        "event_type": "tag.created", "connection": agency.pk, "destination": destination.pk,
        "delivery_id": Delivery.objects.filter(destination=destination).first().pk,
        "run": SyncRun.objects.order_by("pk").first().pk, "run_id": SyncRun.objects.order_by("pk").first().pk,
        "rule": AlertRule.objects.order_by("pk").first().pk,
        "alert": Alert.objects.order_by("pk").first().pk if Alert.objects.exists() else 0,
        "token_id": _row.pk, "pending": pending.pk,
        "report": report.pk, "mailing": mailing.pk, "share": share.pk, "token": share_token,
        "slug": campaign_slug(Tag.objects.filter(location=location, name__startswith=MARKUP).first().name),
    }
    secrets = _secrets(hl, api_token=api_token, totp_secret=totp_secret)
    assert {"client secret", "API token", "TOTP secret", "recovery seed"} <= set(secrets)
    assert any(label.startswith("Destination") for label in secrets)
    assert any(label.startswith("Connection") for label in secrets)

    problems = []
    pages = 0
    urls = _our_urls(ids) + _admin_urls() + ["/accounts/login/", "/accounts/2fa/", "/accounts/email/"]
    hostile_query = urlencode({"q": MARKUP, "sort": MARKUP, "status": MARKUP, "range": MARKUP, "page": MARKUP})
    for url in urls:
        for full in (url, f"{url}?{hostile_query}"):
            response = client.get(full, follow=False)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            pages += 1
            problems += [f"{full}: {label}" for label in _leaks(text, secrets)]
            if response.get("Content-Type", "").startswith("text/html") and RAW_MARKUP.search(text):
                problems.append(f"{full}: raw markup: {RAW_MARKUP.search(text).group(0)!r}")
    assert pages > 100
    tags_page = client.get(reverse("location_tags", kwargs={"location_id": location.location_id})).content.decode()
    assert "&lt;meta http-equiv=&quot;refresh&quot;" in tags_page  # the markup is there, escaped

    assert mail.outbox, "the run sent no mail to scan"
    for message in mail.outbox:
        problems += [f"mail {message.subject!r}: {label}" for label in _leaks(message.body + message.subject, secrets)]
        for content, mimetype in getattr(message, "alternatives", []):
            problems += [f"mail {message.subject!r} html: {label}" for label in _leaks(content, secrets)]
            if mimetype == "text/html" and RAW_MARKUP.search(content):
                problems.append(f"mail {message.subject!r} html: raw markup")

    log_text = logs.stream.getvalue()
    assert "highlevel" in log_text  # the capture saw the run
    problems += [f"log: {label}" for label in _leaks(log_text, secrets)]
    problems += [f"database: {label}" for label in _leaks(_database_text(), secrets)]
    assert not problems, "\n".join(problems)


def test_the_planted_markup_is_what_the_issue_names():
    assert '<meta http-equiv="refresh"' in MARKUP and "onerror=alert(1)" in MARKUP and '"><script>' in MARKUP
    assert RAW_MARKUP.search(MARKUP)
    from django.utils.html import escape

    assert not RAW_MARKUP.search(escape(MARKUP))


def test_every_pk_url_gets_a_real_id():
    ids = dict.fromkeys(("location_id", "tag_id", "event_type", "delivery_id", "run_id", "token_id", "connection",
                         "destination", "run", "rule", "alert", "pending", "slug", "report", "mailing", "share"), 1)
    ids["location_id"] = ids["tag_id"] = ids["event_type"] = ids["slug"] = ids["token"] = "x"
    assert len(_our_urls(ids)) > 40

