"""Small pure helpers for the URLs a request names (no sockets: see fetch.py for those)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def url_filename(url: str) -> str:
    """The last path segment of `url`, unquoted: the name a file goes by without a header.

    >>> url_filename("https://example.com/docs/Annual%20report.pdf?v=2")
    'Annual report.pdf'
    """
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])
