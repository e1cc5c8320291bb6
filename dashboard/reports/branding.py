"""The agency's branding: logo uploads proven by decoding and re-encoded, the accent colour checked.

A logo is accepted only when Pillow decodes it as PNG, JPEG or WebP (the declared type and file name are not
trusted; SVG and everything else are refused, so no script can ride along), within LOGO_MAX_BYTES and
LOGO_MAX_PIXELS; it is then shrunk to fit LOGO_BOX and stored as a fresh PNG, which keeps the pixels only."""

from __future__ import annotations

import base64
import io
import re
import warnings

from PIL import Image, UnidentifiedImageError

from dashboard.reports.models import Branding

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000 * 4000
LOGO_BOX = (600, 200)
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}
ACCENT = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = "#2f5bd3"


class BrandingRefused(ValueError):
    """An upload or a value that branding does not take; the message says why, for the form."""


def logo_reencode(data: bytes) -> tuple[bytes, int, int]:
    """(png bytes, width, height) of an uploaded logo, or BrandingRefused."""
    if not data:
        raise BrandingRefused("The file is empty.")
    if len(data) > LOGO_MAX_BYTES:
        raise BrandingRefused(f"The logo must be at most {LOGO_MAX_BYTES // 1024} KB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                if kind not in LOGO_FORMATS:
                    raise BrandingRefused("The logo must be a PNG, JPEG or WebP image.")
                if probe.width * probe.height > LOGO_MAX_PIXELS:
                    raise BrandingRefused("The logo is too large in pixels (at most 4000 by 4000).")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = image.convert("RGBA")
    except BrandingRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise BrandingRefused("The file is not a PNG, JPEG or WebP image that can be read.") from None
    image.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue(), image.width, image.height


def accent_clean(value: str) -> str:
    value = (value or "").strip()
    if not ACCENT.match(value):
        raise BrandingRefused("The accent colour must be a hex colour such as #2f5bd3.")
    return value.lower()


def branding_context(branding: Branding) -> dict[str, str | int | None]:
    """What templates show: name, footer, accent and the logo as a data URI (pages, share pages, PDFs)."""
    logo = bytes(branding.logo_png or b"")
    return {"agency_name": branding.agency_name, "footer": branding.footer,
            "accent": branding.accent if ACCENT.match(branding.accent or "") else DEFAULT_ACCENT,
            "logo_src": "data:image/png;base64," + base64.b64encode(logo).decode() if logo else None,
            "logo_width": branding.logo_width, "logo_height": branding.logo_height}


def branding_save(*, agency_name: str, accent: str, footer: str, logo: bytes | None, remove_logo: bool,
                  user) -> Branding:
    branding = Branding.current()
    branding.agency_name = agency_name.strip()[:120]
    branding.accent = accent_clean(accent)
    branding.footer = footer.strip()[:300]
    if logo is not None:
        branding.logo_png, branding.logo_width, branding.logo_height = logo_reencode(logo)
    elif remove_logo:
        branding.logo_png, branding.logo_width, branding.logo_height = b"", 0, 0
    branding.updated_by = user if getattr(user, "pk", None) else None
    branding.save()
    return branding
