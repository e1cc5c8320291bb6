"""Tags of a location (search, sort, filters, pages; a fragment for the page's script), one tag, and the
"Refresh now" form for browsers without JavaScript."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dashboard.params import Params
from dashboard.roles import BROWSE, REFRESH, requires
from dashboard.selectors.locations import live_runs, location_for, location_freshness
from dashboard.selectors.performance_page import tag_performance_context
from dashboard.selectors.tag_keyset import keyset_page, navigation
from dashboard.selectors.tags import (
    POSTS_LIMIT,
    SHORT_SEARCH_ROWS,
    SORT_LABELS,
    STATUSES,
    TagFilter,
    detail_fields,
    search_window,
    short_search,
    tag_details,
    tag_get,
    tag_history,
    tag_posts,
    tag_row,
    tags_for_location,
    tags_total,
    whole_page,
)
from dashboard.views.tag_pages import PAGE_SIZE, keyset_context, numbered_page
from integrations.models.mirror import NEW_TAG_DAYS
from integrations.sync.manual import RefreshRefused, refresh_location_request


@require_GET
@requires(BROWSE)
def tag_list(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    params = Params(request.GET, strict=False)
    filters = TagFilter.from_query(params)
    partial = params.choice("partial", ("1", "0"), default="0") == "1"
    now = timezone.now()
    tags = tags_for_location(location=location, filters=filters, now=now)
    state = filters.as_query()
    nav = navigation(params, filters.sort)
    window = None
    if "page" in request.GET and not nav.given:  # an old numbered link: still served (an OFFSET)
        count, exact = tags_total(location, filters, tags)
        context = numbered_page(tags, params.page(), count, exact, state)
    else:
        window = search_window(location, filters, now)
        page = keyset_page(tags, sort=filters.sort, size=PAGE_SIZE, after=nav.after, before=nav.before,
                           last=nav.last, window=window)
        count, exact = tags_total(location, filters, tags, whole=whole_page(page), shown=len(page.rows))
        context = keyset_context(page, state)
    context["rows"] = [tag_row(tag, now) for tag in context["rows"]]
    context.update({
        "location": location, "filters": filters, "count": count, "exact": exact,
        "export_query": urlencode({**state, "format": "csv"}), "new_days": NEW_TAG_DAYS,
        "tag_base": reverse("location_tags", args=[location.location_id]),
        "back": f"?{urlencode({'back': urlencode(state)})}" if state else "",
        "short_search": short_search(filters), "short_rows": window.rows if window else SHORT_SEARCH_ROWS,
    })
    if partial:  # the page's script asks for this with the values it set: nothing to report
        return render(request, "tags/_results.html", context)
    params.report(request)
    run_id = live_runs([location.pk]).get(location.pk)
    context.update({
        "sorts": SORT_LABELS, "statuses": STATUSES, "fresh": location_freshness(location, now),
        "run_id": run_id, "poll": {"run_id": run_id,
                                   "refresh_url": reverse("api_refresh", args=[location.location_id]),
                                   "run_url": reverse("api_run", args=[0])},
    })
    return render(request, "tags/list.html", context)


@require_GET
@requires(BROWSE)
def tag_show(request: HttpRequest, location_id: str, tag_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    tag = tag_get(location=location, tag_id=tag_id)
    details = tag_details(tag)
    return render(request, "tags/detail.html", {
        **tag_performance_context(request, location, tag),
        "location": location, "tag": tag, "is_new": tag.is_new(), "details": details,
        "fields": detail_fields(details), "listing_fields": detail_fields(tag.raw),
        "history": tag_history(location=location, tag=tag), "posts": tag_posts(location=location, tag=tag),
        "history_days": settings.RETENTION_EVENTS_DAYS,
        "posts_limit": POSTS_LIMIT,
        "back_query": Params(request.GET, strict=False).text("back", max_length=500),
        "raw_details": json.dumps(details, indent=2, sort_keys=True, default=str),
        "raw_listing": json.dumps(tag.raw, indent=2, sort_keys=True, default=str),
    })


@require_POST
@requires(REFRESH)
def location_refresh(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    target = reverse("location_tags", args=[location.location_id])
    try:
        run = refresh_location_request(location, actor=request.user)
    except RefreshRefused as exc:
        messages.error(request, str(exc))
        return redirect(target)
    messages.success(request, f"Refresh started (run #{run.pk}). Reload to see its progress.")
    return redirect(target)
