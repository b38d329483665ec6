"""The ``Sources`` of a count over the local store, a fallback and the safe fetcher.

A face builds one per caller (the HTTP count route per request, the CLI per command, a library
user with ``inputtokens.library.local_sources``) and hands it to the pipeline, which asks it
once for stored state and once for media (count/needs.py):

- stored state: conversations, previous responses and referenced items, from the store, then
  from the fallback (the upstream with the caller's key), kept in the store (resolve.py);
- stored files: by id, the same way;
- remote URLs: fetched concurrently by the ``SafeFetcher``, at most ``max_remote_urls``
  distinct ones per request; without a fetcher they are left out (counted by the documented
  assumption, flagged).

The store opens on first use, so a count that names nothing stored never loads SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from ..core.errors import InputTokensError, InvalidRequestError
from ..count.needs import NO_SOURCES, MediaNeeds, MediaRef, StateNeeds, StoredState
from ..media.image_size import ImageSize
from ..media.loaded import FetchedFile, LoadedMedia, StoredFileContent
from .resolve import Fallback, keep, load_state, lookup_owners

if TYPE_CHECKING:  # fetch.py (sockets, TLS) and the store (SQLAlchemy) load on first use
    from ..media.fetch import SafeFetcher
    from .store import Store

DEFAULT_MAX_REMOTE_URLS = 64  # distinct image/file URLs fetched for one request


class LocalSources:
    """Stored state and files of one owner, and fetched URLs, for the count pipeline."""

    def __init__(
        self,
        store: Callable[[], Store] | None = None,
        *,
        owner: str = "",
        fallback: Fallback | None = None,
        fetcher: SafeFetcher | None = None,
        max_remote_urls: int = DEFAULT_MAX_REMOTE_URLS,
    ) -> None:
        self._open_store = store
        self.owner = owner
        self.fallback = fallback
        self.fetcher = fetcher
        self.max_remote_urls = max_remote_urls

    def load_state(self, needs: StateNeeds) -> StoredState:
        if self._open_store is None:
            return NO_SOURCES.load_state(needs)
        return load_state(needs, self._open_store(), self.owner, self.fallback)

    def load_media(self, needs: MediaNeeds) -> LoadedMedia:
        stored: dict[str, StoredFileContent] = {}
        file_ids = needs.file_ids
        if file_ids:
            if self._open_store is None:
                return NO_SOURCES.load_media(needs)  # a 400 naming the first file id
            self._load_stored(file_ids, self._open_store(), stored)
        images: dict[str, ImageSize] = {}
        files: dict[str, FetchedFile] = {}
        if self.fetcher is not None and needs.urls:
            self._fetch(needs.urls, self.fetcher, images, files)
        return LoadedMedia(images, files, stored)

    def _load_stored(
        self, refs: tuple[MediaRef, ...], store: Store, out: dict[str, StoredFileContent]
    ) -> None:
        """Every stored file of `refs` for the owner (or, failing that, of the fallback's
        owner, then from the fallback, kept in the store); an unknown id is a 400."""
        owners = lookup_owners(self.owner, self.fallback)
        for ref in refs:
            if ref.value in out:
                continue
            found = None
            for where in owners:
                row = store.file_with_content(where, ref.value)
                if row is not None:
                    found = StoredFileContent(row[0].filename, row[1])
                    break
            if found is None and self.fallback is not None:
                found = _file_from_fallback(ref, store, self.fallback)
            if found is None:
                raise InvalidRequestError(
                    f"No file with id '{ref.value}' is stored here.",
                    param=ref.param,
                    code="file_not_found",
                )
            out[ref.value] = found

    def _fetch(
        self,
        refs: tuple[MediaRef, ...],
        fetcher: SafeFetcher,
        images: dict[str, ImageSize],
        files: dict[str, FetchedFile],
    ) -> None:
        """Fetch every distinct URL concurrently; the first failure is a 400 naming its field."""
        from ..media.fetch import FetchError, fetch_all

        unique: dict[tuple[str, str], MediaRef] = {}
        for ref in refs:
            unique.setdefault((ref.kind, ref.value), ref)
        if len(unique) > self.max_remote_urls:
            first_over = list(unique.values())[self.max_remote_urls]
            raise InvalidRequestError(
                f"The request names {len(unique)} remote images and files; at most "
                f"{self.max_remote_urls} are fetched for one request.",
                param=first_over.param,
                code="too_many_urls",
            )
        wanted = list(unique.values())
        jobs = [
            partial(fetcher.image_size if ref.kind == "image" else fetcher.file, ref.value)
            for ref in wanted
        ]
        for ref, result in zip(wanted, fetch_all(jobs), strict=True):
            if isinstance(result, FetchError):
                raise InvalidRequestError(str(result), param=ref.param, code=result.code)
            if isinstance(result, ImageSize):
                images[ref.value] = result
            elif isinstance(result, FetchedFile):
                files[ref.value] = result


def _file_from_fallback(
    ref: MediaRef, store: Store, fallback: Fallback
) -> StoredFileContent | None:
    """A file from the fallback, kept in the store under its id."""
    try:
        fetched = fallback.file(ref.value)
    except InputTokensError as exc:
        if exc.param is None:  # the fallback knows the id, not the field that named it
            exc.param = ref.param
        raise
    if fetched is None:
        return None
    meta, data = fetched
    filename = str(meta.get("filename") or ref.value)
    created = meta.get("created_at")
    keep(
        lambda: store.cache_file(
            fallback.owner,
            ref.value,
            filename,
            str(meta.get("purpose") or "user_data"),
            data,
            created if isinstance(created, int) else None,
        )
    )
    return StoredFileContent(filename, data)
