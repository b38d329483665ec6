"""Safe fetching of remote images and files named by http(s) URLs.

OpenAI downloads ``image_url`` and ``file_url`` itself, so the count depends on what is behind
the URL: an image's size, a file's text. This module fetches it the way a service that takes
URLs from strangers must:

- only ``http`` and ``https``, no credentials in the URL;
- the host is resolved once and *every* address it resolves to must be public: loopback,
  private, link-local (which holds the cloud metadata address), shared, multicast, reserved
  and unspecified addresses are refused, as are IPv4 addresses hidden in IPv6 ones; the
  connection then goes to the address that was checked, so a second DNS answer cannot swap
  in a private one (DNS rebinding);
- redirects are followed by hand, at most ``max_redirects``, each one checked like the first;
- one deadline covers DNS, connecting, redirects and reading; bytes are capped while
  streaming, not after;
- images are read only until their header gives the size, so a 20 MB photo costs a few KB;
- the content type must fit what the field expects.

Named hosts can be admitted past the address check (``allow_hosts``), which is how the tests
reach their loopback server. Results are cached by URL for ``cache_ttl_s``.

This is the one module of the package that opens sockets; the counting core only ever sees
what it returns.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

from .files import MAX_FILE_BYTES, media_type
from .image_size import MAX_IMAGE_BYTES, ImageError, ImageSize, image_size
from .loaded import FetchedFile
from .urls import url_filename

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_T = TypeVar("_T")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Cloud metadata services that are reachable on addresses the generic checks would pass
# (Azure's wire server is in public space) or that deserve a clearer reason than "private".
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "100.100.100.200",
        "168.63.129.16",
    )
)
_IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/gif", "image/webp"}
)
# Servers often label any download as one of these; the image header then decides.
_UNLABELLED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# Sizes are read after this many bytes, then after each doubling, until the header parses.
_FIRST_IMAGE_PROBE = 16 * 1024


class FetchError(ValueError):
    """The URL could not be used; the message is user-facing and names the URL."""

    def __init__(self, message: str, code: str = "invalid_url") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What the fetcher may do; built from Settings (docs/configuration.md)."""

    allow_hosts: frozenset[str] = frozenset()
    timeout_s: float = 10.0
    max_redirects: int = 3
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_file_bytes: int = MAX_FILE_BYTES
    cache_ttl_s: float = 600.0
    cache_entries: int = 1024
    cache_file_bytes: int = 64 * 1024 * 1024


