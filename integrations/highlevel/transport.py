"""The `_call` machinery under HighLevelClient: headers, one HTTP exchange, the retry loop, decoding
into typed errors or parsed results, and a record per attempt.

`Transport` holds what the client was built with (a ClientConfig, the injected limiter, recorder and
connection hook, the session) and `_call`; HighLevelClient (client.py) adds the public endpoints on top.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from integrations.highlevel import http_headers
from integrations.highlevel.config import ClientConfig
from integrations.highlevel.errors import (
    AuthenticationError,
    BadResponse,
    HighLevelError,
    TransportError,
    error_for_response,
    header_int,
)
from integrations.highlevel.ratelimit import RateLimiter, bucket_key
from integrations.highlevel.recording import CallRecord, Recorder, log_call
from integrations.highlevel.retry import retry_delay, wait_from_headers

T = TypeVar("T")
logger = logging.getLogger("integrations.highlevel")

def _version() -> str:
    try:
        return metadata.version("tagscope")
    except metadata.PackageNotFoundError:
        return "0.1.0"


USER_AGENT = f"Tagscope/{_version()} (+python-requests)"


class HighLevelAdapter(HTTPAdapter):
    """requests' adapter, less what every request paid for and HighLevel's API does not need. The session's
    only adapter (transport.py builds it); the exchange is still urllib3's pool, kept alive.

    - Without a proxy, the connection pool of an origin is looked up once, not built into a pool key per
      request (a URL parse, the TLS key attributes, the pool manager's lock): remembered per origin and TLS
      settings until `close()` (or until the pool itself is closed).
    - No proxy: the request's path is the URL to send, without asking the proxy table again.
    - The answer's cookies are not copied into a jar: HighLevel's API is cookieless, and no jar is sent.
    - An answer's header block is read without the email package when it is made of plain lines
      (http_headers.py), as an API's always is.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: dict[tuple, Any] = {}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = http_headers.POOL_CLASSES

    def get_connection_with_tls_context(self, request: requests.PreparedRequest, verify: Any,
                                        proxies: Mapping[str, str] | None = None, cert: Any = None) -> Any:
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        url = request.url or ""
        origin = url[:url.find("/", url.find("//") + 2)] if url.count("/") > 2 else url
        key = (origin, verify if isinstance(verify, (bool, str)) else id(verify),
               cert if cert is None or isinstance(cert, (str, tuple)) else id(cert))
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # not yet asked for, or closed since
            pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
            self._pools[key] = pool
        return pool

    def request_url(self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None) -> str:
        if not proxies:
            return request.path_url
        return super().request_url(request, proxies)

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = resp.status
        # urllib3's headers, a repeated name's values joined by ", " (what CaseInsensitiveDict(resp.headers) held)
        response.headers = http_headers.Headers.of(resp.headers.itermerged())
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url.decode() if isinstance(req.url, bytes) else req.url
        response.request = req
        response.connection = self
        return response

    def close(self) -> None:
        self._pools.clear()
        super().close()


def _trace_id(body: Any, headers: Mapping[str, str]) -> str:
    if isinstance(body, dict) and isinstance(body.get("traceId"), str):
        return body["traceId"]
    for name in ("X-Trace-Id", "traceId", "X-Request-Id"):
        if headers.get(name):
            return str(headers[name])
    return ""


class Transport:
    """The one request path (`_call`) that every HighLevelClient method goes through.

    Built from a ClientConfig and what it is handed: the rate limiter (required: HighLevel's limits are
    shared by every process, so the caller decides which limiter stands for them), the recorder (None: log
    only), and `connection_hook`, called before every exchange except the token grants (production gives back
    the thread's pooled database connection there, so none is held while HighLevel answers).
    """

    def __init__(
        self,
        config: ClientConfig,
        token: Callable[[], str] | None = None,
        *,
        limiter: RateLimiter,
        recorder: Recorder | None = None,
        connection_hook: Callable[[], None] | None = None,
        on_unauthorized: Callable[[], Any] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        connection_id: int | None = None,
        run_id: int | None = None,
    ) -> None:
        self.config = config
        self._token = token
        self.on_unauthorized = on_unauthorized
        self.base_url = config.base_url.rstrip("/")
        self.version = config.api_version
        # Statistics and posts ask with their own Version (a request's `version=`): see docs/deploy.md.
        self.social_version = config.social_api_version
        self.timeout = tuple(config.timeout)
        self.max_retries = config.max_retries
        self.app_id = config.app_id
        self.limiter = limiter
        self.recorder = recorder
        self.connection_hook = connection_hook
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.connection_id = connection_id
        self.run_id = run_id
        if session is None:
            session = requests.Session()
            adapter = HighLevelAdapter(pool_connections=4, pool_maxsize=config.pool_size, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # The environment's proxy and CA-bundle settings read once here, not again for every request
            # (requests otherwise looks them, and ~/.netrc, up per call: a tenth of a sync's CPU).
            session.trust_env = False
            # Merged into every request's headers (`_send`): a Headers, so its items are read without a lookup each.
            session.headers = http_headers.Headers.of(session.headers.items())
            session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
        self.session = session

    def _headers(self, *, auth: bool, token_endpoint: bool, version: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if not token_endpoint:
            headers["Version"] = version or self.version
        if auth:
            if self._token is None:
                raise AuthenticationError("this client was built without a token")
            headers["Authorization"] = f"Bearer {self._token()}"
        return headers

    def _call(
        self,
        method: str,
        template: str,
        *,
        parse: Callable[[Any], T],
        resource_id: str,
        location_id: str | None = None,
        query: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        auth: bool = True,
        idempotent: bool = True,
        token_endpoint: bool = False,
        version: str | None = None,
    ) -> T:
        """One request with retries. `version` overrides the Version header (None: `self.version`)."""
        path = template.replace("{locationId}", quote(location_id or "", safe=""))
        url = self.base_url + path
        key = bucket_key(self.app_id, resource_id)
        retries = 0
        attempt = 0
        reauthorized = False
        while True:
            attempt += 1
            # The token first (it may read the database, or even refresh): the slot is claimed last, so the
            # request leaves as soon after its claim as it can.
            headers = self._headers(auth=auth, token_endpoint=token_endpoint, version=version)
            try:
                claimed_at = self.limiter.acquire(key)
            except HighLevelError as exc:  # the daily quota is spent, or the bucket is blocked for long
                exc.endpoint = template
                logger.info("highlevel %s %s resource=%s not sent: %s", method, template, resource_id, exc)
                raise
            started = self.clock()
            response, body, result, error = self._attempt(
                method, template, url, (key, claimed_at), headers, parse=parse, query=query, json_body=json_body,
                form=form, idempotent=idempotent, token_endpoint=token_endpoint,
            )
            self._record(method, template, resource_id, response, error, started, attempt, body)
            if error is None:
                return result
            if isinstance(error, AuthenticationError) and auth and self.on_unauthorized and not reauthorized:
                reauthorized = True
                self.on_unauthorized()
                continue
            delay = retry_delay(error, retries_done=retries, max_retries=self.max_retries,
                                idempotent=idempotent, rng=self.rng)
            if delay is None:
                raise error
            retries += 1
            self.sleep(delay)

    def _attempt(
        self,
        method: str,
        template: str,
        url: str,
        claim: tuple[str, float],
        headers: dict[str, str],
        *,
        parse: Callable[[Any], Any],
        query: Mapping[str, str] | None,
        json_body: Any,
        form: Mapping[str, str] | None,
        idempotent: bool,
        token_endpoint: bool,
    ) -> tuple[requests.Response | None, Any, Any, HighLevelError | None]:
        """One HTTP exchange: (response or None, decoded body, parsed result, error or None)."""
        key, claimed_at = claim
        if not token_endpoint and self.connection_hook is not None:
            self.connection_hook()
        try:
            response = self._send(method, url, headers, query=query, json_body=json_body, form=form)
        except requests.RequestException as exc:
            return None, None, None, TransportError(
                f"{type(exc).__name__} on {method} {template}", endpoint=template,
                connect_failed=_connect_failed(exc),
            )
        finally:  # the exchange is over, answered or not
            self.limiter.settle(key, claimed_at)
        self.limiter.observe(key, response.status_code, response.headers)
        body, decoded = _decode(response)
        trace = _trace_id(body, response.headers) or None
        if not 200 <= response.status_code < 300:
            wait = wait_from_headers(response.headers, now=self.clock()) if response.status_code == 429 else None
            error = error_for_response(
                response.status_code, body if decoded else response.text[:200], response.headers,
                endpoint=template, trace_id=trace, wait=wait, token_endpoint=token_endpoint,
            )
            return response, body, None, error
        bad: BadResponse
        if not decoded:
            bad = BadResponse("the body is not JSON (truncated?)")
        else:
            try:
                return response, body, parse(body), None
            except BadResponse as exc:
                bad = exc
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # a parser's blind spot
                bad = BadResponse(f"unexpected shape ({type(exc).__name__})")
        bad.status, bad.endpoint, bad.trace_id, bad.retryable = response.status_code, template, trace, idempotent
        return response, body, None, bad

    def _send(self, method: str, url: str, headers: dict[str, str], *, query: Mapping[str, str] | None,
              json_body: Any, form: Mapping[str, str] | None) -> requests.Response:
        """One exchange through the session's adapter (its pool, kept alive; `responses` fakes it in tests).

        The request is built here as requests builds it (the same URL, body, Content-Type and Content-Length)
        and handed straight to the adapter: `Request.prepare` and `Session.send` would redo per request what is
        fixed for the session (its headers, proxies, hooks, cookies, redirects), a sixth of a sync's CPU.
        HighLevel's API is cookieless, so no cookie jar is kept."""
        session = self.session
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = f"{url}?{urlencode(query)}" if query else url
        prepared.hooks = {"response": []}
        merged = http_headers.Headers.of(session.headers.items(), headers.items())
        body: bytes | str | None = None
        if json_body is not None:
            body = json.dumps(json_body, allow_nan=False).encode()
            merged["Content-Type"] = "application/json"
        elif form:
            body = urlencode(form)
            merged["Content-Type"] = "application/x-www-form-urlencoded"
        if body:
            merged["Content-Length"] = str(len(body.encode() if isinstance(body, str) else body))
        elif method not in ("GET", "HEAD"):
            merged["Content-Length"] = "0"
        prepared.headers = merged
        prepared.body = body
        response = session.get_adapter(prepared.url).send(
            prepared, stream=False, timeout=self.timeout, verify=session.verify, cert=session.cert,
            proxies=session.proxies)
        response.content  # noqa: B018 (read whole, so the connection goes back to the pool)
        return response

    def _record(self, method: str, template: str, resource_id: str, response: requests.Response | None,
                error: HighLevelError | None, started: float, attempt: int, body: Any) -> None:
        headers = response.headers if response is not None else {}
        call = CallRecord(
            at=datetime.fromtimestamp(started, tz=UTC),
            method=method,
            endpoint=template,
            resource_id=resource_id,
            status=response.status_code if response is not None else None,
            latency_ms=max(0, int((self.clock() - started) * 1000)),
            attempt=attempt,
            error=type(error).__name__ if error is not None else "",
            trace_id=_trace_id(body, headers),
            rate_limit_remaining=header_int(headers, "X-RateLimit-Remaining"),
            daily_remaining=header_int(headers, "X-RateLimit-Daily-Remaining"),
            daily_limit=header_int(headers, "X-RateLimit-Limit-Daily"),
            connection_id=self.connection_id,
            run_id=self.run_id,
        )
        log_call(call)
        if self.recorder is None:
            return
        try:
            self.recorder.record(call)
        except Exception:  # a broken recorder must never fail a request
            logger.warning("recording a HighLevel call failed", exc_info=True)


def _decode(response: requests.Response) -> tuple[Any, bool]:
    """The body as JSON (orjson: a statistics answer in a fifth of json's time); json's reading for what orjson
    refuses and json takes (NaN), so nothing that decoded before fails now. An integer past 64 bits comes as
    a float, the double that HighLevel's JavaScript servers held anyway."""
    body = response.content
    try:
        return orjson.loads(body), True
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body), True
    except ValueError:
        return None, False


def _connect_failed(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0] if exc.args else None, "reason", None)
        return isinstance(reason, NewConnectionError)
    return False
