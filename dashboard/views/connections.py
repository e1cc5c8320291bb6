"""Admins connect HighLevel here: OAuth (agency or location), Private Integration tokens, and the
test / rotate / reconnect / disconnect actions. Views stay thin: services do the work."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.clientip import client_ip
from dashboard.forms.connections import DisconnectForm, PrivateTokenForm, RenameForm, RotateTokenForm
from dashboard.roles import MANAGE_CONNECTIONS, requires
from dashboard.selectors.connections import connection_detail, connection_rows
from integrations.clients import highlevel_config
from integrations.connections import installs, services
from integrations.connections.audit import Actor
from integrations.connections.contract import connection_try_v3_again
from integrations.connections.errors import ConnectionActionError
from integrations.connections.oauth_install import connection_complete_oauth
from integrations.highlevel.oauth import USER_TYPE_COMPANY, USER_TYPE_LOCATION, authorize_url
from integrations.models import Connection

OAUTH_SESSION_KEY = "highlevel_oauth_flows"
OAUTH_FLOW_TTL_SECONDS = 15 * 60
MAX_PENDING_FLOWS = 5


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, ip_address=client_ip(request))


@require_GET
@requires(MANAGE_CONNECTIONS)
def connection_list(request: HttpRequest) -> HttpResponse:
    return render(request, "connections/list.html", {
        "rows": connection_rows(),
        "pending_installs": installs.pending_installs_live(),
        "oauth_configured": bool(settings.HIGHLEVEL_CLIENT_ID and settings.HIGHLEVEL_CLIENT_SECRET),
        "sandbox": settings.HIGHLEVEL_SANDBOX,
    })


@require_GET
@requires(MANAGE_CONNECTIONS)
def connection_show(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    context = connection_detail(connection)
    context["rename_form"] = RenameForm(initial={"name": connection.name})
    return render(request, "connections/detail.html", context)


@require_POST
@requires(MANAGE_CONNECTIONS)
def connection_rename(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        services.connection_rename(connection=connection, name=form.cleaned_data["name"], actor=_actor(request))
        messages.success(request, f"Renamed to {form.cleaned_data['name']}.")
    else:
        messages.error(request, "Give the connection a name (up to 200 characters).")
    return redirect("connection_detail", pk=pk)


@require_POST
@requires(MANAGE_CONNECTIONS)
def connection_try_v3(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    connection_try_v3_again(connection=connection, actor=_actor(request))
    messages.success(request, f"{connection.name}: the next statistics refresh asks HighLevel's v3 (date ranges) "
                              "again; if HighLevel still refuses it, the connection stays on the last 7 days.")
    return redirect("connection_detail", pk=pk)


# --- OAuth ------------------------------------------------------------------------------------------------
def _redirect_uri(request: HttpRequest) -> str:
    return settings.HIGHLEVEL_REDIRECT_URI or request.build_absolute_uri(reverse("oauth_callback"))


@require_GET
@requires(MANAGE_CONNECTIONS)
def oauth_start(request: HttpRequest) -> HttpResponse:
    if not (settings.HIGHLEVEL_CLIENT_ID and settings.HIGHLEVEL_CLIENT_SECRET):
        messages.error(request, "OAuth is not configured: set HIGHLEVEL_CLIENT_ID and HIGHLEVEL_CLIENT_SECRET.")
        return redirect("connections")
    user_type = USER_TYPE_COMPANY if request.GET.get("install") == "agency" else USER_TYPE_LOCATION
    state = secrets.token_urlsafe(32)
    redirect_uri = _redirect_uri(request)
    now = time.time()
    flows = {
        key: flow for key, flow in request.session.get(OAUTH_SESSION_KEY, {}).items()
        if now - flow["created"] < OAUTH_FLOW_TTL_SECONDS
    }
    flows[state] = {"created": now, "user_type": user_type, "redirect_uri": redirect_uri}
    newest = sorted(flows.items(), key=lambda kv: kv[1]["created"])[-MAX_PENDING_FLOWS:]
    request.session[OAUTH_SESSION_KEY] = dict(newest)
    return HttpResponseRedirect(
        authorize_url(highlevel_config(), state=state, redirect_uri=redirect_uri, user_type=user_type))


def _pop_flow(request: HttpRequest, state: str) -> dict | None:
    """The pending flow of this session that `state` names exactly, removed so it cannot be used twice."""
    now = time.time()
    flows = {
        key: flow for key, flow in request.session.get(OAUTH_SESSION_KEY, {}).items()
        if now - flow["created"] < OAUTH_FLOW_TTL_SECONDS
    }
    flow = flows.pop(state, None) if state else None
    request.session[OAUTH_SESSION_KEY] = flows
    return flow


def _code_or_refusal(request: HttpRequest) -> tuple[str, HttpResponse | None]:
    """The callback's authorization code, or where to send the admin when HighLevel sent none."""
    error = request.GET.get("error")
    if error == "access_denied":
        messages.warning(request, "You declined the connection in HighLevel; nothing was saved.")
    elif error:
        messages.error(request, f"HighLevel did not authorize the connection ({error[:100]}); nothing was saved.")
    code = "" if error else request.GET.get("code", "").strip()
    if not code and not error:
        messages.error(request, "HighLevel came back without an authorization code; nothing was saved. Start again.")
    return code, None if code else redirect("connections")


