"""Import by address (a file URL, an OGC API Features collection or a WFS) without SSRF.

Every hop is checked before we connect: the scheme must be http or https, the host is resolved
and **every** address it resolves to must be a public (global) address — loopback, private,
link-local (the cloud metadata address 169.254.169.254), multicast, reserved, unspecified,
shared (CGNAT) and IPv4-mapped forms of these are refused. The connection then goes to the
address that was checked (no second DNS look-up, so DNS rebinding cannot swap it), redirects
are followed by hand with the same check on each, and size and total time are bounded.

Time and size are bounded for the whole fetch, not per request: one deadline
(``UploadLimits.url_timeout_s``) runs through every hop and every page. Each read is a single
``read1`` with the socket timeout set to the time left, and a watchdog shuts the socket down at
the deadline, so a server that trickles its headers or its body a byte at a time is cut off
on time. Every page is held to ``max_page_bytes`` and all pages together to ``max_bytes``; the
pages of a collection are joined one page at a time, never all in memory.

``allow`` names ``host:port`` pairs that may be internal anyway (for a deployment's own
services, and for tests); it is empty by default.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from biostresstest.core.errors import (
    CorruptInput,
    InvalidInput,
    PayloadTooLarge,
    SourceUnavailable,
)
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
    """A connection to the checked address; ``raw_sock`` outlives ``sock`` (which http.client
    drops once a response that closes the connection takes it over)."""

    raw_sock: socket.socket | None = None

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = self.raw_sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    raw_sock: socket.socket | None = None

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self.raw_sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


_Pinned = _PinnedHTTP | _PinnedHTTPS


@dataclass
class FetchBudget:
    """What is left of one fetch by address: time (one deadline) and bytes (one total)."""

    deadline: float
    bytes_left: int
    timeout_s: float

    @classmethod
    def start(cls, limits: UploadLimits) -> FetchBudget:
        """A fresh budget: ``url_timeout_s`` from now and ``max_bytes`` in total."""
        return cls(time.monotonic() + limits.url_timeout_s, limits.max_bytes, limits.url_timeout_s)

    def remaining(self, url: str) -> float:
        """Seconds left; :class:`SourceUnavailable` once the deadline has passed."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.expired(url)
        return left

    def expired(self, url: str) -> SourceUnavailable:
        """The error of a fetch that ran out of time."""
        return SourceUnavailable(
            f"fetching {url} took longer than {self.timeout_s:g} s",
            hint="the server is too slow; download the file yourself and upload it",
        )


def download(
    url: str,
    target: Path,
    limits: UploadLimits,
    allow: Collection[str] = (),
    budget: FetchBudget | None = None,
    max_bytes: int | None = None,
) -> str:
    """Fetch ``url`` into ``target`` (redirects checked hop by hop); return the final URL.

    ``budget`` is shared by all downloads of one fetch (default: a fresh one); ``max_bytes``
    caps this download on its own (default: ``limits.max_bytes``).
    """
    budget = budget or FetchBudget.start(limits)
    cap = min(max_bytes or limits.max_bytes, budget.bytes_left)
    for _ in range(limits.max_redirects + 1):
        scheme, host, port, ip = check_url(url, allow)
        remaining = budget.remaining(url)
        conn: _Pinned = (_PinnedHTTPS if scheme == "https" else _PinnedHTTP)(
            host, port, ip, timeout=remaining
        )
        parts = urlsplit(url)
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        with _watchdog(conn, remaining) as expired:
            try:
                conn.request(
                    "GET", path, headers={"User-Agent": "biostresstest", "Host": parts.netloc}
                )
                answer = conn.getresponse()
                if answer.status in (301, 302, 303, 307, 308):
                    location = answer.getheader("Location")
                    if not location:
                        raise SourceUnavailable(f"{url} redirects without a Location")
                    url = urljoin(url, location)
                    continue
                if answer.status != 200:
                    raise SourceUnavailable(f"{url} answered HTTP {answer.status}", hint=_HINT)
                budget.bytes_left -= _save(conn, answer, target, cap, budget, url, expired)
                return url
            except (OSError, http.client.HTTPException) as exc:
                if expired.is_set() or isinstance(exc, TimeoutError):
                    # every socket timeout is the time left: this is the deadline
                    raise budget.expired(url) from exc
                raise SourceUnavailable(f"could not fetch {url}: {exc}", hint=_HINT) from exc
            finally:
                conn.close()
    raise SourceUnavailable(f"more than {limits.max_redirects} redirects", hint=_HINT)


