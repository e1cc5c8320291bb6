"""Small helpers shared by the sandbox tests."""

from __future__ import annotations

from sandbox.client import SandboxControl


def first_location(sandbox: SandboxControl) -> dict:
    return sandbox.state()["locations"][0]


def location_pit(sandbox: SandboxControl) -> tuple[str, str]:
    """(location id, its private integration token)."""
    location = first_location(sandbox)
    return location["id"], location["pit"]


def profile_ids(sandbox: SandboxControl, location_id: str, token: str) -> list[dict]:
    return sandbox.api("GET", f"/social-media-posting/{location_id}/accounts", token).json()["results"]["accounts"]
