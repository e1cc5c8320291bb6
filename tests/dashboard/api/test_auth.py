"""The JSON API's authentication, errors and pagination, on a small view decorated like the real ones."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.http import JsonResponse
from django.test import RequestFactory

from dashboard import roles
from dashboard.api.base import api_view, paginated
from dashboard.api_tokens import api_token_issue
from dashboard.models import ApiToken


@api_view(roles.BROWSE, methods=("GET", "POST"))
def sample(request):
    from django.contrib.auth import get_user_model

    return JsonResponse(paginated(request, get_user_model().objects.order_by("id"), lambda u: {"email": u.email}))


@api_view(roles.MANAGE_CONNECTIONS)
def admin_only(request):
    return JsonResponse({"ok": True})


class Answer:
    def __init__(self, response):
        self.status_code = response.status_code
        self._body = response.content

    def json(self):
        return json.loads(self._body)


def call(view, user=None, method="get", **extra):
    request = getattr(RequestFactory(), method)("/api/v1/sample/", **extra)
    request.user = user or AnonymousUser()
    request.session = SessionStore()
    return Answer(view(request))


@pytest.mark.django_db
def test_anonymous_gets_a_json_401():
    response = call(sample)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.django_db
def test_a_personal_token_authenticates_and_a_revoked_one_does_not(marketer_user):
    row, raw = api_token_issue(user=marketer_user, name="script")
    assert ApiToken.objects.get().digest != raw and raw not in ApiToken.objects.get().prefix + "x" * 60
    ok = call(sample, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ok.status_code == 200 and ok.json()["count"] == 1
    ApiToken.objects.filter(pk=row.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert call(sample, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert call(sample, HTTP_AUTHORIZATION="Basic abc").status_code == 401


@pytest.mark.django_db
def test_roles_apply_to_the_api_as_to_pages(marketer_user, admin_user):
    _, marketer_raw = api_token_issue(user=marketer_user, name="m")
    _, admin_raw = api_token_issue(user=admin_user, name="a")
    assert call(admin_only, HTTP_AUTHORIZATION=f"Bearer {marketer_raw}").json()["error"]["code"] == "forbidden"
    assert call(admin_only, HTTP_AUTHORIZATION=f"Bearer {admin_raw}").status_code == 200


@pytest.mark.django_db
def test_session_posts_need_csrf_but_token_posts_do_not(marketer_user):
    request = RequestFactory().post("/api/v1/sample/")
    request.user, request.session = marketer_user, SessionStore()
    request._dont_enforce_csrf_checks = False
    assert Answer(sample(request)).json()["error"]["code"] == "csrf_failed"
    _, raw = api_token_issue(user=marketer_user, name="m")
    assert call(sample, method="post", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


@pytest.mark.django_db
def test_pagination_shape_and_bounds(make_user, marketer_user):
    for i in range(4):
        make_user(f"user{i}@example.com")
    page = call(sample, user=marketer_user, data={"page": "2", "page_size": "2"}).json()
    assert page["count"] == 5 and len(page["results"]) == 2
    assert "page=3" in page["next"] and "page=1" in page["previous"]
    assert call(sample, user=marketer_user, data={"page_size": "501"}).status_code == 400
    assert call(sample, user=marketer_user, data={"page": "x"}).json()["error"]["code"] == "bad_request"
    assert call(sample, user=marketer_user, method="delete").status_code == 405


@pytest.mark.django_db
def test_issue_api_token_prints_a_working_token(marketer_user):
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_api_token", "marketer@example.com", "--name", "cli", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert call(sample, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert "not be shown again" in err.getvalue()


@pytest.mark.django_db
def test_the_profile_page_creates_a_token_once_and_revokes_it(marketer_http):
    page = marketer_http.post("/profile/", {"name": "Looker"}).content.decode()
    assert "Copy your new token now" in page
    token = ApiToken.objects.get()
    assert "Copy your new token" not in marketer_http.get("/profile/").content.decode()
    marketer_http.post(f"/profile/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
