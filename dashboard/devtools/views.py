"""The Destinations page's "Add the local demo receiver" button (DEBUG only)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dashboard.devtools.receiver import DEMO_RECEIVER_URL, DEMO_SECRET
from dashboard.roles import MANAGE_DESTINATIONS, requires
from integrations.delivery import services
from integrations.models import Event


@require_POST
@requires(MANAGE_DESTINATIONS)
def destination_add_demo(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404("The demo receiver exists under DEBUG only.")
    destination, _ = services.destination_create(
        name="Local demo receiver", url=DEMO_RECEIVER_URL, event_types=Event.Type.values,
        created_by=request.user, secret=DEMO_SECRET,
    )
    messages.success(request, f"Added the demo receiver: open {DEMO_RECEIVER_URL} to watch what arrives.")
    return redirect("destination_detail", pk=destination.pk)