@contextmanager
def _watchdog(conn: _Pinned, seconds: float) -> Iterator[threading.Event]:
    """Shut ``conn``'s socket down after ``seconds`` (a trickled header line has no end)."""
    expired = threading.Event()

    def fire() -> None:
        expired.set()
        if conn.raw_sock is not None:
            with suppress(OSError):
                conn.raw_sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def _save(
    conn: _Pinned,
    answer: http.client.HTTPResponse,
    target: Path,
    cap: int,
    budget: FetchBudget,
    url: str,
    expired: threading.Event,
) -> int:
    """Write the body to ``target`` within ``cap`` bytes and the deadline; the bytes written."""
    declared = answer.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(f"{url} holds {int(declared):,} bytes; at most {cap:,} are accepted")
    size = 0
    with target.open("wb") as out:
        while True:
            if conn.raw_sock is not None:
                conn.raw_sock.settimeout(budget.remaining(url))
            block = answer.read1(1 << 16)
            if expired.is_set():  # the watchdog shut the socket: an empty read is no end
                raise budget.expired(url)
            if not block:
                return size
            size += len(block)
            if size > cap:
                raise PayloadTooLarge(f"{url} is larger than {cap:,} bytes")
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


_NEXT_LINK = re.compile(rb'"rel"\s*:\s*"next"')


def fetch_by_address(
    url: str, target: Path, limits: UploadLimits, allow: Collection[str] = ()
) -> str:
    """Bring a dataset at ``url`` into ``target``: a file, a WFS or an OGC API collection.

    An OGC API Features answer (GeoJSON with a ``next`` link) is followed page by page, every
    page address checked like the first, all within one deadline and one byte budget; the
    features are written into one GeoJSON file page by page.
    """
    url = wfs_as_geojson(url)
    budget = FetchBudget.start(limits)
    final = download(url, target, limits, allow, budget)
    with target.open("rb") as handle:
        head = handle.read(1 << 20)
    if head.lstrip()[:1] != b"{":
        return final
    if target.stat().st_size > limits.max_page_bytes:
        if _NEXT_LINK.search(head) or _NEXT_LINK.search(_tail(target, 1 << 20)):
            raise PayloadTooLarge(
                f"the first page of {url} is larger than {limits.max_page_bytes:,} bytes",
                hint="ask for smaller pages (e.g. limit=1000 in the address)",
            )
        return final  # one large GeoJSON file: the reader streams it
    try:
        document = json.loads(target.read_bytes())
    except ValueError:
        return final
    next_url = _next_link(document)
    if next_url is None:
        return final
    joined = target.with_name(target.name + ".joined")
    page = target.with_name(target.name + ".page")
    try:
        with joined.open("w", encoding="utf-8") as out:
            out.write('{"type": "FeatureCollection", "features": [\n')
            count = _write_features(out, document, 0, limits)
            del document
            pages = 1
            while next_url is not None:
                pages += 1
                if pages > limits.max_pages:
                    raise PayloadTooLarge(f"the collection has more than {limits.max_pages} pages")
                download(
                    urljoin(final, next_url), page, limits, allow, budget, limits.max_page_bytes
                )
                try:
                    document = json.loads(page.read_bytes())
                except ValueError as exc:
                    raise CorruptInput(f"a page of {url} is not valid JSON: {exc}") from exc
                count = _write_features(out, document, count, limits)
                next_url = _next_link(document)
                del document
            out.write("\n]}\n")
        joined.replace(target)
    finally:
        page.unlink(missing_ok=True)
        joined.unlink(missing_ok=True)
    return final


def _write_features(out: IO[str], document: object, count: int, limits: UploadLimits) -> int:
    features = document.get("features", []) if isinstance(document, dict) else []
    for feature in features or []:
        if count >= limits.max_features:
            raise PayloadTooLarge(f"the collection has more than {limits.max_features:,} features")
        out.write((",\n" if count else "") + json.dumps(feature))
        count += 1
    return count


def _tail(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return handle.read()


def _next_link(document: object) -> str | None:
    if not isinstance(document, dict):
        return None
    for link in document.get("links", []) or []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None
