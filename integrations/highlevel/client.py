"""The one HTTP client for HighLevel: auth and Version headers, timeouts, the shared rate limiter, the one
retry policy, typed errors, parsing into dataclasses, pagination as generators, a record per attempt.

Build one per credential from a ClientConfig, handing it a rate limiter (and a recorder)::

    client = HighLevelClient(ClientConfig(base_url=...), token=lambda: connection.access_token(),
                             limiter=limiter, on_unauthorized=connection.refresh, connection_id=connection.pk)
    for tag in client.iter_tags(location_id):
        ...

In the product, `integrations.clients.highlevel_client(...)` builds it from settings with the shared
limiter, the database recorder and the connection hook. `token` is called before every attempt, so a
refresh done elsewhere (or by `on_unauthorized` after a 401) is picked up. The OAuth grants need no token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, TypeVar

from integrations.highlevel import parsing
from integrations.highlevel.errors import BadResponse, NotConfigured
from integrations.highlevel.transport import Transport
from integrations.highlevel.types import (
    STATISTICS_PLATFORMS,
    AccountListing,
    InstalledLocation,
    LocationInfo,
    LocationToken,
    Post,
    Statistics,
    Tag,
    TokenGrant,
)

T = TypeVar("T")
logger = logging.getLogger("integrations.highlevel")

TAGS = "/social-media-posting/{locationId}/tags"
TAG_DETAILS = "/social-media-posting/{locationId}/tags/details"
ACCOUNTS = "/social-media-posting/{locationId}/accounts"
STATISTICS = "/social-media-posting/statistics"
POSTS = "/social-media-posting/{locationId}/posts/list"
TOKEN = "/oauth/token"
LOCATION_TOKEN = "/oauth/locationToken"
INSTALLED_LOCATIONS = "/oauth/installedLocations"
LOCATION = "/locations/{locationId}"

TAG_PAGE_SIZE = 100
DETAILS_BATCH = 50
STATISTICS_MAX_PROFILES = 100
POST_PAGE_SIZE = 50
LOCATION_PAGE_SIZE = 100
# 100,000 pages of 100 is ten million tags: past any real location (1,000,000 tags take 10,001 pages),
# near enough to stop a runaway listing (a server ignoring `skip` is stopped at its second page).
MAX_PAGES = 100_000


def render_instant(value: date | datetime, *, end_of_day: bool = False) -> str:
    """`2025-03-01T00:00:00.000Z` as HighLevel's pages send; a date covers the whole UTC day."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give an aware datetime or a date")
        moment = value.astimezone(UTC)
    else:
        moment = datetime.combine(value, dtime(23, 59, 59, 999000) if end_of_day else dtime(0), tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def render_range(span: tuple[date | datetime, date | datetime]) -> dict[str, str]:
    start, end = span
    rendered = {"startDate": render_instant(start), "endDate": render_instant(end, end_of_day=True)}
    if rendered["startDate"] > rendered["endDate"]:
        raise ValueError("a range must not start after it ends")
    return rendered


def _days_in(rendered: dict[str, str]) -> tuple[date, ...]:
    """The UTC calendar days a rendered range touches, as HighLevel counts them."""
    start = date.fromisoformat(rendered["startDate"][:10])
    end = date.fromisoformat(rendered["endDate"][:10])
    return tuple(start + timedelta(days=n) for n in range((end - start).days + 1))


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@dataclass(frozen=True)
class _Page:
    items: list[Any]
    problems: list[str]
    raw_count: int


class HighLevelClient(Transport):
    def __repr__(self) -> str:
        return (
            f"HighLevelClient(base_url={self.base_url!r}, app_id={self.app_id!r}, "
            f"connection_id={self.connection_id!r})"
        )

    # --- Social Planner ----------------------------------------------------------------------------------
    def iter_tags(
        self, location_id: str, search: str | None = None, *, page_size: int = TAG_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[Tag]:
        """Every tag of a location, page by page (`skip`/`limit`), each tag once.

        Stops on a short page (HighLevel's `count` is not relied on). An incomplete listing must never
        look complete, so:
        - a page that brings no new id means the server ignores `skip`: BadResponse is raised;
        - a page with malformed items is retried like any bad answer; if they persist, the well-formed
          tags are still yielded and, after the last one, BadResponse is raised with one line per
          malformed item in `.problems`. A caller that marks absent tags as removed must treat that
          exception as "listing incomplete" and mark nothing;
        - more than `max_pages` pages raise BadResponse.
        """
        query: dict[str, str] = {}
        if search:
            query["searchText"] = search
        yield from self._paginate(
            lambda skip: self._call(
                "GET", TAGS, location_id=location_id, resource_id=location_id,
                query={**query, "skip": str(skip), "limit": str(page_size)},
                parse=_page_parser(parsing.parse_tag_page),
            ),
            page_size=page_size, max_pages=max_pages, what="tags",
        )

    def get_tag_details(
        self, location_id: str, tag_ids: Iterable[str], *, batch_size: int = DETAILS_BATCH
    ) -> list[Tag]:
        """Details of the given tags (one POST per `batch_size` ids; unknown ids are simply absent).

        Malformed items raise BadResponse after every batch was read, with `.partial` holding the good tags.
        """
        ids = list(dict.fromkeys(tag_ids))
        tags: list[Tag] = []
        problems: list[str] = []
        for batch in _chunks(ids, batch_size):
            page = self._lenient(lambda batch=batch: self._call(
                "POST", TAG_DETAILS, location_id=location_id, resource_id=location_id,
                json_body={"tagIds": batch}, parse=_page_parser(parsing.parse_tag_page),
            ))
            tags.extend(page.items)
            problems.extend(page.problems)
        if problems:
            raise BadResponse(f"{len(problems)} malformed tag details", problems=problems, partial=tags,
                              endpoint=TAG_DETAILS, retryable=True)
        return tags

    def list_accounts(self, location_id: str) -> AccountListing:
        """Social accounts and groups; malformed entries are left out and listed in `.problems`."""

        def parse(body: Any) -> AccountListing:
            listing = parsing.parse_accounts(body)
            if listing.problems:
                raise BadResponse("malformed accounts", problems=listing.problems, partial=listing)
            return listing

        try:
            return self._call("GET", ACCOUNTS, location_id=location_id, resource_id=location_id, parse=parse)
        except BadResponse as exc:
            if isinstance(exc.partial, AccountListing):
                return exc.partial
            raise

    def get_statistics(
        self,
        location_id: str,
        profile_ids: Sequence[str],
        platforms: Sequence[str] | None = None,
        current_range: tuple[date | datetime, date | datetime] | None = None,
        previous_range: tuple[date | datetime, date | datetime] | None = None,
        *,
        version: str | None = None,
    ) -> list[Statistics]:
        """Statistics, one answer per chunk of at most 100 profiles (HighLevel aggregates over the
        profiles asked: ask per profile to chart per account). Dates cover whole UTC days.

        Sent with `version` (default: the client's `social_version`, v3, where ranges are documented).
        Under 2021-07-28 HighLevel answers its default window whatever the range: each answer's
        `answers_asked_days` tells whether its `dayRange` names the asked days; nothing that fails it may be
        stored. A 4xx about the version raises VersionRefused.
        """
        profiles = list(dict.fromkeys(profile_ids))
        if not profiles:
            return []
        if previous_range is not None and current_range is None:
            raise ValueError("previous_range needs current_range")
        unknown = set(platforms or ()) - set(STATISTICS_PLATFORMS)
        if unknown:
            raise ValueError(f"unknown platforms: {sorted(unknown)}")
        body: dict[str, Any] = {}
        if platforms:
            body["platforms"] = list(platforms)
        asked_days = None
        if current_range is not None:
            body["currentRange"] = render_range(current_range)
            asked_days = _days_in(body["currentRange"])
        if previous_range is not None:
            body["prevRange"] = render_range(previous_range)
        answers = []
        for chunk in _chunks(profiles, STATISTICS_MAX_PROFILES):
            answers.append(self._call(
                "POST", STATISTICS, resource_id=location_id, query={"locationId": location_id},
                json_body={"profileIds": chunk, **body}, version=version or self.social_version,
                parse=lambda b, chunk=chunk: parsing.parse_statistics(b, tuple(chunk), asked_days),
            ))
        for answer in answers:
            if asked_days is not None and not answer.answers_asked_days:
                logger.warning("highlevel statistics for %s: asked %s..%s, dayRange %s (traceId=%s)", location_id,
                               asked_days[0], asked_days[-1], list(answer.day_range), answer.trace_id or "-")
        return answers

    def iter_posts(
        self,
        location_id: str,
        from_date: date | datetime,
        to_date: date | datetime,
        *,
        kind: str | None = None,
        accounts: Sequence[str] | None = None,
        post_type: str | None = None,
        include_users: bool = False,
        page_size: int = POST_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
        version: str | None = None,
    ) -> Iterator[Post]:
        """Posts between two dates (`POST .../posts/list`, skip/limit as strings); same guarantees as iter_tags.

        Asked under `version`, by default `social_version` (HIGHLEVEL_SOCIAL_API_VERSION, v3): only that contract
        carries `insights`.

        `kind` is sent as HighLevel's `type` filter, `accounts` as a comma-separated list of account ids.
        """
        body: dict[str, Any] = {
            "fromDate": render_instant(from_date),
            "toDate": render_instant(to_date, end_of_day=True),
            "includeUsers": "true" if include_users else "false",
        }
        if kind:
            body["type"] = kind
        if accounts:
            body["accounts"] = ",".join(accounts)
        if post_type:
            body["postType"] = post_type
        yield from self._paginate(
            lambda skip: self._call(
                "POST", POSTS, location_id=location_id, resource_id=location_id,
                json_body={**body, "skip": str(skip), "limit": str(page_size)},
                parse=_page_parser(parsing.parse_post_page), version=version or self.social_version,
            ),
            page_size=page_size, max_pages=max_pages, what="posts",
        )

    # --- Locations ---------------------------------------------------------------------------------------
    def get_location(self, location_id: str) -> LocationInfo:
        """The location's name, time zone and address (scope `locations.readonly`; a location token, or an
        agency token for one of its locations). A token without the scope raises ScopeError."""
        return self._call("GET", LOCATION, location_id=location_id, resource_id=location_id,
                          parse=parsing.parse_location_info)

    # --- OAuth -------------------------------------------------------------------------------------------
    def exchange_code(self, code: str, redirect_uri: str, user_type: str = "Location") -> TokenGrant:
        """The authorization-code grant. Not retried once it may have reached HighLevel (a code is single use)."""
        return self._grant({"grant_type": "authorization_code", "code": code, "user_type": user_type,
                            "redirect_uri": redirect_uri})

    def refresh_token(self, refresh_token: str, user_type: str = "Location") -> TokenGrant:
        """The refresh grant. The answer's refresh token replaces the old one, which is spent: save both
        atomically. `invalid_grant` raises InvalidGrant (the connection needs a reconnect)."""
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token, "user_type": user_type})

    def mint_location_token(self, company_id: str, location_id: str) -> LocationToken:
        """A location token from the agency token that `token()` returns (no refresh token: mint again)."""
        return self._call(
            "POST", LOCATION_TOKEN, resource_id=company_id,
            form={"companyId": company_id, "locationId": location_id}, parse=parsing.parse_location_token,
        )

    def iter_installed_locations(
        self, company_id: str, app_id: str | None = None, *, page_size: int = LOCATION_PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[InstalledLocation]:
        """Locations where the app is installed, for an agency token; same guarantees as iter_tags."""
        query = {"companyId": company_id, "appId": app_id or self.app_id, "isInstalled": "true"}
        yield from self._paginate(
            lambda skip: self._call(
                "GET", INSTALLED_LOCATIONS, resource_id=company_id,
                query={**query, "skip": str(skip), "limit": str(page_size)},
                parse=_page_parser(parsing.parse_installed_locations_page),
            ),
            page_size=page_size, max_pages=max_pages, what="installed locations",
        )

    def _grant(self, fields: dict[str, str]) -> TokenGrant:
        client_id, client_secret = self.config.client_id, self.config.client_secret
        if not client_id or not client_secret:
            raise NotConfigured("HIGHLEVEL_CLIENT_ID and HIGHLEVEL_CLIENT_SECRET are required for OAuth")
        return self._call(
            "POST", TOKEN, resource_id="oauth", auth=False, idempotent=False, token_endpoint=True,
            form={"client_id": client_id, "client_secret": client_secret, **fields},
            parse=parsing.parse_token_grant,
        )

    # --- the machinery -----------------------------------------------------------------------------------
    def _lenient(self, fetch: Callable[[], _Page]) -> _Page:
        """A page whose malformed items survived every retry is accepted with its problems."""
        try:
            return fetch()
        except BadResponse as exc:
            if isinstance(exc.partial, _Page):
                return exc.partial
            raise

    def _paginate(self, fetch: Callable[[int], _Page], *, page_size: int, max_pages: int, what: str) -> Iterator[Any]:
        # Pages are streamed: only the previous page's ids are kept (a set of every id held ~100 MB at
        # 1,000,000 tags). That still drops the repeats of a shifted page (a tag inserted before it) and still
        # catches a server that ignores `skip` (its next page brings nothing the previous did not).
        previous: set[str] = set()
        problems: list[str] = []
        skip = 0
        for _ in range(max_pages):
            page = self._lenient(lambda skip=skip: fetch(skip))
            problems.extend(page.problems)
            new = [item for item in page.items if item.id not in previous]
            if page.raw_count and not new:
                reason = (
                    "every item on it is malformed" if len(page.problems) == page.raw_count
                    else "the server seems to ignore 'skip'"
                )
                raise BadResponse(
                    f"{what}: the page at skip={skip} brings no new id ({reason}); the listing cannot be completed",
                    problems=problems, retryable=True,
                )
            previous = {item.id for item in page.items}
            yield from new
            if page.raw_count < page_size:
                break
            skip += page_size
        else:
            raise BadResponse(f"{what}: more than {max_pages} pages; listing stopped", problems=problems,
                              retryable=True)
        if problems:
            # An unclean listing may read clean later (the job tries the whole listing again).
            raise BadResponse(f"{what}: listing incomplete, {len(problems)} malformed item(s)", problems=problems,
                              retryable=True)


def _page_parser(parse_page: Callable[[Any], tuple[list[Any], list[str], int]]) -> Callable[[Any], _Page]:
    """Parse a listing page; malformed items make the page a (retryable) BadResponse carrying the page."""

    def parse(body: Any) -> _Page:
        items, problems, raw_count = parse_page(body)
        page = _Page(items, problems, raw_count)
        if problems:
            raise BadResponse(f"{len(problems)} malformed item(s)", problems=problems, partial=page)
        return page

    return parse
