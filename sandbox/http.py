"""Tiny request/response types for the WSGI app, and HighLevel's error bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import orjson


class BadBody(ValueError):
    pass


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    environ: dict
    # Headers every answer to this request must carry (rate-limit headers), whatever the handler returns.
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: dict) -> Request:
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        return cls(environ["REQUEST_METHOD"].upper(), path, query, headers, body, environ)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadBody("body is not valid JSON") from exc

    def form(self) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in (self.header("content-type") or ""):
            return {}
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def status_line(self) -> str:
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return f"{self.status} Unknown"


class ApiError(Exception):
    """Raised by handlers to answer at once with the given response."""

    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None, *,
                  plain: bool = False) -> Response:
    """`plain`: the caller knows every number in the payload is plain_number, so orjson may write it."""
    body = json_bytes(payload) if plain else json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def plain_number(value: Any) -> bool:
    """A number orjson writes as json.dumps does: an int, or a finite float that repr writes without an
    exponent (orjson writes 1e16 as 1e16 where json writes 1e+16, 1e-05 as 0.00001, NaN as null)."""
    return not isinstance(value, float) or value == 0 or 1e-4 <= abs(value) < 1e16


def json_bytes(payload: Any) -> bytes:
    """json.dumps(payload, separators=(",", ":")).encode(), byte for byte, by orjson (a tenth of the CPU) for a
    payload whose numbers are all plain_number: json writes what orjson cannot (an integer past 64 bits, a key
    that is not a string) and anything not ASCII or with DEL, which json escapes."""
    try:
        body = orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload, separators=(",", ":")).encode()
    if body.isascii() and b"\x7f" not in body:
        return body
    return json.dumps(payload, separators=(",", ":")).encode()


def error(status: int, message: str | list[str], *, with_error: bool = True) -> Response:
    """HighLevel's (NestJS) error body: statusCode, message and, mostly, the status phrase as error."""
    payload: dict[str, Any] = {"statusCode": status, "message": message}
    if with_error:
        payload["error"] = HTTPStatus(status).phrase
    return json_response(status, payload)


def fail(status: int, message: str | list[str], *, with_error: bool = True) -> ApiError:
    return ApiError(error(status, message, with_error=with_error))


def html_response(status: int, html: str) -> Response:
    return Response(status, html.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location})


def int_param(params: dict, name: str, default: int, minimum: int) -> int:
    """A whole number sent as a string (or a number); 422 in HighLevel's validation shape otherwise."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise fail(422, [f"{name} must be a number string"])
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise fail(422, [f"{name} must be a number string"]) from None
    if value < minimum:
        raise fail(422, [f"{name} must not be less than {minimum}"])
    return value
