"""Attachments: the content a count needs from outside the request, once the edge has it.

Rendering stays pure: when it meets an http(s) ``image_url``, a ``file_url`` or a ``file_id``
it looks it up here. What is not here is recorded in ``wanted`` (and counted with the
documented assumption meanwhile). The counting facade then loads every wanted stored file
(store.py) and fetches every wanted URL at once (fetch.py), puts the results here and renders
again, so a request with such content costs one round of loading, and a request without any
costs nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from ..core.errors import InputTokensError, InvalidRequestError
from ..media.files import MAX_FILE_BYTES
from ..media.images import MAX_IMAGE_BYTES, ImageSize
from .resolve import keep, lookup_owners

if TYPE_CHECKING:  # fetch.py (sockets, TLS) is imported only when a request names a URL
    from ..media.fetch import FetchedFile, SafeFetcher
    from .resolve import Fallback
    from .store import Store


class RemoteRef(NamedTuple):
    """One URL or stored file id the prompt needs, with the field it came from (for errors)."""

    kind: str  # "image" or "file" (a URL), or "file_id" (a stored file)
    url: str  # the URL, or the file id
    param: str


@dataclass(slots=True)
class Attachments:
    """Fetched remote content for one request, and the limits that apply to inline content."""

    max_image_bytes: int = MAX_IMAGE_BYTES
    max_file_bytes: int = MAX_FILE_BYTES
    images: dict[str, ImageSize] = field(default_factory=dict)
    files: dict[str, FetchedFile] = field(default_factory=dict)
    wanted: list[RemoteRef] = field(default_factory=list)
    stored: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> (name, bytes)

    def image(self, url: str, param: str) -> ImageSize | None:
        """The fetched size of `url`, or None (then the URL is wanted)."""
        size = self.images.get(url)
        if size is None:
            self.wanted.append(RemoteRef("image", url, param))
        return size

    def stored_file(self, file_id: str, param: str) -> tuple[str, bytes] | None:
        """The stored file `file_id` as (filename, bytes), or None (then the id is wanted)."""
        found = self.stored.get(file_id)
        if found is None:
            self.wanted.append(RemoteRef("file_id", file_id, param))
        return found

    def file(self, url: str, param: str) -> FetchedFile | None:
        """The fetched file at `url`, or None (then the URL is wanted)."""
        fetched = self.files.get(url)
        if fetched is None:
            self.wanted.append(RemoteRef("file", url, param))
        return fetched


def load_stored(
    attachments: Attachments, store: Store, owner: str, fallback: Fallback | None = None
) -> None:
    """Read every wanted stored file of `owner` (or, failing that, of the fallback's owner,
    then from the fallback, kept in the store); an unknown id is a 400 naming the field."""
    refs = [ref for ref in attachments.wanted if ref.kind == "file_id"]
    attachments.wanted[:] = [ref for ref in attachments.wanted if ref.kind != "file_id"]
    owners = lookup_owners(owner, fallback)
    for ref in refs:
        if ref.url in attachments.stored:
            continue
        found = None
        for where in owners:
            stored = store.file_with_content(where, ref.url)
            if stored is not None:
                found = (stored[0].filename, stored[1])
                break
        if found is None and fallback is not None:
            found = _fetch_file(ref, store, fallback)
        if found is None:
            raise InvalidRequestError(
                f"No file with id '{ref.url}' is stored here.",
                param=ref.param,
                code="file_not_found",
            )
        attachments.stored[ref.url] = found


def _fetch_file(ref: RemoteRef, store: Store, fallback: Fallback) -> tuple[str, bytes] | None:
    """A file from the fallback as (filename, bytes), kept in the store under its id."""
    try:
        fetched = fallback.file(ref.url)
    except InputTokensError as exc:
        if exc.param is None:  # the fallback knows the id, not the field that named it
            exc.param = ref.param
        raise
    if fetched is None:
        return None
    meta, data = fetched
    filename = str(meta.get("filename") or ref.url)
    created = meta.get("created_at")
    keep(
        lambda: store.cache_file(
            fallback.owner,
            ref.url,
            filename,
            str(meta.get("purpose") or "user_data"),
            data,
            created if isinstance(created, int) else None,
        )
    )
    return filename, data


def fetch_wanted(attachments: Attachments, fetcher: SafeFetcher, max_urls: int) -> None:
    """Fetch every wanted URL concurrently into `attachments`; the first failure is a 400.

    This is the I/O edge of counting: called by the facade between two renders.
    """
    from ..media.fetch import FetchedFile, FetchError, fetch_all

    unique: dict[tuple[str, str], RemoteRef] = {}
    for ref in attachments.wanted:
        unique.setdefault((ref.kind, ref.url), ref)
    attachments.wanted.clear()
    if len(unique) > max_urls:
        first_over = list(unique.values())[max_urls]
        raise InvalidRequestError(
            f"The request names {len(unique)} remote images and files; at most {max_urls} "
            "are fetched for one request.",
            param=first_over.param,
            code="too_many_urls",
        )
    refs = list(unique.values())
    jobs = [
        partial(fetcher.image_size if ref.kind == "image" else fetcher.file, ref.url)
        for ref in refs
    ]
    for ref, result in zip(refs, fetch_all(jobs), strict=True):
        if isinstance(result, FetchError):
            raise InvalidRequestError(str(result), param=ref.param, code=result.code)
        if isinstance(result, ImageSize):
            attachments.images[ref.url] = result
        elif isinstance(result, FetchedFile):
            attachments.files[ref.url] = result