@require_GET
@requires(MANAGE_CONNECTIONS)
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """With `state`: the end of a flow this session started, or 403. Without: an install started in
    HighLevel's marketplace, kept pending until an admin confirms it (integrations/connections/installs.py)."""
    if "state" not in request.GET:
        return _marketplace_callback(request)
    flow = _pop_flow(request, request.GET["state"])
    if flow is None:
        return render(request, "connections/oauth_refused.html", status=403)
    code, refusal = _code_or_refusal(request)
    if refusal:
        return refusal
    try:
        connection, report, created = connection_complete_oauth(
            code=code, redirect_uri=flow["redirect_uri"], user_type=flow["user_type"], actor=_actor(request)
        )
    except ConnectionActionError as exc:
        messages.error(request, f"The connection could not be completed: {exc} Nothing was saved.")
        return redirect("connections")
    return _connected(request, connection, report, created)


def _connected(request: HttpRequest, connection: Connection, report, created: bool) -> HttpResponse:
    messages.success(request, f"{'Connected' if created else 'Reconnected'} {connection.name}.")
    for line in report.explanations():
        messages.warning(request, f"Limited connection. {line}")
    for line in report.warnings():
        messages.warning(request, line)
    return redirect("connection_detail", pk=connection.pk)


def _marketplace_callback(request: HttpRequest) -> HttpResponse:
    code, refusal = _code_or_refusal(request)
    if refusal:
        return refusal
    try:
        pending = installs.pending_install_create(code=code, redirect_uri=_redirect_uri(request),
                                                  actor=_actor(request))
    except ConnectionActionError as exc:
        messages.error(request, f"The install could not be read: {exc} Nothing was saved.")
        return redirect("connections")
    return redirect("pending_install", pk=pending.pk)


@require_GET
@requires(MANAGE_CONNECTIONS)
def pending_install_show(request: HttpRequest, pk: int) -> HttpResponse:
    pending = installs.pending_install_get(pk)
    if pending is None:
        messages.warning(request, "That install is no longer pending: it was confirmed, discarded, or not "
                                  "confirmed within 15 minutes (then its tokens were deleted).")
        return redirect("connections")
    existing = Connection.objects.filter(
        company_id=pending.company_id, location_id=pending.location_id,
        kind=Connection.Kind.OAUTH_AGENCY if pending.is_agency else Connection.Kind.OAUTH_LOCATION,
    ).first()
    return render(request, "connections/pending_install.html", {"pending": pending, "existing": existing})


@require_POST
@requires(MANAGE_CONNECTIONS)
def pending_install_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    pending = installs.pending_install_get(pk)
    if pending is None:
        messages.error(request, "That install is no longer pending; nothing was connected.")
        return redirect("connections")
    try:
        connection, report, created = installs.pending_install_confirm(pending=pending, actor=_actor(request))
    except ConnectionActionError as exc:
        messages.error(request, f"The install could not be connected: {exc}")
        return redirect("connections")
    return _connected(request, connection, report, created)


@require_POST
@requires(MANAGE_CONNECTIONS)
def pending_install_discard(request: HttpRequest, pk: int) -> HttpResponse:
    pending = installs.pending_install_get(pk)
    if pending is not None and installs.pending_install_discard(pending=pending, actor=_actor(request)):
        messages.success(request, "Discarded: nothing was connected and the install's tokens are deleted.")
    else:
        messages.info(request, "That install was no longer pending.")
    return redirect("connections")


# --- Private Integration tokens and actions --------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@requires(MANAGE_CONNECTIONS)
def private_token_add(request: HttpRequest) -> HttpResponse:
    form = PrivateTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_add_private_token(actor=_actor(request), **form.cleaned_data)
        except ConnectionActionError as exc:
            form.add_error("token", str(exc))
        else:
            messages.success(request, f"Connected {connection.name} with a Private Integration token.")
            return redirect("connection_detail", pk=connection.pk)
    return render(request, "connections/private_token_form.html", {"form": form})


@require_POST
@requires(MANAGE_CONNECTIONS)
def connection_test(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    result = services.connection_test(connection=connection, actor=_actor(request))
    text = f"{connection.name}: {result.message} ({result.latency_ms:.0f} ms)"
    (messages.success if result.ok else messages.error)(request, text)
    if request.POST.get("next") == "detail":
        return redirect("connection_detail", pk=pk)
    return redirect("connections")


@require_http_methods(["GET", "POST"])
@requires(MANAGE_CONNECTIONS)
def connection_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    needs_token = connection.kind == Connection.Kind.PRIVATE_TOKEN
    form = RotateTokenForm(request.POST or None) if needs_token else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            services.connection_rotate(
                connection=connection, actor=_actor(request), new_token=form.cleaned_data["token"] if form else ""
            )
        except ConnectionActionError as exc:
            if form is None:
                messages.error(request, f"Rotation failed: {exc} The current token is unchanged.")
                return redirect("connection_detail", pk=pk)
            form.add_error("token", f"{exc} The current token is unchanged.")
        else:
            messages.success(request, f"{connection.name}: token replaced; the old one is gone.")
            return redirect("connection_detail", pk=pk)
    return render(request, "connections/rotate_form.html", {"connection": connection, "form": form})


@require_http_methods(["GET", "POST"])
@requires(MANAGE_CONNECTIONS)
def connection_disconnect(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection, pk=pk)
    form = DisconnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.connection_disconnect(connection=connection, actor=_actor(request))
        messages.success(
            request,
            f"{connection.name} is disconnected: its tokens are forgotten. Its locations, mirrored tags, "
            "statistics and history are kept; reconnect at any time to resume.",
        )
        return redirect("connections")
    return render(request, "connections/disconnect_form.html", {"connection": connection, "form": form})
