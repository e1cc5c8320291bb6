"""HighLevel's two contracts on the same paths, told apart by the `Version` header.

- `2021-07-28` (apps/social-media-posting.json): statistics take no dates and answer the last 7 days.
- `v3` (apps/v3/social-planner-v3.json): statistics take `currentRange`/`prevRange`.

The control switch `refuse_v3` (POST /_sandbox/versions) emulates a HighLevel that does not serve v3: every
API call sent with `Version: v3` is answered 400 naming the version (HighLevel's wording is not published).
"""

from __future__ import annotations

from .http import Request

V3 = "v3"
LEGACY = "2021-07-28"
REFUSAL = "Version v3 is not supported for this route. Use Version 2021-07-28."


def is_v3(req: Request) -> bool:
    return (req.header("version") or "").strip().lower() == V3
