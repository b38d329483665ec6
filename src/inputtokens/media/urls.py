"""Small pure helpers for the URLs a request names (no sockets: see fetch.py for those)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def url_filename(url: str) -> str:
    """The last path segment of `url`, unquoted: the name a file goes by without a header.

    >>> url_filename("https://example.com/docs/Annual%20report.pdf?v=2")
    'Annual report.pdf'
    """
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def is_remote_url(url: str) -> bool:
    """Whether `url` is an http(s) URL. The scheme is case-insensitive (RFC 3986, 3.1).

    >>> is_remote_url("HTTP://example.com/a.png"), is_remote_url("ftp://example.com/a.png")
    (True, False)
    """
    return url[:8].lower().startswith(("http://", "https://"))


def is_data_url(url: str) -> bool:
    """Whether `url` is a ``data:`` URL, whatever the case of its scheme.

    >>> is_data_url("DATA:image/png;base64,aGk=")
    True
    """
    return url[:5].lower() == "data:"
