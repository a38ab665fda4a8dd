"""Import by address (a file URL, an OGC API Features collection or a WFS) without SSRF.

Every hop is checked before we connect: the scheme must be http or https, the host is resolved
and **every** address it resolves to must be a public (global) address — loopback, private,
link-local (the cloud metadata address 169.254.169.254), multicast, reserved, unspecified,
shared (CGNAT) and IPv4-mapped forms of these are refused. The connection then goes to the
address that was checked (no second DNS look-up, so DNS rebinding cannot swap it), redirects
are followed by hand with the same check on each, and size and total time are bounded.

``allow`` names ``host:port`` pairs that may be internal anyway (for a deployment's own
services, and for tests); it is empty by default.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Collection
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from biostresstest.core.errors import InvalidInput, PayloadTooLarge, SourceUnavailable
from biostresstest.sources.upload.limits import UploadLimits

_HINT = "give the public http(s) address of the file, OGC API collection or WFS"


def check_url(url: str, allow: Collection[str] = ()) -> tuple[str, str, int, str]:
    """(scheme, host, port, checked IP) of ``url``; :class:`InvalidInput` for a refused one."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidInput(
            f"the address must start with http:// or https://, not {scheme!r}", hint=_HINT
        )
    if parts.username or parts.password:
        raise InvalidInput("addresses with a user name or password are refused", hint=_HINT)
    host = parts.hostname
    if not host:
        raise InvalidInput(f"the address {url!r} has no host", hint=_HINT)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidInput(f"the address {url!r} has an invalid port", hint=_HINT) from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(f"the host {host!r} cannot be found", hint=_HINT) from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if f"{host}:{port}" not in allow:
        for address in addresses:
            reason = _refused(address)
            if reason:
                raise InvalidInput(
                    f"the address {url!r} points to {address}, a {reason} address; "
                    "imports only read from public addresses",
                    hint=_HINT,
                )
    return scheme, host, port, addresses[0]


def _refused(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return "" if ip.is_global else "non-public"


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def download(url: str, target: Path, limits: UploadLimits, allow: Collection[str] = ()) -> str:
    """Fetch ``url`` into ``target`` (redirects checked hop by hop); return the final URL."""
    deadline = time.monotonic() + limits.url_timeout_s
    for _ in range(limits.max_redirects + 1):
        scheme, host, port, ip = check_url(url, allow)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SourceUnavailable(f"fetching {url} took longer than {limits.url_timeout_s} s")
        cls = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = cls(host, port, ip, timeout=min(remaining, 30.0))
        parts = urlsplit(url)
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        try:
            conn.request("GET", path, headers={"User-Agent": "biostresstest", "Host": parts.netloc})
            answer = conn.getresponse()
            if answer.status in (301, 302, 303, 307, 308):
                location = answer.getheader("Location")
                if not location:
                    raise SourceUnavailable(f"{url} redirects without a Location")
                url = urljoin(url, location)
                continue
            if answer.status != 200:
                raise SourceUnavailable(f"{url} answered HTTP {answer.status}", hint=_HINT)
            _save(answer, target, limits, deadline, url)
            return url
        except (OSError, http.client.HTTPException) as exc:
            raise SourceUnavailable(f"could not fetch {url}: {exc}", hint=_HINT) from exc
        finally:
            conn.close()
    raise SourceUnavailable(f"more than {limits.max_redirects} redirects", hint=_HINT)


def _save(
    answer: http.client.HTTPResponse, target: Path, limits: UploadLimits, deadline: float, url: str
) -> None:
    declared = answer.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise PayloadTooLarge(
            f"{url} holds {int(declared):,} bytes; at most {limits.max_bytes:,} are accepted"
        )
    size = 0
    with target.open("wb") as out:
        while block := answer.read(1 << 16):
            size += len(block)
            if size > limits.max_bytes:
                raise PayloadTooLarge(f"{url} is larger than {limits.max_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise SourceUnavailable(f"fetching {url} took longer than {limits.url_timeout_s} s")
            out.write(block)


def wfs_as_geojson(url: str) -> str:
    """A WFS GetFeature address asking for GeoJSON (GML/XML is not accepted as upload)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if query.get("service", query.get("SERVICE", "")).upper() != "WFS":
        return url
    keys = {k.lower(): k for k in query}
    query[keys.get("outputformat", "outputFormat")] = "application/json"
    return urlunsplit((*parts[:3], urlencode(query), parts.fragment))


def fetch_by_address(
    url: str, target: Path, limits: UploadLimits, allow: Collection[str] = ()
) -> str:
    """Bring a dataset at ``url`` into ``target``: a file, a WFS or an OGC API collection.

    An OGC API Features answer (GeoJSON with a ``next`` link) is followed page by page, every
    page address checked like the first; the features are joined into one GeoJSON file.
    """
    url = wfs_as_geojson(url)
    final = download(url, target, limits, allow)
    head = target.read_bytes()[:1].lstrip()
    if head != b"{":
        return final
    try:
        document = json.loads(target.read_bytes())
    except ValueError:
        return final
    next_url = _next_link(document)
    if next_url is None:
        return final
    features = list(document.get("features", []))
    page = target.with_name(target.name + ".page")
    for _ in range(limits.max_pages):
        if next_url is None:
            break
        download(urljoin(final, next_url), page, limits, allow)
        document = json.loads(page.read_bytes())
        features += document.get("features", [])
        if len(features) > limits.max_features:
            raise PayloadTooLarge(f"the collection has more than {limits.max_features:,} features")
        next_url = _next_link(document)
    else:
        raise PayloadTooLarge(f"the collection has more than {limits.max_pages} pages")
    page.unlink(missing_ok=True)
    target.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return final


def _next_link(document: object) -> str | None:
    if not isinstance(document, dict):
        return None
    for link in document.get("links", []) or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None