# The setting that fills ``FetchPolicy.allow_hosts`` (settings.py), named by a refusal.
ALLOW_HOSTS_SETTING = "INPUTTOKENS_REMOTE_ALLOW_HOSTS"


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` may not be fetched from, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            return blocked_reason(embedded)
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


class _TTLCache:
    """A small thread-safe LRU with expiry; `weigh` bounds the total size of the values."""

    def __init__(
        self,
        entries: int,
        ttl_s: float,
        budget: int | None = None,
        weigh: Callable[[object], int] = lambda _: 0,
    ) -> None:
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._entries, self._ttl, self._budget, self._weigh = entries, ttl_s, budget, weigh
        self._weight = 0

    def get(self, key: str) -> object | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: str, value: object) -> None:
        weight = self._weigh(value)
        if self._entries <= 0 or (self._budget is not None and weight > self._budget):
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + self._ttl, value)
            self._weight += weight
            while len(self._items) > self._entries or (
                self._budget is not None and self._weight > self._budget
            ):
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, value = self._items.pop(key)
        self._weight -= self._weigh(value)


class _Deadline:
    """One time budget for a whole fetch; arms the open socket with what is left of it."""

    def __init__(self, seconds: float, url: str) -> None:
        self._end = time.monotonic() + seconds
        self.url = url
        self.sock: socket.socket | None = None

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise FetchError(f"Timeout while downloading {self.url}.", "url_timeout")
        return left

    def arm(self) -> None:
        """Cut the socket's timeout to the time left, so a slow trickle cannot outlast it."""
        left = self.remaining()
        if self.sock is not None:
            self.sock.settimeout(left)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified against the URL's host."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _filename(response: http.client.HTTPResponse, url: str) -> str:
    disposition = response.getheader("Content-Disposition") or ""
    for piece in disposition.split(";"):
        key, _, value = piece.strip().partition("=")
        if key.lower() == "filename" and value:
            return value.strip().strip('"')
    return url_filename(url)


class SafeFetcher:
    """Fetches remote images (their size) and files (their bytes) under a FetchPolicy."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._allow = frozenset(h.lower().strip("[]") for h in self.policy.allow_hosts)
        self._sizes = _TTLCache(self.policy.cache_entries, self.policy.cache_ttl_s)
        self._files = _TTLCache(
            self.policy.cache_entries,
            self.policy.cache_ttl_s,
            self.policy.cache_file_bytes,
            lambda f: len(f.data) if isinstance(f, FetchedFile) else 0,
        )
        self._tls = ssl.create_default_context()
        self._dns = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inputtokens-dns")

    # -- public API -------------------------------------------------------------------------

    def image_size(self, url: str) -> ImageSize:
        """The displayed size of the image at `url`, reading no more than its header needs."""
        cached = self._sizes.get(url)
        if isinstance(cached, ImageSize):
            return cached
        size = self._fetch(url, self._read_image_size, self.policy.max_image_bytes, "image")
        self._sizes.put(url, size)
        return size

    def file(self, url: str) -> FetchedFile:
        """The whole body of the file at `url`, up to the file byte cap."""
        cached = self._files.get(url)
        if isinstance(cached, FetchedFile):
            return cached
        fetched = self._fetch(url, self._read_file, self.policy.max_file_bytes, "file")
        self._files.put(url, fetched)
        return fetched

    # -- one fetch, redirects included ------------------------------------------------------

    def _fetch(
        self,
        url: str,
        read: Callable[[http.client.HTTPResponse, str, int, _Deadline], _T],
        cap: int,
        what: str,
    ) -> _T:
        deadline = _Deadline(self.policy.timeout_s, url)
        current = url
        for _ in range(self.policy.max_redirects + 1):
            conn, response = self._request(current, deadline)
            try:
                if response.status in _REDIRECTS:
                    location = response.getheader("Location")
                    if not location:
                        raise FetchError(
                            f"Error while downloading {url}: a redirect without a Location."
                        )
                    current = urljoin(current, location)
                    continue
                if response.status != 200:
                    raise FetchError(
                        f"Error while downloading {url}: the server answered "
                        f"HTTP {response.status}."
                    )
                encoding = (response.getheader("Content-Encoding") or "identity").lower()
                if encoding != "identity":
                    raise FetchError(
                        f"Error while downloading {url}: content encoding "
                        f"'{encoding}' was not asked for."
                    )
                length = response.getheader("Content-Length")
                if length and length.isdigit() and int(length) > cap:
                    # Refused as a data URL of that size would be, though only a header is read.
                    raise _too_large(url, what, cap)
                return read(response, current, cap, deadline)
            finally:
                response.close()  # owns the socket once the server said it will close
                conn.close()
        raise FetchError(
            f"Error while downloading {url}: more than {self.policy.max_redirects} redirects."
        )

    def _request(
        self, url: str, deadline: _Deadline
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"Cannot download {url}: only http and https URLs are fetched.")
        if parts.username is not None or parts.password is not None:
            raise FetchError(f"Cannot download {url}: URLs with credentials are not fetched.")
        host = parts.hostname
        if not host:
            raise FetchError(f"Cannot download {url}: the URL has no host.")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"Cannot download {url}: the port is not valid.") from None
        addresses = self._resolve(host, port, url, deadline)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        last_error: OSError | None = None
        for address in addresses:
            timeout = deadline.remaining()
            conn: http.client.HTTPConnection
            if scheme == "https":
                conn = _PinnedHTTPSConnection(host, port, address, timeout, self._tls)
            else:
                conn = _PinnedHTTPConnection(host, port, address, timeout)
            try:
                conn.request(
                    "GET",
                    target,
                    headers={
                        "Accept-Encoding": "identity",
                        "User-Agent": "inputtokens (size probe)",
                    },
                )
                response = conn.getresponse()
                deadline.sock = conn.sock
                return conn, response
            except TimeoutError:
                conn.close()
                raise FetchError(f"Timeout while downloading {url}.", "url_timeout") from None
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                last_error = exc if isinstance(exc, OSError) else OSError(str(exc))
        raise FetchError(f"Error while downloading {url}: {last_error}.")

    def _resolve(self, host: str, port: int, url: str, deadline: _Deadline) -> list[str]:
        """Addresses for `host`, all of which must be public unless the host is allowed."""
        future = self._dns.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=deadline.remaining())
        except FutureTimeout:
            raise FetchError(f"Timeout while downloading {url}.", "url_timeout") from None
        except (OSError, UnicodeError):
            raise FetchError(
                f"Error while downloading {url}: the host '{host}' does not resolve."
            ) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if host.lower() not in self._allow:
            for text in addresses:
                reason = blocked_reason(ipaddress.ip_address(text.split("%", 1)[0]))
                if reason is not None:
                    raise FetchError(
                        f"Refusing to download {url}: '{host}' resolves to {reason} ({text}). "
                        f"To fetch from it, add '{host}' to {ALLOW_HOSTS_SETTING}.",
                        "url_not_allowed",
                    )
        return addresses

    # -- reading bodies ---------------------------------------------------------------------

    def _read_image_size(
        self, response: http.client.HTTPResponse, url: str, cap: int, deadline: _Deadline
    ) -> ImageSize:
        media = media_type(response.getheader("Content-Type")) or ""
        if media not in _IMAGE_TYPES and media not in _UNLABELLED_TYPES:
            raise FetchError(
                f"The URL {url} did not return an image (content type '{media}').",
                "invalid_image_url",
            )
        data = bytearray()
        probe = _FIRST_IMAGE_PROBE
        while True:
            chunk = _read_chunk(response, deadline)
            data += chunk
            if len(data) > cap:
                raise _too_large(url, "image", cap)
            if chunk and len(data) < probe:
                continue
            try:
                return image_size(bytes(data))
            except ImageError as exc:
                if not chunk:  # the whole image is here and still does not parse
                    raise FetchError(
                        f"The image at {url} cannot be used: {exc}", "invalid_image"
                    ) from None
            probe = len(data) * 2

    def _read_file(
        self, response: http.client.HTTPResponse, url: str, cap: int, deadline: _Deadline
    ) -> FetchedFile:
        data = bytearray()
        while chunk := _read_chunk(response, deadline):
            data += chunk
            if len(data) > cap:
                raise _too_large(url, "file", cap)
        return FetchedFile(
            bytes(data),
            media_type(response.getheader("Content-Type")) or "",
            _filename(response, url),
            url,
        )


def _read_chunk(response: http.client.HTTPResponse, deadline: _Deadline) -> bytes:
    """Up to one chunk, with the socket's timeout cut to what is left of the deadline."""
    deadline.arm()
    try:
        return response.read1(_CHUNK)
    except TimeoutError:
        raise FetchError(f"Timeout while downloading {deadline.url}.", "url_timeout") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"Error while downloading {deadline.url}: {exc}.") from None


def _too_large(url: str, what: str, cap: int) -> FetchError:
    code = "invalid_image" if what == "image" else "file_too_large"
    return FetchError(f"The {what} at {url} is larger than the limit of {cap} bytes.", code)


@lru_cache(maxsize=8)
def fetcher_for(policy: FetchPolicy) -> SafeFetcher:
    """The process's fetcher for `policy`: one per policy, so its cache is shared."""
    return SafeFetcher(policy)


def fetch_all(jobs: Iterable[Callable[[], object]], workers: int = 8) -> list[object]:
    """Run fetch jobs concurrently; results (or the FetchError raised) in job order."""
    jobs = list(jobs)
    if len(jobs) == 1:
        return [_capture(jobs[0])]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(jobs)), thread_name_prefix="inputtokens-fetch"
    ) as pool:
        return list(pool.map(_capture, jobs))


def _capture(job: Callable[[], object]) -> object:
    try:
        return job()
    except FetchError as exc:
        return exc
