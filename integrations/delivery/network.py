"""The one way Tagscope POSTs to a destination: SSRF-guarded, pinned to the checked address, bounded.

At send time (not only when saving) the host is resolved and every address must be public, unless
settings.DESTINATION_ALLOWED_HOSTS names the host. The connection then goes to the address that was
checked, so a DNS answer that changes between check and connect (rebinding) cannot steer it inside.
Redirects are not followed; at most MAX_READ bytes of a response are read.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_READ = 64 * 1024
EXCERPT = 1024


class DestinationRefused(Exception):
    """The URL may not be called (scheme, credentials, or an address inside the network)."""


class UnresolvableHost(DestinationRefused):
    """The host name does not resolve (now): worth retrying later, not a reason to refuse saving it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    latency_ms: int
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (tests replace this to fake DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0].split("%", 1)[0] for info in infos))


# IPv6 ranges whose last 32 bits are an IPv4 address that the network (or the host's own stack) reaches:
# IPv4-compatible (::a.b.c.d), IPv4-translated (RFC 2765) and NAT64's well-known prefix (RFC 6052).
_LOW_32_EMBEDS = tuple(ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96"))
# NAT64's local-use prefix (RFC 8215) maps into a network of the operator's choosing: never a public target.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, compatible, translated, NAT64, 6to4, Teredo."""
    found = [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour) if v4 is not None]
    if ip.teredo:
        found.extend(ip.teredo)  # (server, client); the client's bits are already un-inverted
    if any(ip in net for net in _LOW_32_EMBEDS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global excludes loopback, RFC 1918, link-local (169.254.169.254 metadata), CGNAT, ULA, reserved.
    return ip.is_global and not ip.is_multicast


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv4Address):
        return _global(ip)
    if ip in _NAT64_LOCAL:
        return False
    inner = _embedded_ipv4(ip)
    if ip.ipv4_mapped:  # ::ffff:a.b.c.d is the IPv4 address itself, whatever its IPv6 range is called
        return _global(ip.ipv4_mapped)
    # Both must be public: the IPv6 address (Teredo's 2001::/32 is not) and every IPv4 one inside it.
    return _global(ip) and all(_global(v4) for v4 in inner)


def _allowed_hosts() -> set[str]:
    return {h.strip().lower().strip("[]") for h in settings.DESTINATION_ALLOWED_HOSTS if h.strip()}


def url_problem(url: str) -> str:
    """Why this URL can never be a destination (scheme, credentials, port), or ''. No DNS here."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return "That is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http:// or https:// URL with a host name."
    if parts.username or parts.password:
        return "Credentials in the URL are not supported; the signature authenticates Tagscope."
    return ""


def target_check(url: str) -> Target:
    """Resolve and check the URL's host now; raises DestinationRefused with the reason."""
    problem = url_problem(url)
    if problem:
        raise DestinationRefused(problem)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnresolvableHost(f"{host} could not be resolved ({exc}).") from None
    if not addresses:
        raise UnresolvableHost(f"{host} resolves to no address.")
    if host not in _allowed_hosts():
        for address in addresses:
            if not is_public(address):
                raise DestinationRefused(
                    f"{host} resolves to {address}, a loopback, private, link-local or metadata address; "
                    "add the host to DESTINATION_ALLOWED_HOSTS if this is intended."
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


def _pool(target: Target, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False, maxsize=1)


def post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST once. Refusals raise DestinationRefused; network trouble comes back as a PostResult error."""
    target = target_check(url)
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)
    started = time.monotonic()
    pool = _pool(target, timeout)
    try:
        response = pool.urlopen(
            "POST", target.path, body=body, redirect=False, retries=False, preload_content=False,
            headers={**headers, "Host": target.host_header, "Content-Type": "application/json",
                     "User-Agent": "Tagscope-Webhooks/1"},
        )
        try:
            content = response.read(MAX_READ, decode_content=True) or b""
        finally:
            response.close()
    except urllib3.exceptions.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        return PostResult(status_code=None, latency_ms=latency, error=_describe(exc))
    finally:
        pool.close()
    latency = int((time.monotonic() - started) * 1000)
    excerpt = content[:EXCERPT].decode("utf-8", errors="replace")
    error = ""
    if 300 <= response.status < 400:
        error = f"Redirect to {response.headers.get('Location', '?')[:200]} not followed."
    elif not 200 <= response.status < 300:
        error = f"HTTP {response.status}"
    return PostResult(status_code=response.status, latency_ms=latency, excerpt=excerpt, error=error)


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return "Connection refused or unreachable."
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "Timed out."
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "TLS error (certificate or handshake)."
    return f"{type(exc).__name__}: {str(exc)[:200]}"
