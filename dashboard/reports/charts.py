"""Charts drawn on the server as SVG, so the HTML page, its print, the PDF and the mail need no script.

One line chart per metric: a line per platform and the all-platform total, the previous period dashed
(day n against day n). Gaps (None) break a line; they are never drawn as zero."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PLATFORM_COLOURS = {"facebook": "#1f5fbf", "instagram": "#b5317d", "linkedin": "#0a66c2", "google": "#188038",
                    "youtube": "#c4302b", "tiktok": "#111111", "pinterest": "#a8071a", "twitter": "#444444"}
OTHER_COLOURS = ("#6b4fbb", "#b26b00", "#2a7f7f", "#7a5c3e")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 220, 48, 12, 12, 28


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _short(value: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:g}"


def _path(values: list[float | None], x, y) -> str:
    parts, pen_down = [], False
    for index, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x(index):.1f},{y(value):.1f}")
        pen_down = True
    return " ".join(parts)


def platform_colour(platform: str, index: int) -> str:
    return PLATFORM_COLOURS.get(platform, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def line_chart(*, dates: list[str], lines: list[dict[str, Any]], title: str, accent: str) -> SafeString:
    """`lines`: [{"label", "values", "colour"?, "dashed"?, "total"?}] over `dates` (ISO days)."""
    count = max(len(dates), 1)
    top = _nice_max(max((v for line in lines for v in line["values"] if v is not None), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
           f'aria-label="{escape(title)}" class="chart-svg" font-family="sans-serif" font-size="11">']
    for step in range(5):
        value = top * step / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                   f'stroke="#e3e6ec" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#5a6272">'
                   f'{escape(_short(value))}</text>')
    if dates:
        ticks = sorted({0, count - 1, *range(0, count, max(1, count // 6))})
        for index in ticks:
            anchor = "start" if index == 0 and count > 1 else "end" if index == count - 1 and count > 1 else "middle"
            out.append(f'<text x="{x(index):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" fill="#5a6272">'
                       f'{escape(dates[index][5:])}</text>')
    for position, line in enumerate(lines):
        colour = accent if line.get("total") else line.get("colour") or platform_colour(line["label"], position)
        path = _path(line["values"], x, y)
        if not path:
            continue
        dash = ' stroke-dasharray="5 4"' if line.get("dashed") else ""
        width = 2.5 if line.get("total") else 1.6
        out.append(f'<path d="{path}" fill="none" stroke="{escape(colour)}" stroke-width="{width}"{dash}/>')
        if count == 1 or sum(v is not None for v in line["values"]) == 1:
            for index, value in enumerate(line["values"]):
                if value is not None:
                    out.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{escape(colour)}"/>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 -- every text and attribute above is escaped or a number


def metric_chart(metric: str, data: dict[str, Any], label: str, accent: str) -> dict[str, Any]:
    dates = [point["date"] for point in data["series"]]
    lines = [{"label": platform, "values": [p["value"] for p in series["series"]]}
             for platform, series in data["by_platform"].items()]
    legend = [{"label": line["label"], "colour": platform_colour(line["label"], i)} for i, line in enumerate(lines)]
    if len(lines) != 1:
        lines.append({"label": "All platforms", "values": [p["value"] for p in data["series"]], "total": True})
        legend.append({"label": "All platforms", "colour": accent})
    if data.get("previous_series"):
        lines.append({"label": "Previous period", "values": [p["value"] for p in data["previous_series"]],
                      "dashed": True, "colour": "#8a93a6"})
        legend.append({"label": "Previous period", "colour": "#8a93a6", "dashed": True})
    return {"metric": metric, "label": label, "total": data["total"], "legend": legend,
            "svg": line_chart(dates=dates, lines=lines, title=f"{label} per day", accent=accent)}
