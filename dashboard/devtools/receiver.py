"""A tiny webhook receiver for demos and tests: stdlib WSGI, no framework, no database.

POST anything: it is verified against the configured secrets (Standard Webhooks) and kept in memory,
newest first. `POST /status/<code>` answers with that status (503 to exercise retries, 302 for a
redirect). `GET /` shows an HTML page (refreshes itself), `GET /messages.json` the same as JSON.
A valid or unchecked message gets 200; a message whose signature does not verify gets 401.
"""

from __future__ import annotations

import html
import json
import threading
from collections import deque
from datetime import UTC, datetime
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from integrations.delivery.signing import verify

MAX_BODY = 1024 * 1024
KEEP = 200
# The secret `make run` gives both the receiver and the demo destination (never used outside DEBUG).
# Where `make run` serves it (runreceiver's default port).
DEMO_RECEIVER_URL = "http://127.0.0.1:8766/"
DEMO_SECRET = "whsec_dGFnc2NvcGUtZGVtby1yZWNlaXZlci1zZWNyZXQ="


class Receiver:
    """The WSGI app and what it received."""

    def __init__(self, signing_secrets: list[str] | None = None):
        self.secrets = list(signing_secrets or [])
        self.messages: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._lock = threading.Lock()

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages)

    def _verdict(self, headers: dict[str, str], body: bytes) -> bool | None:
        if not self.secrets:
            return None
        return any(verify(secret, headers, body) for secret in self.secrets)

    def _record(self, environ: dict) -> tuple[dict[str, Any], bool | None]:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        valid = self._verdict(headers, body)
        try:
            document = json.loads(body)
        except ValueError:
            document = body.decode("utf-8", errors="replace")
        message = {
            "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "path": environ.get("PATH_INFO", "/"),
            "webhook_id": headers.get("webhook-id", ""),
            "webhook_timestamp": headers.get("webhook-timestamp", ""),
            "signatures": len(headers.get("webhook-signature", "").split()),
            "valid": valid,
            "type": document.get("type", "") if isinstance(document, dict) else "",
            "test": bool(document.get("test")) if isinstance(document, dict) else False,
            "body": document,
        }
        with self._lock:
            self.messages.appendleft(message)
        return message, valid

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        if method == "POST":
            _, valid = self._record(environ)
            if path.startswith("/status/") and path[8:].isdigit():
                code = int(path[8:])
                extra = [("Location", "http://169.254.169.254/latest/meta-data/")] if 300 <= code < 400 else []
                return _send(start_response, code, b'{"ok": false}', "application/json", extra)
            if valid is False:
                return _send(start_response, 401, b'{"ok": false, "error": "bad signature"}', "application/json")
            return _send(start_response, 200, b'{"ok": true}', "application/json")
        if path == "/messages.json":
            return _send(start_response, 200, json.dumps(self.received()).encode(), "application/json")
        if path == "/":
            return _send(start_response, 200, self._page().encode(), "text/html; charset=utf-8")
        return _send(start_response, 404, b"not found", "text/plain")

    def _page(self) -> str:
        if not self.secrets:
            note = "Signatures not checked: unknown secret (start with --secret whsec_...)."
        else:
            note = f"Checking signatures against {len(self.secrets)} secret(s)."
        rows = "".join(_row(m) for m in self.received()) or "<p>Nothing received yet.</p>"
        return (
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta http-equiv=refresh content=3>"
            "<title>Tagscope demo receiver</title><style>body{font:15px system-ui;margin:2rem;max-width:60rem}"
            "pre{background:#0f1525;color:#e6e9f0;padding:.75rem;border-radius:6px;overflow:auto}"
            ".ok{color:#176b3a}.bad{color:#b42318}.muted{color:#5a6272}</style></head><body>"
            f"<h1>Tagscope demo receiver</h1><p class=muted>{html.escape(note)} Newest first.</p>{rows}</body></html>"
        )


def _row(message: dict[str, Any]) -> str:
    valid = message["valid"]
    verdict = {True: ("ok", "signature valid"), False: ("bad", "signature INVALID"),
               None: ("muted", "signature not checked: unknown secret")}[valid]
    body = html.escape(json.dumps(message["body"], indent=2, ensure_ascii=False))
    test = " · test" if message["test"] else ""
    return (
        f"<section><h2>{html.escape(message['type'] or '(no type)')}{test}</h2>"
        f"<p><span class={verdict[0]}>{verdict[1]}</span> · id {html.escape(message['webhook_id'])} · "
        f"received {html.escape(message['received_at'])}</p><pre>{body}</pre></section>"
    )


def _send(start_response, status: int, body: bytes, content_type: str, extra=()) -> list[bytes]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Status"
    start_response(f"{status} {phrase}", [("Content-Type", content_type), ("Content-Length", str(len(body))), *extra])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class ReceiverServer:
    """Serve a Receiver on host:port (0: a free port), in the foreground or (`start()`) a daemon thread."""

    def __init__(self, signing_secrets: list[str] | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.receiver = Receiver(signing_secrets)
        self._httpd = make_server(host, port, self.receiver, server_class=_Server, handler_class=_QuietHandler)
        self.host, self.port = self._httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.1)

    def start(self) -> ReceiverServer:
        threading.Thread(target=self.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()  # returns once serve_forever has stopped
        self._httpd.server_close()
