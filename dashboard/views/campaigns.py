"""Campaigns across locations (tags of one name), and the admin's merge and split of spellings."""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from dashboard.campaign_aliases import AliasRefused, campaign_merge, campaign_split
from dashboard.clientip import client_ip
from dashboard.params import Params
from dashboard.roles import BROWSE, MANAGE_CAMPAIGNS, has_permission, requires
from dashboard.selectors.campaigns import (
    DEFAULT_SORT,
    SORTS,
    campaign_choices,
    campaign_get,
    campaign_named,
    campaigns_list,
)
from dashboard.selectors.locations import locations_visible
from dashboard.selectors.performance_params import performance_query
from dashboard.selectors.performance_sums import INSIGHTS_NOTE
from dashboard.selectors.statistics_range import PRESETS
from integrations.connections.audit import Actor

PAGE_SIZE = 50
COLUMNS = (("name", "Campaign"), ("locations", "Locations"), ("posts", "Published"), ("engagement", "Engagement"),
           ("engagement_per_post", "Per post"), ("lift_pct", "Lift"), ("change_pct", "Change"),
           ("insight_coverage", "Insights"))


def _base(request: HttpRequest, query) -> dict:
    return {"query": query, "presets": PRESETS, "platforms": None, "accounts": None, "insights_note": INSIGHTS_NOTE}


@require_GET
@requires(BROWSE)
def campaign_list(request: HttpRequest) -> HttpResponse:
    locations = list(locations_visible(request.user))
    params = Params(request.GET, strict=False)
    query = performance_query(params, location=None, sorts=SORTS, default_sort=DEFAULT_SORT)
    shared_only = params.choice("shared", ("1", "0"), default="0") == "1"
    rows = campaigns_list(locations=locations, start=query.start, end=query.end, q=query.q, sort=query.sort,
                          min_locations=2 if shared_only else 1)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(params.page(), pages)
    params.report(request)
    window = slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
    extra = {"shared": "1"} if shared_only else {}
    context = _base(request, query)
    context.update({
        "rows": rows[window], "count": len(rows), "page": page, "pages": pages, "shared_only": shared_only,
        "first_row": window.start + 1, "last_row": window.start + len(rows[window]),
        "columns": [{"key": key, "label": label, "sorted": query.sort.lstrip("-") == key,
                     "descending": query.sort.startswith("-"),
                     "link": query.as_query(sort=key if query.sort == f"-{key}" else f"-{key}", **extra)}
                    for key, label in COLUMNS],
        "prev_query": query.as_query(page=str(page - 1), **extra) if page > 1 else None,
        "next_query": query.as_query(page=str(page + 1), **extra) if page < pages else None,
        "export_query": query.as_query(format="csv"), "location_total": len(locations),
        "keep": parse_qsl(query.as_query()),  # the state the "shared" checkbox's form carries along
    })
    return render(request, "campaigns/list.html", context)


@require_GET
@requires(BROWSE)
def campaign_show(request: HttpRequest, slug: str) -> HttpResponse:
    locations = list(locations_visible(request.user))
    params = Params(request.GET, strict=False)
    query = performance_query(params, location=None, sorts={}, default_sort="")
    params.report(request)
    campaign = campaign_get(locations=locations, slug=slug, start=query.start, end=query.end)
    if campaign.slug != slug:
        return redirect(f"{reverse('campaign_detail', args=[campaign.slug])}?{query.as_query()}")
    can_edit = has_permission(request.user, MANAGE_CAMPAIGNS)
    context = _base(request, query)
    context.update({
        "campaign": campaign, "ranked": campaign.ranked_locations(), "can_edit": can_edit,
        "choices": campaign_choices(locations=locations, exclude=campaign.slug) if can_edit else [],
        "export_query": query.as_query(format="csv"),
    })
    return render(request, "campaigns/detail.html", context)


def _alias_change(request: HttpRequest, slug: str, change) -> HttpResponse:
    merged = request.POST.get("merged", "").strip()[:300]
    if change is campaign_merge and merged:  # a typed name (or a suggested slug): the campaign it names
        found = campaign_named(locations=list(locations_visible(request.user)), typed=merged)
        if found is None:
            messages.error(request, f"No tag in your locations is named “{merged}”: type a name as it is spelled "
                                    "on a tag (capitals and spaces do not matter).")
            return redirect("campaign_detail", slug=slug)
        merged = found
    try:
        change(into=slug, merged=merged, actor=Actor(user=request.user, ip_address=client_ip(request)))
    except AliasRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Campaign names merged." if change is campaign_merge else "Name split off again.")
    return redirect("campaign_detail", slug=slug)


@require_POST
@requires(MANAGE_CAMPAIGNS)
def campaign_merge_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _alias_change(request, slug, campaign_merge)


@require_POST
@requires(MANAGE_CAMPAIGNS)
def campaign_split_view(request: HttpRequest, slug: str) -> HttpResponse:
    return _alias_change(request, slug, campaign_split)
