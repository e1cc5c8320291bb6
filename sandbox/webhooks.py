"""Signed app webhooks (INSTALL / UNINSTALL), sent on request through the control API."""

from __future__ import annotations

import base64
import json
import uuid

import requests

from . import data, keys
from .ids import object_id, rng_for
from .oauth import PLAN_ID
from .state import Sandbox

SIGNATURES = ("ed25519", "rsa", "both", "none", "bad")


def build_payload(sb: Sandbox, spec: dict) -> dict:
    kind = spec.get("type")
    if kind not in ("INSTALL", "UNINSTALL"):
        raise ValueError("type must be INSTALL or UNINSTALL")
    location_id = spec.get("location_id")
    company_id = spec.get("company_id") or (sb.company_of(location_id) if location_id else None)
    if company_id not in sb.skeleton.agencies:
        raise ValueError("company_id is missing or unknown")
    common = {
        "timestamp": spec.get("timestamp") or data.iso(sb.now()),
        "webhookId": spec.get("webhook_id") or str(uuid.uuid4()),
    }
    if kind == "UNINSTALL":
        target = {"locationId": location_id} if location_id else {"companyId": company_id}
        return {"type": kind, "appId": sb.config.app_id, **target, **common}
    agency = sb.skeleton.agencies[company_id]
    payload = {"type": kind, "appId": sb.config.app_id, "companyId": company_id}
    if location_id:
        payload["locationId"] = location_id
    payload.update({
        "userId": agency.user_id, "planId": PLAN_ID, "trial": {}, "companyName": agency.name,
        "isWhitelabelCompany": False, **common, "installType": "Location" if location_id else "Company",
        "versionId": object_id(rng_for(sb.config.seed, "version"), sb.anchor.timestamp()),
    })
    return payload


def signature_headers(seed: int, body: bytes, signature: str) -> dict[str, str]:
    if signature not in SIGNATURES:
        raise ValueError(f"signature must be one of {', '.join(SIGNATURES)}")
    headers = {}
    if signature in ("ed25519", "both"):
        headers["X-GHL-Signature"] = keys.sign_ed25519(seed, body)
    if signature in ("rsa", "both"):
        headers["X-WH-Signature"] = keys.sign_rsa(body)
    if signature == "bad":
        # A well-formed signature over different bytes: only a real check catches it.
        headers["X-GHL-Signature"] = keys.sign_ed25519(seed, body + b" ")
    return headers


def send(sb: Sandbox, spec: dict) -> dict:
    """POST the webhook and report what was sent and what came back. Sent without the sandbox lock held,
    so the receiver may call the sandbox back."""
    url = spec.get("url")
    if not url:
        raise ValueError("url is required")
    with sb.lock:
        payload = build_payload(sb, spec)
        seed = sb.config.seed
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               **signature_headers(seed, body, spec.get("signature", "ed25519"))}
    sent = {"url": url, "headers": headers, "body": body.decode(), "payload": payload,
            "body_b64": base64.b64encode(body).decode()}
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=float(spec.get("timeout", 10)))
    except requests.RequestException as exc:
        return {"sent": sent, "status": None, "error": str(exc)}
    return {"sent": sent, "status": answer.status_code, "response": answer.text[:2000]}
