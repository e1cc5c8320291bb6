"""Filters for report templates, which render snapshots (plain JSON: numbers, ISO dates, platform keys), and for
pages that print many numbers (the overview's goals: Django's floatformat and intcomma cost tens of µs each)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template

from integrations.models import Post

register = template.Library()


@register.filter
def figure(value) -> str:
    """1234567 -> '1,234,567', 12.5 -> '12.5'; nothing -> an en dash (not available, never 0)."""
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


@register.filter
def percent(value) -> str:
    """A percentage rounded to a whole number, halves up as floatformat:0 does: 49.5 -> '50'."""
    if value is None or value == "":
        return "\u2013"
    return f"{int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)):,}"


@register.filter
def isodate(value) -> str:
    """An ISO date or timestamp as '3 Mar 2026'."""
    if not value:
        return ""
    try:
        day = datetime.fromisoformat(str(value)).date() if "T" in str(value) else date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {day:%b %Y}"


@register.filter
def platform(value: str) -> str:
    if value in ("all", "All platforms", "Previous period"):
        return "All platforms" if value == "all" else value
    return Post.label_of(value)
