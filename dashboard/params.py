"""Query parameters, read the same typed way by the pages and the JSON API.

`Params(request.GET, strict=True)` (the API): the first bad value raises `BadParameter`, which `api_view`
turns into `400 {"error": {"code": "bad_request", "message": ...}}`.
`Params(request.GET, strict=False)` (the pages): a bad value is replaced by its default and noted in
`problems`; `report(request)` shows them above the page ("… was ignored: …"), so a mistyped or stale link
still opens the page, with its defaults.

Bounds keep every value inside what Python's dates and the databases' integers hold: dates between
MIN_DATE and MAX_DATE, page numbers up to MAX_PAGE, text without NUL (PostgreSQL refuses it) and short.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)
MAX_PAGE = 100_000
DATE_RANGE_TEXT = f"between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}"


class BadParameter(ValueError):
    def __init__(self, name: str, message: str):
        self.name, self.message = name, message
        super().__init__(message)


class Params:
    """Typed reading of one query string; see the module docstring for strict and lenient."""

    def __init__(self, query: QueryDict, *, strict: bool):
        self.query, self.strict = query, strict
        self.problems: list[str] = []

    def fail(self, name: str, message: str) -> None:
        """A bad value: raise (strict) or note it (lenient; the caller then uses its default)."""
        if self.strict:
            raise BadParameter(name, message)
        self.problems.append(message)

    def raw(self, name: str) -> str:
        return self.query.get(name, "")

    def text(self, name: str, *, max_length: int = 100) -> str:
        value = self.raw(name).strip()
        if "\x00" in value:
            self.fail(name, f"{name} must not contain a NUL character.")
            return ""
        return value[:max_length]

    def choice(self, name: str, choices: Iterable[str], *, default: str) -> str:
        value = self.raw(name).strip()
        if not value:
            return default
        allowed = list(choices)
        if value not in allowed:
            self.fail(name, f"{name} must be one of {', '.join(c for c in allowed if c)}.")
            return default
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.raw(name).strip()
        if not value:
            return default
        try:
            number = int(value) if value.lstrip("+-").isdigit() else None
        except ValueError:  # more digits than int() reads
            number = None
        if number is None or not minimum <= number <= maximum:
            self.fail(name, f"{name} must be a whole number from {minimum} to {maximum}.")
            return default
        return number

    def page(self, name: str = "page") -> int:
        return self.integer(name, default=1, minimum=1, maximum=MAX_PAGE)

    def day(self, name: str) -> date | None:
        """A date as YYYY-MM-DD within the bounds; None when absent or bad (after fail())."""
        value = self.raw(name).strip()
        if not value:
            return None
        try:
            parsed = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            parsed = None
        if parsed is None or not MIN_DATE <= parsed <= MAX_DATE:
            self.fail(name, f"{name} must be a real date as YYYY-MM-DD, {DATE_RANGE_TEXT}.")
            return None
        return parsed

    def report(self, request: HttpRequest) -> None:
        """Show a page's ignored values to its reader (lenient only)."""
        for problem in dict.fromkeys(self.problems):
            messages.warning(request, f"Part of this page's address was ignored, and its default used: {problem}")


class DayField(forms.DateField):
    """A form's date within the bounds every page and the API share (MIN_DATE to MAX_DATE)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date", "min": MIN_DATE.isoformat(),
                                                           "max": MAX_DATE.isoformat()}))
        super().__init__(**kwargs)
        message = f"Enter a date {DATE_RANGE_TEXT}."
        self.validators += [MinValueValidator(MIN_DATE, message), MaxValueValidator(MAX_DATE, message)]


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """400: JSON on the API, a page saying what was wrong elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "bad_request", "message": message}}, status=400)
    return render(request, "errors/bad_request.html", {"message": message}, status=400)


def query_problem(query: QueryDict, path: str) -> str:
    """Why no view can read this query string safely, or ''."""
    for key, values in query.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return "The address holds a NUL character, which no setting of this page can contain."
    if path.startswith("/admin/") and query.get("_to_field", None) == "":
        return "_to_field must name a field."  # Django's admin answers an empty one with a 500
    return ""
