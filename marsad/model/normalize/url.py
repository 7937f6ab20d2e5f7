"""URLs: the form two feeds would both write for the same resource.

Scheme and host lower case, host IDNA-encoded, default ports dropped, percent-escapes of
unreserved characters decoded and the others upper-cased, empty path as ``/``, fragment
dropped (it never reaches the server). The query is kept as sent, escapes normalised.
"""

from __future__ import annotations

import re
from typing import Final

from marsad.model.errors import InvalidObservable
from marsad.model.normalize.domain import normalize_host
from marsad.model.normalize.net import normalize_ipv4, normalize_ipv6

_URL: Final = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?:(?P<userinfo>[^@/?#]*)@)?"
    r"(?P<host>\[[^\]]*\]|[^:/?#]*)(?::(?P<port>[^/?#]*))?(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#.*)?\Z",
    re.DOTALL,
)
_DEFAULT_PORTS: Final = {"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}
_ESCAPE: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _unescape(m: re.Match[str]) -> str:
    char = chr(int(m.group(1), 16))
    return char if char in _UNRESERVED else "%" + m.group(1).upper()


def _escapes(text: str) -> str:
    return _ESCAPE.sub(_unescape, text) if "%" in text else text


def url_host(url: str) -> str:
    """The host of a normalised URL (brackets kept for IPv6)."""
    rest = url.split("://", 1)[1]
    authority = rest.split("/", 1)[0].rpartition("@")[2]
    if authority.startswith("["):
        return authority[: authority.index("]") + 1]
    return authority.partition(":")[0]


def normalize_url(raw: str) -> str:
    """Canonical URL; the reason names the part that is wrong."""
    text = raw.strip()
    if any(c.isspace() for c in text):
        raise InvalidObservable("url", raw, "a URL cannot contain whitespace")
    m = _URL.match(text)
    if m is None:
        raise InvalidObservable("url", raw, "expected scheme://host/path")
    scheme = m.group("scheme").lower()
    host = m.group("host")
    if not host:
        raise InvalidObservable("url", raw, "the URL has no host")
    try:
        if host.startswith("["):
            host = f"[{normalize_ipv6(host)}]"
        elif host.replace(".", "").isdigit():
            host = normalize_ipv4(host)
        else:
            host = normalize_host(host, kind="url")
    except InvalidObservable as exc:
        raise InvalidObservable("url", raw, f"host: {exc.reason}") from None
    port = m.group("port")
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidObservable("url", raw, f"port {port!r} is not 1-65535")
        port = str(int(port))
    authority = host if not port or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    userinfo = m.group("userinfo")
    if userinfo:
        authority = f"{_escapes(userinfo)}@{authority}"
    path = _escapes(m.group("path")) or "/"
    query = m.group("query")
    return f"{scheme}://{authority}{path}" + (f"?{_escapes(query)}" if query is not None else "")
