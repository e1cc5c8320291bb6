"""The locations overview (`/`): every visible location with its tags, new tags, freshness and sync status."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.params import Params
from dashboard.roles import BROWSE, requires
from dashboard.selectors.locations import OverviewRows, locations_visible
from integrations.models.mirror import NEW_TAG_DAYS

# Rows per page of the overview: each row's goals, counts and runs are read for its page only (an agency of
# 200 locations is four pages, and every page costs what the first does).
PAGE_SIZE = 50


@require_GET
@requires(BROWSE)
def locations_overview(request: HttpRequest) -> HttpResponse:
    params = Params(request.GET, strict=False)
    q = params.text("q")
    page = params.page()
    params.report(request)
    rows = OverviewRows(user=request.user, q=q)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    locations = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    any_location = bool(locations) or (bool(q) and locations_visible(request.user).exists())

    def query(number: int) -> str:
        return urlencode({**({"q": q} if q else {}), "page": number})

    return render(request, "dashboard/locations.html", {
        "locations": locations, "q": q, "any_location": any_location, "new_days": NEW_TAG_DAYS,
        "page": page, "pages": pages, "count": len(rows), "page_size": PAGE_SIZE,
        "prev_query": query(page - 1) if page > 1 else "", "next_query": query(page + 1) if page < pages else "",
    })
