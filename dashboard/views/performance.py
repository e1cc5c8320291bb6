"""Tag performance pages of one location: the scorecards (docs/architecture.md, "Tag performance") and the
best time to post. Selectors compute; these views read the query string and render."""

from __future__ import annotations

import html

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from dashboard.params import Params
from dashboard.roles import BROWSE, requires
from dashboard.selectors.best_time import MIN_SAMPLE, best_time_heatmap
from dashboard.selectors.locations import location_for
from dashboard.selectors.performance import DEFAULT_SORT, SMALL_SAMPLE, SORTS, scorecard_medians, tag_scorecard
from dashboard.selectors.performance_params import performance_query
from dashboard.selectors.performance_sums import INSIGHT_PLATFORMS, INSIGHTS_NOTE
from dashboard.selectors.statistics_range import PRESETS, accounts_of
from integrations.models import Tag

PAGE_SIZE = 50
COLUMNS = (  # (sort key, header, tooltip) in the table's order
    ("name", "Tag", ""),
    ("posts", "Published", "Published posts in the range"),
    ("failed", "Failed", ""),
    ("scheduled", "Sched.", "Scheduled posts in the range"),
    ("engagement", "Engagement", "Likes + comments + shares of its published posts"),
    ("engagement_per_post", "Per post", "Mean engagement per published post with insights"),
    ("median_engagement", "Median", "Median engagement per published post with insights"),
    ("likes_per_post", "Likes", "Mean likes per post with insights (hover a figure for its median)"),
    ("comments_per_post", "Comments", "Mean comments per post with insights (hover a figure for its median)"),
    ("shares_per_post", "Shares", "Mean shares per post with insights (hover a figure for its median)"),
    ("lift_pct", "Lift", "Engagement per post against the location's posts without this tag, same platforms"),
    ("change_pct", "Change", "Engagement per post against the previous period of the same length"),
    ("insight_coverage", "Insights", "Share of its published posts that carry insights"),
)


def _controls(location, query) -> dict:
    accounts = accounts_of([location.pk])
    return {"location": location, "query": query, "presets": PRESETS, "accounts": list(accounts.values()),
            "platforms": sorted({a.platform for a in accounts.values()}), "insights_note": INSIGHTS_NOTE,
            "insight_platforms": INSIGHT_PLATFORMS}


@require_GET
@requires(BROWSE)
def tag_performance_page(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    params = Params(request.GET, strict=False)
    query = performance_query(params, location=location, sorts=SORTS, default_sort=DEFAULT_SORT)
    card = tag_scorecard(location=location, start=query.start, end=query.end, platform=query.stats.platform,
                         account=query.stats.account, q=query.q, sort=query.sort, medians=None)
    pages = max(1, -(-len(card.rows) // PAGE_SIZE))
    page = min(params.page(), pages)
    params.report(request)
    window = slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)
    scorecard_medians(card, card.rows[window], platform=query.stats.platform, account=query.stats.account)
    ranked = [r for r in card.rows if r.engagement_per_post is not None and not r.small_sample]
    ranked.sort(key=lambda r: -r.engagement_per_post)
    columns = [{"key": key, "label": label, "title": title,
                "sorted": query.sort.lstrip("-") == key, "descending": query.sort.startswith("-"),
                "link": query.as_query(sort=(key if query.sort == f"-{key}" else f"-{key}"), page="")}
               for key, label, title in COLUMNS]
    context = _controls(location, query)
    context.update({
        "card": card, "rows": card.rows[window], "columns": columns, "count": len(card.rows), "page": page,
        "pages": pages, "first_row": window.start + 1, "last_row": window.start + len(card.rows[window]),
        "prev_query": query.as_query(page=str(page - 1)) if page > 1 else None,
        "next_query": query.as_query(page=str(page + 1)) if page < pages else None,
        "export_query": query.as_query(format="csv"), "small_sample": SMALL_SAMPLE,
        "best": ranked[:3], "worst": ranked[3:][-3:][::-1],  # never a best tag again
        "tag_count": Tag.objects.filter(location=location, removed_at__isnull=True).count(),
    })
    return render(request, "performance/scorecard.html", context)


def _tag_options(location, selected: str) -> str:
    """The tag filter's <option>s, joined in Python: up to 2,000 tags through the template engine's loop cost
    more than the heatmap's query (bench/performance.py)."""
    tags = Tag.objects.filter(location=location, removed_at__isnull=True).order_by("sort_name").values_list(
        "tag_id", "name")[:2000]
    # html.escape is what Django's escape calls, without its lazy-string wrapper (10x faster here).
    return mark_safe("".join(  # noqa: S308 -- every value is escaped
        f'<option value="{html.escape(tag_id)}"{" selected" if tag_id == selected else ""}>{html.escape(name)}</option>'
        for tag_id, name in tags))


@require_GET
@requires(BROWSE)
def best_time_page(request: HttpRequest, location_id: str) -> HttpResponse:
    location = location_for(user=request.user, location_id=location_id)
    params = Params(request.GET, strict=False)
    query = performance_query(params, location=location, sorts={}, default_sort="")
    params.report(request)
    heatmap = best_time_heatmap(location=location, start=query.start, end=query.end, platform=query.stats.platform,
                                account=query.stats.account, tag_id=query.tag_id)
    context = _controls(location, query)
    top = heatmap.top
    context.update({
        "heatmap": heatmap, "min_sample": MIN_SAMPLE, "hours": range(24),
        # Each cell with its shade (0 to 100, against the best cell): the table's colour, its text says the same.
        "grid": [(name, [(c, round((c.per_post or 0) / top * 10) * 10 if top and c.enough else 0) for c in cells])
                 for name, cells in heatmap.rows],
        "tag_options": _tag_options(location, query.tag_id),
    })
    return render(request, "performance/best_time.html", context)
