"""HighLevel-looking identifiers, drawn from a caller's seeded Random."""

from __future__ import annotations

import random
import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def rng_for(*parts: object) -> random.Random:
    """A Random seeded from the parts; str seeds hash with SHA-512, so this is stable across runs."""
    return random.Random(":".join(str(p) for p in parts))


def hl_id(rng: random.Random) -> str:
    """A 20-character alphanumeric id like HighLevel's locationId, companyId and userId."""
    return "".join(rng.choice(_ALNUM) for _ in range(20))


def object_id(rng: random.Random, timestamp: float) -> str:
    """A Mongo-style 24-hex id whose first 8 hex digits are the creation time, as Mongo's are."""
    return f"{int(timestamp) & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"


def uuid_like(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def pit_token(seed: int, resource_id: str) -> str:
    return "pit-" + uuid_like(rng_for(seed, "pit", resource_id))


def opaque(prefix: str) -> str:
    """Token strings that need no reproducibility: access, refresh and location tokens, codes."""
    return prefix + secrets.token_urlsafe(24)
