"""A snapshot rendered: the HTML document (page, print, share page), the PDF (WeasyPrint, from the same
template, no browser), and the CSV of the data behind it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from dashboard.reports.branding import branding_context
from dashboard.reports.charts import metric_chart
from dashboard.reports.models import SECTIONS, Branding

AGE_ORDER = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


def _shares(values: dict[str, Any], order: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    keys = [k for k in order if k in values] + sorted(k for k in values if k not in order)
    total = sum(v or 0 for v in values.values())
    return [{"label": k, "value": values[k], "pct": round((values[k] or 0) * 100 / total, 1) if total else 0}
            for k in keys]


CHARTS_KEPT_SECONDS = 24 * 3600


def _charts(snapshot: dict[str, Any], accent: str) -> list[dict[str, Any]]:
    labels = snapshot.get("metric_labels", {})
    return [metric_chart(m, data, labels.get(m, m.capitalize()), accent)
            for m, data in snapshot.get("metrics", {}).items()]


def _charts_kept(snapshot: dict[str, Any], accent: str, key: str) -> list[dict[str, Any]]:
    """A fixed snapshot's charts (a share link's) drawn once and kept in the cache: drawing the SVG is most of
    a share page's time. The accent is in the key, so a branding change draws them again."""
    cache_key = f"report-charts:v1:{key}:{accent}"
    charts = cache.get(cache_key)
    if charts is None:
        charts = _charts(snapshot, accent)
        cache.set(cache_key, [{**c, "svg": str(c["svg"])} for c in charts], CHARTS_KEPT_SECONDS)
    return [{**c, "svg": mark_safe(c["svg"])} for c in charts]  # noqa: S308 -- drawn by charts.py, escaped there


def report_context(snapshot: dict[str, Any], branding: Branding | None = None, *,
                   charts_key: str | None = None) -> dict[str, Any]:
    """`charts_key` names a snapshot that never changes (a share link's), whose charts may be kept."""
    brand = branding_context(branding or Branding.current())
    sections = snapshot.get("sections", [])
    charts = []
    if "charts" in sections:
        charts = (_charts_kept(snapshot, brand["accent"], charts_key) if charts_key
                  else _charts(snapshot, brand["accent"]))
    demographics = snapshot.get("demographics")
    return {
        "r": snapshot, "brand": brand, "sections": sections, "section_labels": SECTIONS, "charts": charts,
        "gender": _shares(demographics.get("gender") or {}) if demographics else [],
        "age": _shares(demographics.get("age") or {}, AGE_ORDER) if demographics else [],
    }


def report_html(snapshot: dict[str, Any], *, branding: Branding | None = None, standalone: bool = True,
                extra: dict[str, Any] | None = None, charts_key: str | None = None) -> str:
    template = "reports/document.html" if standalone else "reports/_body.html"
    return render_to_string(template, {**report_context(snapshot, branding, charts_key=charts_key), **(extra or {})})


def report_filename(snapshot: dict[str, Any], extension: str) -> str:
    return f"{slugify(snapshot['title']) or 'report'}-{snapshot['period']['start']}.{extension}"


def _no_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint may read the data: URIs the document embeds (the logo) and nothing else: a report never
    makes the server fetch a URL."""
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError("reports load nothing from URLs")


def report_pdf(snapshot: dict[str, Any], *, branding: Branding | None = None) -> bytes:
    from weasyprint import HTML  # imported on use: Pango loads with it

    html = report_html(snapshot, branding=branding, extra={"for_pdf": True})
    return HTML(string=html, url_fetcher=_no_fetching).write_pdf()


def report_csv_rows(snapshot: dict[str, Any]) -> Iterator[list[Any]]:
    """One table for every section's data: section, date, platform, name, metric, value, previous, change."""
    yield ["section", "date", "platform", "name", "metric", "value", "previous_value", "change_pct"]
    period = f"{snapshot['period']['start']}..{snapshot['period']['end']}"
    for kpi in snapshot.get("kpis", []):
        yield ["kpi", period, "all", "", kpi["metric"], kpi["total"], kpi["previous_total"], kpi["change_pct"]]
    for metric, data in snapshot.get("metrics", {}).items():
        for point in data["series"]:
            yield ["daily", point["date"], "all", "", metric, point["value"], None, None]
        for platform, series in data["by_platform"].items():
            for point in series["series"]:
                yield ["daily", point["date"], platform, "", metric, point["value"], None, None]
    posts = snapshot.get("posts") or {}
    for rank in ("top", "bottom"):
        for post in posts.get(rank, []):
            yield [f"{rank}_post", (post["published_at"] or "")[:10], post["platform"], post["summary"],
                   "engagement", post["engagement"], None, None]
    scorecard = snapshot.get("scorecard") or {}
    for row in scorecard.get("rows", []):
        yield [f"scorecard_{scorecard.get('by', 'tag')}", period, "all", row["name"], "engagement_per_post",
               row["engagement_per_post"], row["previous_engagement_per_post"], row["change_pct"]]
        if row.get("lift_pct") is not None:  # older snapshots (campaign rows before lift) carry none
            yield [f"scorecard_{scorecard.get('by', 'tag')}", period, "all", row["name"], "lift_pct",
                   row["lift_pct"], None, None]
    demographics = snapshot.get("demographics") or {}
    for group in ("gender", "age"):
        for key, value in (demographics.get(group) or {}).items():
            yield ["demographics", demographics.get("as_of"), "all", key, group, value, None, None]
