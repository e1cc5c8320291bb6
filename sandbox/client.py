"""SandboxControl: a small requests-based client of the /_sandbox control API, plus helpers to call the
HighLevel routes and walk the OAuth consent flow. Used by tests, benchmarks and end-to-end runs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

VERSION = "2021-07-28"
AGENCY_SCOPES = "oauth.readonly oauth.write locations.readonly"
LOCATION_SCOPES = ("socialplanner/tag.readonly socialplanner/account.readonly "
                   "socialplanner/statistics.readonly socialplanner/post.readonly")


class SandboxControl:
    def __init__(self, url: str, *, session: requests.Session | None = None, timeout: float = 10):
        self.url = url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout

    # --- control API --------------------------------------------------------------------------------
    def _call(self, method: str, path: str, json: Any = None, **kwargs) -> Any:
        answer = self.http.request(method, f"{self.url}/_sandbox/{path}", json=json, timeout=self.timeout, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def state(self) -> dict:
        return self._call("GET", "state")

    def reset(self, **config: Any) -> dict:
        return self._call("POST", "reset", {"config": config})

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["faults"]

    def add_fault(self, **rule: Any) -> dict:
        return self._call("POST", "faults", rule)["fault"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def clock(self) -> dict:
        return self._call("GET", "clock")

    def advance(self, seconds: float) -> dict:
        return self._call("POST", "clock", {"advance_seconds": seconds})

    def set_now(self, iso: str) -> dict:
        return self._call("POST", "clock", {"now": iso})

    def freeze(self, frozen: bool = True) -> dict:
        """Hold sandbox time still (or let it tick again): what HighLevel answers then stops changing."""
        return self._call("POST", "clock", {"frozen": frozen})

    def tags(self, location_id: str) -> list[dict]:
        return self._call("GET", f"locations/{location_id}/tags")["tags"]

    def add_tag(self, location_id: str, name: str) -> dict:
        return self._call("POST", f"locations/{location_id}/tags", {"tag": name})["tag"]

    def rename_tag(self, location_id: str, tag_id: str, name: str) -> dict:
        return self._call("PATCH", f"locations/{location_id}/tags/{tag_id}", {"tag": name})["tag"]

    def delete_tag(self, location_id: str, tag_id: str, *, hard: bool = False) -> dict:
        return self._call("DELETE", f"locations/{location_id}/tags/{tag_id}", params={"hard": "1"} if hard else None)

    # --- planted faults (goals and health) ---------------------------------------------------------------
    def accounts(self, location_id: str) -> list[dict]:
        """The location's social accounts as the API lists them (through its Private Integration token)."""
        answer = self.api("GET", f"/social-media-posting/{location_id}/accounts", self.pit(location_id))
        return answer.json()["results"]["accounts"]

    def expire_account(self, location_id: str, account_id: str, *, expired: bool = True,
                       expire_in_days: float | None = None) -> dict:
        body: dict[str, Any] = {"isExpired": expired}
        if expire_in_days is not None:
            body["expire_in_days"] = expire_in_days
        return self._call("POST", f"locations/{location_id}/accounts/{account_id}", body)["account"]

    def fail_post(self, location_id: str, error: str | None = None) -> dict:
        return self._call("POST", f"locations/{location_id}/posts/failed", {"error": error} if error else {})["post"]

    def publish_failed_posts(self, location_id: str) -> list[str]:
        return self._call("DELETE", f"locations/{location_id}/posts/failed")["published"]

    def empty_schedule(self, location_id: str) -> int:
        return self._call("POST", f"locations/{location_id}/schedule/empty")["removed"]

    def restore_schedule(self, location_id: str) -> int:
        return self._call("DELETE", f"locations/{location_id}/schedule/empty")["restored"]

    def drop_metric(self, location_id: str, metric: str, *, factor: float = 0.5, start: str | None = None,
                    platform: str = "") -> dict:
        body = {"metric": metric, "factor": factor, "platform": platform, **({"from": start} if start else {})}
        return self._call("POST", f"locations/{location_id}/statistics/drops", body)["drop"]

    def clear_drops(self, location_id: str) -> int:
        return self._call("DELETE", f"locations/{location_id}/statistics/drops")["removed"]

    def plant_posts(self, location_id: str, posts: list[dict]) -> list[str]:
        """Posts exactly as given (id, platform, status, publishedAt, tags, insights {like, share, comment})."""
        return self._call("POST", f"locations/{location_id}/posts", {"posts": posts})["planted"]

    def expire_tokens(self, **selector: Any) -> int:
        return self._call("POST", "tokens/expire", selector)["expired"]

    def revoke_tokens(self, **selector: Any) -> int:
        return self._call("POST", "tokens/revoke", selector)["revoked"]

    def install(self, resource_id: str) -> list[str]:
        return self._call("POST", f"apps/{resource_id}/install")["installed"]

    def uninstall(self, resource_id: str) -> list[str]:
        return self._call("POST", f"apps/{resource_id}/uninstall")["uninstalled"]

    def stats(self) -> dict:
        return self._call("GET", "stats")

    def refuse_v3(self, refuse: bool = True) -> dict:
        """Emulate a HighLevel that answers every `Version: v3` call 400 (versions.py), or stop doing so."""
        return self._call("POST", "versions", {"refuse_v3": refuse})

    def reset_stats(self) -> dict:
        return self._call("POST", "stats/reset")

    def send_webhook(self, url: str, kind: str = "INSTALL", **fields: Any) -> dict:
        """fields: company_id, location_id, signature, timestamp, webhook_id (see the package docstring)."""
        return self._call("POST", "webhooks/send", {"url": url, "type": kind, **fields})

    # --- conveniences -------------------------------------------------------------------------------
    def location_ids(self) -> list[str]:
        return [loc["id"] for loc in self.state()["locations"]]

    def pit(self, resource_id: str) -> str:
        return self.state()["private_integration_tokens"][resource_id]

    def api(self, method: str, path: str, token: str | None = None, *, version: str | None = VERSION,
            **kwargs) -> requests.Response:
        """Call a HighLevel route with the usual headers; answers the raw response."""
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if version:
            headers["Version"] = version
        return self.http.request(method, f"{self.url}{path}", headers=headers, timeout=self.timeout, **kwargs)

    def authorize(self, choice: str, *, scope: str = LOCATION_SCOPES, redirect_uri: str = "http://localhost/cb",
                  state: str = "xyz", client_id: str | None = None) -> dict[str, str]:
        """Walk the consent page and submit `choice` ("location:<id>", "company:<id>" or "deny"); answers
        the query parameters the app's redirect URI would receive."""
        client_id = client_id or self.state()["client_id"]
        params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                  "scope": scope, "state": state}
        page = self.http.get(f"{self.url}/oauth/chooselocation", params=params, timeout=self.timeout)
        page.raise_for_status()
        if f'value="{choice}"' not in page.text:
            raise ValueError(f"the consent page offers no {choice!r}")
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        answer = self.http.post(f"{self.url}/oauth/chooselocation", data={**form, "choice": choice},
                                allow_redirects=False, timeout=self.timeout)
        if answer.status_code != 302:
            raise ValueError(f"consent answered {answer.status_code}")
        return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}

    def exchange(self, **form: str) -> requests.Response:
        """POST /oauth/token with the sandbox's client credentials unless given."""
        state = self.state()
        data = {"client_id": state["client_id"], "client_secret": state["client_secret"], **form}
        return self.http.post(f"{self.url}/oauth/token", data=data, timeout=self.timeout)

    def oauth_tokens(self, choice: str, *, scope: str | None = None) -> dict:
        """The token answer for a fresh install on `choice` ("location:<id>" or "company:<id>")."""
        if scope is None:
            scope = LOCATION_SCOPES + (" " + AGENCY_SCOPES if choice.startswith("company:") else "")
        code = self.authorize(choice, scope=scope)["code"]
        answer = self.exchange(grant_type="authorization_code", code=code, redirect_uri="http://localhost/cb")
        answer.raise_for_status()
        return answer.json()
