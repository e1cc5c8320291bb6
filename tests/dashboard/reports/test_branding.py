"""Branding: admins only; logos proven by decoding (PNG, JPEG, WebP), re-encoded, SVG and impostors refused;
the accent colour checked; used by the report page, the share page and the PDF."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from dashboard.reports.branding import BrandingRefused, accent_clean, logo_reencode
from dashboard.reports.models import Branding
from dashboard.reports.render import report_html
from dashboard.reports.snapshot import report_snapshot
from tests.dashboard.reports.conftest import NOW, image_bytes, report_make, upload

SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.cookie)</script>'
       b'<rect width="10" height="10"/></svg>')


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_logos_are_stored_as_fresh_pngs(fmt):
    data, width, height = logo_reencode(image_bytes(fmt, size=(1200, 300)))
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.size == (width, height) == (600, 150)  # shrunk to the box


@pytest.mark.parametrize(("data", "why"), [
    (SVG, "PNG, JPEG or WebP"),
    (b"GIF89a" + b"\x00" * 100, "PNG, JPEG or WebP"),
    (b"\x89PNG\r\n\x1a\n" + b"not really a png", "PNG, JPEG or WebP"),
    (b"<html><script>alert(1)</script></html>", "PNG, JPEG or WebP"),
    (b"", "empty"),
    (b"\x00" * (1024 * 1024 + 1), "at most"),
])
def test_anything_else_is_refused(data, why):
    with pytest.raises(BrandingRefused, match=why):
        logo_reencode(data)


def test_a_gif_is_refused_even_when_it_decodes():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(BrandingRefused, match="PNG, JPEG or WebP"):
        logo_reencode(out.getvalue())


@pytest.mark.parametrize("value", ["red", "#12345", "#1234567", "#GGGGGG", "#fff", "#ffffff; color: red",
                                   "</style>"])
def test_the_accent_must_be_a_hex_colour(value):
    with pytest.raises(BrandingRefused):
        accent_clean(value)


def test_an_admin_sets_branding_and_reports_use_it(admin_http, full_location, client):
    response = admin_http.post("/settings/branding/", {
        "agency_name": "Northwind Agency", "accent": "#AA3300", "footer": "Northwind · hello@northwind.example",
        "logo": upload("logo.webp", image_bytes("WEBP"), "image/webp")}, follow=True)
    assert "Branding saved" in response.text
    branding = Branding.current()
    assert branding.accent == "#aa3300" and bytes(branding.logo_png).startswith(b"\x89PNG")
    html = report_html(report_snapshot(report_make(full_location), now=NOW))
    assert "--accent: #aa3300" in html and "data:image/png;base64," in html and "Northwind · hello@" in html
    page = admin_http.get(f"/reports/{report_make(full_location).pk}/")
    assert "--accent: #aa3300" in page.text and 'alt="Northwind Agency"' in page.text


def test_an_svg_upload_is_refused_on_the_page(admin_http):
    response = admin_http.post("/settings/branding/", {"agency_name": "X", "accent": "#112233",
                                                       "logo": upload("logo.png", SVG, "image/png")})
    assert response.status_code == 200 and "PNG, JPEG or WebP" in response.text
    assert not Branding.objects.exists()


def test_marketers_cannot_change_branding(marketer_http):
    assert marketer_http.post("/settings/branding/", {"agency_name": "Mine", "accent": "#112233"}).status_code == 403
    assert not Branding.objects.exists()


def test_removing_the_logo(admin_http):
    admin_http.post("/settings/branding/", {"agency_name": "A", "accent": "#112233",
                                            "logo": upload("l.png", image_bytes())})
    admin_http.post("/settings/branding/", {"agency_name": "A", "accent": "#112233", "remove_logo": "on"})
    assert bytes(Branding.current().logo_png) == b""
