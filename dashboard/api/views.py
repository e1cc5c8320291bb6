"""The JSON API (README.md, "Browsing and the JSON API"): locations, tags, one tag, run progress, and the
refresh an admin starts.
Statistics live in views_statistics.py. Views stay thin: selectors read, services write."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dashboard import roles
from dashboard.api.base import ApiError, api_params, api_view, page_params, paginated
from dashboard.exports import csv_response
from dashboard.selectors.locations import OverviewRows, location_as_dict, location_for
from dashboard.selectors.tag_keyset import keyset_page, navigation, page_links
from dashboard.selectors.tags import (
    TagFilter,
    TagPage,
    search_window,
    tag_as_dict,
    tag_details,
    tag_get,
    tags_for_location,
    tags_total,
    whole_page,
)
from integrations.models import Location, SyncRun, Tag
from integrations.models.mirror import new_since
from integrations.sync.manual import RefreshRefused, refresh_location_request

TAG_COLUMNS = ("id", "name", "created_at", "updated_at", "first_seen_at", "removed_at", "is_new")


def wants_csv(request: HttpRequest) -> bool:
    """`?format=csv`: the same rows as CSV, for those who may export."""
    if api_params(request).choice("format", ("json", "csv"), default="json") != "csv":
        return False
    if not roles.has_permission(request.user, roles.EXPORT):
        raise ApiError(403, "forbidden", "Your role does not allow exports.")
    return True


@api_view(roles.BROWSE)
def locations_list(request: HttpRequest) -> JsonResponse:
    rows = OverviewRows(user=request.user, q=api_params(request).text("q"))
    return JsonResponse(paginated(request, rows, location_as_dict))


@api_view(roles.BROWSE)
def tags_list(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    filters = TagFilter.from_query(api_params(request))
    now = timezone.now()
    tags = tags_for_location(location=location, filters=filters, now=now)
    if wants_csv(request):
        return tags_csv(location, tags, now)
    nav = navigation(api_params(request), filters.sort)

    def serialize(tag: Tag) -> dict:
        return tag_as_dict(tag, now)

    if "page" in request.GET and not nav.given:  # numbered pages, as before cursors: still served
        count, exact = tags_total(location, filters, tags)
        return JsonResponse({**paginated(request, TagPage(tags), serialize, count=count), "count_exact": exact})
    size = page_params(request)[1]
    page = keyset_page(tags, sort=filters.sort, size=size, after=nav.after, before=nav.before, last=nav.last,
                       window=search_window(location, filters, now))
    count, exact = tags_total(location, filters, tags, whole=whole_page(page), shown=len(page.rows))

    def link(query: dict[str, str] | None) -> str | None:
        if query is None:
            return None
        return request.build_absolute_uri(f"{request.path}?{urlencode({**query, 'page_size': size})}")

    links = page_links(page, filters.as_query())
    return JsonResponse({"count": count, "count_exact": exact, "partial": page.cut, "next": link(links["next"]),
                         "previous": link(links["previous"]), "first": link(filters.as_query()),
                         "last": link({**filters.as_query(), "last": "1"}),
                         "results": [serialize(tag) for tag in page.rows]})


def tags_csv(location: Location, tags, now) -> HttpResponse:
    fields = ("tag_id", "name", "created_at", "updated_at", "first_seen_at", "removed_at", "is_baseline")
    cutoff = new_since(now)

    def rows():
        yield TAG_COLUMNS
        for tag_id, name, created, updated, first_seen, removed, baseline in tags.values_list(*fields).iterator(
                chunk_size=5000):
            is_new = Tag.counts_as_new(removed_at=removed, is_baseline=baseline, first_seen_at=first_seen,
                                       since=cutoff)
            yield [tag_id, name, *(v.isoformat() if v else None for v in (created, updated, first_seen, removed)),
                   "true" if is_new else "false"]

    return csv_response(rows(), filename=f"tags-{location.location_id}-{now:%Y%m%d}.csv")


@api_view(roles.BROWSE)
def tag_detail(request: HttpRequest, location_id: str, tag_id: str) -> JsonResponse:
    location = location_for(user=request.user, location_id=location_id)
    tag = tag_get(location=location, tag_id=tag_id)
    return JsonResponse({**tag_as_dict(tag), "details": tag_details(tag)})


MARKETER_RUN_FIELDS = ("id", "status", "progress", "attempt", "next_attempt_at")


def run_as_dict_for(user, run: SyncRun) -> dict:
    """The whole run for those who see Operations; others (marketers) get its status and progress only (and,
    while it waits to try again, which attempt and when): its error text and counts are internal (HighLevel's
    answers, URLs, trace ids)."""
    answer = run.as_api_dict()
    if roles.has_permission(user, roles.VIEW_OPERATIONS):
        return answer
    return {key: answer[key] for key in MARKETER_RUN_FIELDS}


@api_view(roles.BROWSE)
def run_detail(request: HttpRequest, run_id: int) -> JsonResponse:
    run = get_object_or_404(SyncRun, pk=run_id)
    return JsonResponse(run_as_dict_for(request.user, run))


@api_view(roles.REFRESH, methods=("POST",))
def location_refresh(request: HttpRequest, location_id: str) -> JsonResponse:
    location = location_for(user=request.user, location_id=location_id)
    try:
        run = refresh_location_request(location, actor=request.user)
    except RefreshRefused as exc:
        raise ApiError(409, "cannot_refresh", str(exc)) from None
    return JsonResponse(run.as_api_dict(), status=202)
