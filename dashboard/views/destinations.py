"""Admins manage webhook destinations here: create, edit, rotate the secret, pause, map fields with a
preview, send a test event, read the delivery log and redeliver. Views stay thin: services do the work."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dashboard.devtools.receiver import DEMO_RECEIVER_URL
from dashboard.forms import destinations as forms
from dashboard.params import Params
from dashboard.roles import MANAGE_DESTINATIONS, requires
from dashboard.secret_once import secret_once_keep, secret_once_take
from dashboard.selectors.destinations import destination_detail, destination_rows
from integrations.delivery import sending, services
from integrations.models import Event
from integrations.models.delivery import Delivery, Destination

SECRET_PURPOSE = "destination_secret"


def _remember_secret(request: HttpRequest, destination: Destination, secret: str) -> None:
    """For the detail page the redirect leads to, which shows it once; never in a cookie or a message."""
    secret_once_keep(request, purpose=SECRET_PURPOSE, pk=destination.pk, secret=secret)


@require_GET
@requires(MANAGE_DESTINATIONS)
def destination_list(request: HttpRequest) -> HttpResponse:
    rows = destination_rows()
    return render(request, "destinations/list.html", {
        "rows": rows,
        "offer_demo": settings.DEBUG and not any(d.url == DEMO_RECEIVER_URL for d in rows),
        "demo_url": DEMO_RECEIVER_URL,
    })


@require_http_methods(["GET", "POST"])
@requires(MANAGE_DESTINATIONS)
def destination_add(request: HttpRequest) -> HttpResponse:
    form = forms.DestinationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        destination, secret = services.destination_create(created_by=request.user, **form.cleaned_data)
        _remember_secret(request, destination, secret)
        messages.success(request, f"Destination {destination.name} added.")
        return redirect("destination_detail", pk=destination.pk)
    return render(request, "destinations/form.html", {"form": form, "destination": None})


@require_GET
@requires(MANAGE_DESTINATIONS)
@never_cache  # it may show the signing secret
def destination_show(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    new_secret = secret_once_take(request, purpose=SECRET_PURPOSE, pk=destination.pk)
    params = Params(request.GET, strict=False)
    context = destination_detail(destination, status=params.choice("status", Delivery.Status.values, default=""))
    params.report(request)
    context["new_secret"] = new_secret
    context["test_form"] = forms.TestEventForm(initial={"event_type": (destination.event_types or [""])[0]})
    context["event_types"] = Event.Type.values
    return render(request, "destinations/detail.html", context)


@require_http_methods(["GET", "POST"])
@requires(MANAGE_DESTINATIONS)
def destination_edit(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    initial = {"name": destination.name, "url": destination.url, "event_types": destination.event_types,
               "locations": list(destination.locations.all())}
    form = forms.DestinationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.destination_update(destination=destination, **form.cleaned_data)
        messages.success(request, f"Saved {destination.name}.")
        return redirect("destination_detail", pk=pk)
    return render(request, "destinations/form.html", {"form": form, "destination": destination})


@require_http_methods(["GET", "POST"])
@requires(MANAGE_DESTINATIONS)
def destination_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    form = forms.RotateSecretForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        secret = services.destination_rotate_secret(destination=destination, overlap=form.cleaned_data["overlap"])
        _remember_secret(request, destination, secret)
        messages.success(request, "New signing secret made; copy it now, it is shown only once.")
        return redirect("destination_detail", pk=pk)
    return render(request, "destinations/rotate_form.html", {"destination": destination, "form": form})


@require_POST
@requires(MANAGE_DESTINATIONS)
def destination_pause(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    sending.destination_pause(destination_id=destination.pk, reason=f"Paused by {request.user.email}.",
                             automatic=False)
    messages.success(request, f"{destination.name} is paused: events are kept and go out, in order, on resume.")
    return redirect("destination_detail", pk=pk)


@require_POST
@requires(MANAGE_DESTINATIONS)
def destination_resume(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    held = services.destination_resume(destination=destination)
    messages.success(request, f"{destination.name} resumed; {held} waiting deliveries are going out.")
    return redirect("destination_detail", pk=pk)


@require_http_methods(["GET", "POST"])
@requires(MANAGE_DESTINATIONS)
def destination_delete(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    form = forms.DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.destination_delete(destination=destination)
        messages.success(request, f"Deleted {destination.name}.")
        return redirect("destinations")
    return render(request, "destinations/delete_form.html", {"destination": destination, "form": form})


@require_POST
@requires(MANAGE_DESTINATIONS)
def destination_test(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    form = forms.TestEventForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an event type to send.")
        return redirect("destination_detail", pk=pk)
    delivery = services.destination_send_test(destination=destination, event_type=form.cleaned_data["event_type"])
    if delivery.status == Delivery.Status.DELIVERED:
        messages.success(request, f"Test {delivery.event_type} delivered (HTTP {delivery.last_status_code}).")
    elif delivery.status == Delivery.Status.DEAD:
        messages.error(request, f"Test {delivery.event_type} failed: {delivery.last_error}")
    else:
        messages.info(request, f"Test {delivery.event_type} queued; it appears in the log below within seconds.")
    return redirect("destination_detail", pk=pk)


# --- Mappings ----------------------------------------------------------------------------------------------
def _event_type(event_type: str) -> str:
    if event_type not in Event.Type.values:
        raise Http404("No such event type.")
    return event_type


def _pretty(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str)


@require_http_methods(["GET", "POST"])
@requires(MANAGE_DESTINATIONS)
def mapping_edit(request: HttpRequest, pk: int, event_type: str) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    event_type = _event_type(event_type)
    rows = services.mapping_rows(destination, event_type)
    errors: list[str] = []
    if request.method == "POST":
        posted = forms.rows_from(forms.mapping_formset([], request.POST))
        if posted is None:
            errors = ["The form was incomplete; reload the page and try again."]
        else:
            rows = posted
            try:
                if request.POST.get("action") == "save":
                    services.mapping_save(destination=destination, event_type=event_type, rows=rows)
                    messages.success(request, f"Mapping for {event_type} saved ({len(rows)} fields).")
                    return redirect("destination_detail", pk=pk)
            except services.MappingInvalid as exc:
                errors = exc.errors
    try:
        preview = services.mapping_preview(destination=destination, event_type=event_type, rows=rows)
    except services.MappingInvalid as exc:
        preview, errors = None, errors or exc.errors
    return render(request, "destinations/mapping_form.html", {
        "destination": destination, "event_type": event_type, "formset": forms.mapping_formset(rows),
        "errors": errors, "preview": _pretty(preview) if preview else "",
        "sample": _pretty(services.sample_for(destination, event_type)),
    })


@require_POST
@requires(MANAGE_DESTINATIONS)
def mapping_preview(request: HttpRequest, pk: int, event_type: str) -> JsonResponse:
    destination = get_object_or_404(Destination, pk=pk)
    rows = forms.rows_from(forms.mapping_formset([], request.POST))
    if rows is None:
        return JsonResponse({"ok": False, "errors": ["The form was incomplete; reload the page."]}, status=400)
    try:
        body = services.mapping_preview(destination=destination, event_type=_event_type(event_type), rows=rows)
    except services.MappingInvalid as exc:
        return JsonResponse({"ok": False, "errors": exc.errors})
    return JsonResponse({"ok": True, "body": body})


# --- Redelivery --------------------------------------------------------------------------------------------
@require_POST
@requires(MANAGE_DESTINATIONS)
def delivery_redeliver(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=delivery_id, destination_id=pk)
    if sending.delivery_redeliver(delivery=delivery):
        messages.success(request, f"Delivery {delivery.message_id} is being sent again.")
    else:
        messages.warning(request, "That delivery is being sent right now; try again in a minute.")
    return redirect("destination_detail", pk=pk)


@require_POST
@requires(MANAGE_DESTINATIONS)
def deliveries_redeliver_failed(request: HttpRequest, pk: int) -> HttpResponse:
    destination = get_object_or_404(Destination, pk=pk)
    count = sending.deliveries_redeliver_failed(destination=destination)
    messages.success(request, f"{count} failed deliveries are being sent again, in order.")
    return redirect("destination_detail", pk=pk)
