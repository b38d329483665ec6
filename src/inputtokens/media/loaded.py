"""What a count loaded from outside the request, as plain values for the renderer.

The pipeline (count/pipeline.py) asks the ``Sources`` a face handed in for every stored file
and remote URL the request names, before rendering; the renderer then only looks them up here.
A URL that is absent was not fetched (fetching is off, or no fetcher was given): the renderer
counts it by the documented assumption and says so. A stored file id that is absent is an
error, since no assumption can stand in for a file's content.

``InlineLimits`` are the byte caps on content embedded in the body (data URLs, file_data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .files import MAX_FILE_BYTES
from .image_size import MAX_IMAGE_BYTES, ImageSize


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """The body of a fetched file with what the response said about it."""

    data: bytes
    content_type: str
    filename: str  # from Content-Disposition, else the last path segment of the final URL
    url: str  # after redirects


class StoredFileContent(NamedTuple):
    """A stored file's name and bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class LoadedMedia:
    """Image sizes and files by URL, and stored files by id, for one request."""

    images: dict[str, ImageSize] = field(default_factory=dict)
    files: dict[str, FetchedFile] = field(default_factory=dict)
    stored_files: dict[str, StoredFileContent] = field(default_factory=dict)


NOTHING_LOADED = LoadedMedia()


class InlineLimits(NamedTuple):
    """Byte caps on images and files embedded in the request body."""

    max_image_bytes: int = MAX_IMAGE_BYTES
    max_file_bytes: int = MAX_FILE_BYTES


DEFAULT_INLINE_LIMITS = InlineLimits()
