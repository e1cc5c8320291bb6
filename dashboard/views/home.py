from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.roles import BROWSE, requires


@requires(BROWSE)
def locations_overview(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/locations.html", {"locations": []})
