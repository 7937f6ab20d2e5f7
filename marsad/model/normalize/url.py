"""URLs: the form two feeds would both write for the same resource.

Scheme and host in lower case; the host as a canonical IPv4, a bracketed RFC 5952 IPv6 or
an IDNA host name (single-label hosts such as ``localhost`` are allowed here); default
ports dropped (http 80, https 443, ftp 21, ws 80, wss 443) and other ports written
without leading zeros; user info kept. Path and query: percent-escapes of unreserved
characters decoded (``%7e`` → ``~``), other escapes in upper-case hex (``%2f`` → ``%2F``),
non-ASCII characters percent-encoded as UTF-8; everything else kept as sent, dot segments
included (servers and phishing kits disagree on them). An empty path is ``/``; the
fragment is dropped (it never reaches the server); an empty query (``?``) is kept.
Any scheme is accepted (``tcp://`` is common in C2 feeds); whitespace is not.
"""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.domain import normalize_host
from marsad.model.normalize.ip import is_ipv4, normalize_ipv4, normalize_ipv6

_URL: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*+)://(?:([^@/?#\s]*+)@)?(\[[^\]\s/]*+\]|[^:/?#@\s]*+)"
    r"(?::([^/?#\s]*+))?([^?#\s]*+)(?:\?([^#\s]*+))?(?:#\S*+)?\Z"
)
_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}
_ESCAPE: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DIGITS_AND_DOTS: Final = frozenset("0123456789.")


def _unescape(m: re.Match[str]) -> str:
    char = chr(int(m.group(1), 16))
    return char if char in _UNRESERVED else "%" + m.group(1).upper()


def _encode_non_ascii(text: str) -> str:
    return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def _escapes(text: str) -> str:
    if not text.isascii():
        text = _encode_non_ascii(text)
    return _ESCAPE.sub(_unescape, text) if "%" in text else text


def _host(raw: str, host: str) -> str:
    try:
        if host[:1] == "[":
            return f"[{normalize_ipv6(host)}]"
        if host[-1:].isdigit() and (is_ipv4(host) or _DIGITS_AND_DOTS.issuperset(host)):
            return normalize_ipv4(host)
        return normalize_host(host, "url")
    except InvalidObservable as exc:
        raise InvalidObservable("url", raw, f"host: {exc.reason}") from None


def url_host(url: str) -> str:
    """The host of a canonical URL (brackets kept for IPv6)."""
    authority = url.split("/", 3)[2].rpartition("@")[2]
    if authority[:1] == "[":
        return authority[: authority.index("]") + 1]
    return authority.partition(":")[0]


def normalize_url(raw: str) -> str:
    """Canonical URL; the reason names the part that is wrong."""
    m = _URL.match(raw)
    if m is None:
        if any(c.isspace() for c in raw):
            raise InvalidObservable("url", raw, "a URL cannot contain whitespace")
        raise InvalidObservable("url", raw, "expected scheme://host/path")
    scheme, userinfo, host, port, path, query = m.groups()
    if not host:
        raise InvalidObservable("url", raw, "the URL has no host")
    scheme = scheme.lower()
    authority = _host(raw, host)
    if port:
        if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidObservable("url", raw, f"port {port!r} is not 1-65535")
        port = str(int(port))
        if _DEFAULT_PORTS.get(scheme) != port:
            authority = f"{authority}:{port}"
    if userinfo:
        authority = f"{_escapes(userinfo)}@{authority}"
    path = _escapes(path) if path else "/"
    if query is None:
        return f"{scheme}://{authority}{path}"
    return f"{scheme}://{authority}{path}?{_escapes(query)}"
