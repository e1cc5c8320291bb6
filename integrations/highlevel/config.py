"""What a HighLevel client needs to be built, in one frozen object: where HighLevel is, which Version header
each contract takes, timeouts, the app's credentials and the retry budget. Nothing here reads Django
settings: integrations/clients/ builds one from them (see docs/architecture.md, "The HighLevel client")."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

DEFAULT_POOL_SIZE = 16


def app_id_from_client_id(client_id: str) -> str:
    """HighLevel's app id is the client id's part before the first '-'."""
    return (client_id or "").split("-", 1)[0]


@dataclass(frozen=True)
class ClientConfig:
    base_url: str = "https://services.leadconnectorhq.com"
    # The Version header for OAuth, tags, tag details, accounts and locations.
    api_version: str = "2021-07-28"
    # The Version header for statistics and posts (date ranges and post insights are documented only in v3).
    social_api_version: str = "v3"
    authorize_url: str = "https://marketplace.gohighlevel.com/v2/oauth/chooselocation"
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read (seconds)
    max_retries: int = 5
    client_id: str = ""
    client_secret: str = ""
    pool_size: int = DEFAULT_POOL_SIZE

    @property
    def app_id(self) -> str:
        return app_id_from_client_id(self.client_id)

    def replace(self, **changes: object) -> ClientConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
