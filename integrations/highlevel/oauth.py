"""HighLevel's OAuth consent URL and the scopes Tagscope asks for (docs/architecture.md, "Connections")."""

from __future__ import annotations

from urllib.parse import urlencode

from integrations.highlevel.config import ClientConfig

# What each scope gives Tagscope, said the way an admin needs to hear it when it is missing.
SOCIAL_PLANNER_SCOPES: dict[str, str] = {
    "socialplanner/tag.readonly": "tags and tag details will not be mirrored",
    "socialplanner/account.readonly": "connected social accounts will not be listed, so statistics cannot be asked for",
    "socialplanner/statistics.readonly": "statistics charts will stay empty",
    "socialplanner/post.readonly": "tag pages will not show the posts carrying each tag",
}
AGENCY_SCOPES: dict[str, str] = {
    "oauth.readonly": "the locations where the app is installed cannot be listed",
    "oauth.write": "location tokens cannot be minted, so no location of the agency can be read",
    "locations.readonly": "location names and time zones cannot be read",
}
# Location installs also read the location itself (GET /locations/{locationId}); agency installs list it in
# AGENCY_SCOPES with the agency's wording.
LOCATION_SCOPES: dict[str, str] = {
    "locations.readonly": "location name and time zone will not be read; dates show in UTC",
}
# Granted write scopes Tagscope needs although they say "write": minting location tokens.
NEEDED_WRITE_SCOPES = {"oauth.write"}

USER_TYPE_LOCATION = "Location"
USER_TYPE_COMPANY = "Company"


def required_scopes(user_type: str) -> dict[str, str]:
    if user_type == USER_TYPE_COMPANY:
        return {**SOCIAL_PLANNER_SCOPES, **AGENCY_SCOPES}
    return {**SOCIAL_PLANNER_SCOPES, **LOCATION_SCOPES}


def authorize_url(config: ClientConfig, *, state: str, redirect_uri: str, user_type: str) -> str:
    query = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(required_scopes(user_type)),
        "state": state,
    }
    return f"{config.authorize_url}?{urlencode(query)}"
