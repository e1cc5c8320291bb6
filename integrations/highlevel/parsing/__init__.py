"""HighLevel JSON -> the dataclasses in types.py.

Every parser raises BadResponse (never KeyError/TypeError/ValueError) when a body is not the shape
HighLevel documents (docs/architecture.md, "The HighLevel client"). Listings parse item by item: a
malformed item becomes a line in `problems` instead of an exception, so the caller decides whether an
unclean listing is usable. readers.py holds the typed field readers, social.py the Social Planner's
answers, posts.py the posts, oauth.py the OAuth and location answers.
"""

from integrations.highlevel.parsing.oauth import (
    parse_installed_location,
    parse_installed_locations_page,
    parse_location_info,
    parse_location_token,
    parse_token_grant,
)
from integrations.highlevel.parsing.posts import parse_post, parse_post_page
from integrations.highlevel.parsing.readers import parse_datetime
from integrations.highlevel.parsing.social import (
    parse_account,
    parse_accounts,
    parse_group,
    parse_statistics,
    parse_tag,
    parse_tag_page,
)

__all__ = [
    "parse_account",
    "parse_accounts",
    "parse_datetime",
    "parse_group",
    "parse_installed_location",
    "parse_installed_locations_page",
    "parse_location_info",
    "parse_location_token",
    "parse_post",
    "parse_post_page",
    "parse_statistics",
    "parse_tag",
    "parse_tag_page",
    "parse_token_grant",
]
