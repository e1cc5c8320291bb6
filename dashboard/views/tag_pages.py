"""The pager of the tag list: keyset pages (first, previous, next, last) and the old numbered pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet

from dashboard.selectors.tag_keyset import KeysetPage, page_links
from dashboard.selectors.tags import TagPage
from integrations.models import Tag

PAGE_SIZE = 50


def keyset_context(page: KeysetPage, state: dict[str, str]) -> dict[str, Any]:
    links = page_links(page, state)
    return {"rows": page.rows, "numbered": False, "first_row": None, "cut": page.cut,
            **{f"{name}_query": urlencode(query) if query is not None else None for name, query in links.items()}}


def numbered_page(tags: QuerySet[Tag], wanted: int, count: int, exact: bool, state: dict[str, str]
                  ) -> dict[str, Any]:
    """Page `wanted` of an old `?page=N` link (bookmarks from before keyset pages)."""
    pages = max(1, -(-count // PAGE_SIZE))
    page = min(wanted, pages) if exact else wanted
    rows = TagPage(tags)[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    return {
        "rows": rows, "numbered": True, "page": page, "pages": pages,
        "first_row": (page - 1) * PAGE_SIZE + 1, "last_row": (page - 1) * PAGE_SIZE + len(rows),
        "first_query": urlencode(state) if page > 1 else None,
        "previous_query": urlencode({**state, "page": page - 1}) if page > 1 else None,
        "next_query": urlencode({**state, "page": page + 1}) if page < pages or (not exact and rows) else None,
        "last_query": urlencode({**state, "last": "1"}) if page < pages else None,
    }
