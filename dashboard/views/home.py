"""The locations overview (`/`): every visible location with its tags, new tags, freshness and sync status."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.params import Params
from dashboard.roles import BROWSE, requires
from dashboard.selectors.locations import locations_visible, locations_with_counts
from integrations.models.mirror import NEW_TAG_DAYS


@require_GET
@requires(BROWSE)
def locations_overview(request: HttpRequest) -> HttpResponse:
    params = Params(request.GET, strict=False)
    q = params.text("q")
    params.report(request)
    locations = locations_with_counts(user=request.user, q=q)
    any_location = bool(locations) or (bool(q) and locations_visible(request.user).exists())
    return render(request, "dashboard/locations.html", {
        "locations": locations, "q": q, "any_location": any_location, "new_days": NEW_TAG_DAYS,
    })
