"""The text of an ``input_file`` content part, read offline from the file's own bytes.

OpenAI puts the text it extracts from a file into the model's context, so counting an
``input_file`` starts with getting that text. Two kinds of file are readable here:

* PDF, recognised by its ``%PDF-`` header whatever the file is called. Each page gives its text
  (pypdf's ``extract_text``) and its displayed size in points: OpenAI also adds an image of every
  page, and the caller prices that image from the size.
* Text and code files, recognised by extension or, without one, by media type. The file is the
  text: UTF-8 (a byte order mark is dropped) or UTF-16/UTF-32 with a byte order mark.

OpenAI also accepts office documents (Word, PowerPoint, Excel, RTF, OpenDocument, Pages,
Keynote). Reading those would need a parser per format, so they are refused here with a message
that says the refusal is this counter's, not OpenAI's.

Spreadsheet-like text (``.csv``, ``.tsv``, ``.iif``) is read as plain text, but OpenAI does not
send it as is: it parses at most 1,000 rows per sheet and adds a summary written by a model,
which cannot be reproduced offline. `SPREADSHEET_EXTENSIONS` lets a caller flag such counts as
estimates.

Source of the accepted types and of the limits: OpenAI's "File inputs" guide,
https://developers.openai.com/api/docs/guides/file-inputs ("Full list of accepted file types"
and "Usage considerations").
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import io
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

# "Each file must be under 50 MB. The combined limit across all files in the request is 50 MB"
# (https://developers.openai.com/api/docs/guides/file-inputs, "Usage considerations"). OpenAI
# does not say whether MB means 10**6 or 2**20 bytes; the larger reading is used so that no file
# OpenAI takes is refused here. The per-request total is the caller's to enforce.
MAX_FILE_BYTES: Final = 50 * 1024 * 1024

# The current file-inputs guide gives no page limit. The earlier PDF guide,
# https://platform.openai.com/docs/guides/pdf-files ("File size limitations"), allowed "up to
# 100 pages and 32MB of total content in a single request": 100 is the only page count OpenAI
# has published. It also bounds the work one request can cause here.
MAX_PDF_PAGES: Final = 100

FileKind = Literal["pdf", "text"]

# Extensions of the "Text and code" and spreadsheet text rows of OpenAI's list of accepted types.
TEXT_EXTENSIONS: Final = frozenset(
    {
        ".asm",
        ".bat",
        ".c",
        ".cc",
        ".conf",
        ".cpp",
        ".css",
        ".cxx",
        ".def",
        ".dic",
        ".eml",
        ".h",
        ".hh",
        ".htm",
        ".html",
        ".ics",
        ".ifb",
        ".in",
        ".js",
        ".json",
        ".ksh",
        ".list",
        ".log",
        ".markdown",
        ".md",
        ".mht",
        ".mhtml",
        ".mime",
        ".mjs",
        ".nws",
        ".pl",
        ".py",
        ".rst",
        ".s",
        ".sql",
        ".srt",
        ".text",
        ".txt",
        ".vcf",
        ".vtt",
        ".xml",
        ".csv",
        ".tsv",
        ".iif",
    }
)
SPREADSHEET_EXTENSIONS: Final = frozenset({".csv", ".tsv", ".iif"})
SUPPORTED_EXTENSIONS: Final = TEXT_EXTENSIONS | {".pdf"}

# Accepted by OpenAI, not readable by this counter (see the module docstring).
OFFICE_EXTENSIONS: Final = frozenset(
    {
        ".doc",
        ".docx",
        ".dot",
        ".odt",
        ".rtf",
        ".pages",
        ".pot",
        ".ppa",
        ".pps",
        ".ppt",
        ".pptx",
        ".pwz",
        ".wiz",
        ".key",
        ".xla",
        ".xlb",
        ".xlc",
        ".xlm",
        ".xls",
        ".xlsx",
        ".xlt",
        ".xlw",
        ".numbers",
    }
)

# Media types that name text although they are not ``text/*`` (from OpenAI's list). Every
# ``text/*`` type counts as text except the office ones below.
_TEXT_APPLICATION_TYPES: Final = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/typescript",
        "application/xml",
        "application/x-sql",
        "application/x-scala",
        "application/x-rust",
        "application/x-powershell",
        "application/x-patch",
        "application/x-php",
        "application/x-httpd-php",
        "application/x-httpd-php-source",
        "application/x-bash",
        "application/x-sh",
        "application/x-awk",
        "application/x-terraform",
        "application/x-toml",
        "application/toml",
        "application/graphql",
        "application/x-graphql",
        "application/x-ndjson",
        "application/json5",
        "application/x-json5",
        "application/x-yaml",
        "application/yaml",
        "application/x-subrip",
        "application/csv",
        "application/x-iif",
        "message/rfc822",
    }
)
_OFFICE_TEXT_TYPES: Final = frozenset({"text/rtf"})
_PDF_TYPES: Final = frozenset({"application/pdf", "application/x-pdf"})
_IMAGE_EXTENSIONS: Final = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})

# PDF readers look for the header in the first 1024 bytes, since some writers put junk before it.
_PDF_MAGIC: Final = b"%PDF-"
_PDF_HEADER_WINDOW: Final = 1024
_PAGE_SEPARATOR: Final = "\n\n"
# Longest BOMs first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DATA_URL: Final = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?)(?P<base64>;base64)?,",
    re.ASCII | re.IGNORECASE,
)

FileErrorCode = Literal["invalid_file", "unsupported_file_type", "file_too_large"]


class FileError(ValueError):
    """The file cannot be counted: the message says why, for a 400 naming the field."""

    def __init__(self, message: str, code: FileErrorCode = "invalid_file") -> None:
        super().__init__(message)
        self.code: FileErrorCode = code


@dataclass(frozen=True, slots=True)
class FilePage:
    """One page of text; PDF pages also carry their displayed size in points (1/72 inch)."""

    text: str
    width_pt: float | None
    height_pt: float | None


@dataclass(frozen=True, slots=True)
class FileContent:
    """What a file contributes: its kind, the name it was sent under and its pages.

    A text file is a single page without a size. `filename` is ``""`` when none was given.
    """

    kind: FileKind
    filename: str
    pages: tuple[FilePage, ...]

    @property
    def text(self) -> str:
        """All the text, pages separated by a blank line.

        How OpenAI joins pages in the context is not published; the blank line is this
        module's choice, and a caller that knows better can join `pages` itself.
        """
        return _PAGE_SEPARATOR.join(page.text for page in self.pages)


def decode_file_data(file_data: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``file_data``: a base64 ``data:`` URL or bare base64.

    The size is worked out from the base64 length first, so an oversized payload is refused
    without being decoded.
    """
    payload = _base64_payload(file_data)
    padding = min(len(payload) - len(payload.rstrip("=")), 2)
    size = len(payload) // 4 * 3 - padding
    if size > max_bytes:
        raise FileError(
            f"The file is larger than the limit of {max_bytes} bytes.", "file_too_large"
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise FileError("The file data is not valid base64.") from None


def file_data_media_type(file_data: str) -> str | None:
    """The media type a ``data:`` URL declares, lower-cased; None for bare base64 or none given.

    >>> file_data_media_type("data:text/plain;base64,aGk=")
    'text/plain'
    >>> file_data_media_type("aGk=") is None
    True
    """
    match = _DATA_URL.match(file_data)
    if match is None or not match.group("mime"):
        return None
    return match.group("mime").lower()


def is_supported_filename(filename: str) -> bool:
    """Whether a file of this name can be read here (the extension decides, in any case).

    >>> is_supported_filename("Report.PDF"), is_supported_filename("notes.docx")
    (True, False)
    """
    return _extension(filename) in SUPPORTED_EXTENSIONS


def read_file(
    data: bytes,
    filename: str | None,
    content_type: str | None = None,
    *,
    max_pages: int = MAX_PDF_PAGES,
) -> FileContent:
    """The text of a file, from its bytes, its name and, failing an extension, its media type.

    Raises `FileError` for anything that cannot be counted; no other exception escapes for bad
    input.
    """
    name = filename or ""
    extension = _extension(name)
    mime = media_type(content_type)
    if _looks_like_pdf(data, extension):
        return FileContent("pdf", name, _read_pdf(data, max_pages))
    if extension == ".pdf" or (not extension and mime in _PDF_TYPES):
        raise FileError(
            "The file is named or typed as a PDF but is not one: no PDF header was found."
        )
    _check_text_type(name, extension, mime)
    return FileContent("text", name, (FilePage(_decode_text(data), None, None),))


def _looks_like_pdf(data: bytes, extension: str) -> bool:
    """A PDF header at the start, or a little later unless the name says text.

    Readers accept junk before the header, but a text file that merely mentions "%PDF-" in its
    first lines must stay text.
    """
    if data.startswith(_PDF_MAGIC):
        return True
    return extension not in TEXT_EXTENSIONS and _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]


def _base64_payload(file_data: str) -> str:
    """The base64 part of ``file_data``, with or without a ``data:`` prefix."""
    if file_data[:5].lower() != "data:":
        return file_data
    match = _DATA_URL.match(file_data)
    if match is None:
        raise FileError(
            "The file data URL is not valid: expected 'data:<media type>;base64,<data>'."
        )
    if not match.group("base64"):
        raise FileError("The file data URL must carry base64 data (';base64,').")
    return file_data[match.end() :]


def _extension(filename: str) -> str:
    """The lower-cased extension with its dot, or ``""``; ``.bashrc`` has none, as in pathlib."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    return f".{suffix.lower()}" if dot and stem.strip(".") and suffix else ""


def media_type(content_type: str | None) -> str | None:
    """``text/plain; charset=utf-8`` -> ``text/plain``; None when empty."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _check_text_type(name: str, extension: str, media_type: str | None) -> None:
    """Refuse anything not known to be text. OpenAI goes by the extension, so it wins."""
    if extension:
        if extension in TEXT_EXTENSIONS:
            return
        if extension in OFFICE_EXTENSIONS:
            raise _office_error(f"'{extension}' files")
        raise _unsupported_error(f"'{extension}' files", extension in _IMAGE_EXTENSIONS)
    if media_type is None:
        what = f"the file name '{name}' has no extension" if name else "no file name was given"
        raise FileError(
            f"The file type cannot be told: {what} and the data has no media type. "
            "Give a file name with an extension, such as 'notes.txt'.",
            "unsupported_file_type",
        )
    if media_type in _OFFICE_TEXT_TYPES:
        raise _office_error(f"Files of type {media_type}")
    if media_type.startswith("text/") or media_type in _TEXT_APPLICATION_TYPES:
        return
    raise _unsupported_error(f"Files of type {media_type}", media_type.startswith("image/"))


def _unsupported_error(subject: str, is_image: bool) -> FileError:
    hint = " Send images as input_image content instead." if is_image else ""
    listed = ", ".join(sorted(SUPPORTED_EXTENSIONS))
    return FileError(
        f"{subject} cannot be sent as input_file.{hint} Supported extensions: {listed}.",
        "unsupported_file_type",
    )


def _office_error(subject: str) -> FileError:
    return FileError(
        f"{subject} are accepted by OpenAI, but this counter cannot read office "
        "documents offline. Convert the file to PDF, or send its text as "
        "input_text.",
        "unsupported_file_type",
    )


def _decode_text(data: bytes) -> str:
    """UTF-8 unless a byte order mark says UTF-16 or UTF-32; the mark itself is dropped."""
    codec = next((codec for bom, codec in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise FileError(
            f"The file is not valid {codec.removesuffix('-sig').upper()} text "
            f"(bad bytes at offset {error.start})."
        ) from None


def _read_pdf(data: bytes, max_pages: int) -> tuple[FilePage, ...]:
    """Every page's text and displayed size; any failure of the parser becomes a FileError."""
    import pypdf  # imported on the first PDF: most requests carry none, start-up stays lean
    from pypdf.errors import DependencyError

    _quieten_pypdf()
    try:
        with warnings.catch_warnings():
            # Damaged files make pypdf warn while it repairs them; only the result matters.
            warnings.simplefilter("ignore")
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            _unlock(reader)
            count = len(reader.pages)
            if count > max_pages:
                raise FileError(
                    f"The PDF has {count} pages, more than the limit of {max_pages}.",
                    "file_too_large",
                )
            pages = tuple(_read_page(page) for page in reader.pages)
    except FileError:
        raise
    except DependencyError:
        raise FileError(
            "The PDF is encrypted with AES, which this counter can only open when "
            "the 'cryptography' package is installed."
        ) from None
    except Exception:
        # Untrusted bytes: pypdf raises its own errors for most damage, but truncated or hostile
        # files also surface as KeyError, ValueError, RecursionError, zlib.error and the like.
        raise FileError("The PDF is corrupt or truncated and cannot be read.") from None
    if not pages:
        raise FileError("The PDF has no pages.")
    return pages


def _unlock(reader: PdfReader) -> None:
    """Open an encrypted PDF with the empty password, as viewers do, or refuse it."""
    from pypdf import PasswordType

    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise FileError("The PDF is protected by a password, so its text cannot be read.")


def _read_page(page: PageObject) -> FilePage:
    """Text and displayed size: the crop box (what viewers show), turned by /Rotate."""
    box = page.cropbox
    unit = float(page.get("/UserUnit", 1) or 1)
    width, height = abs(float(box.width)) * unit, abs(float(box.height)) * unit
    if int(page.rotation) % 180 == 90:
        width, height = height, width
    return FilePage(page.extract_text(), width, height)


@functools.cache
def _quieten_pypdf() -> None:
    """pypdf logs each repair of a damaged file at WARNING: noise on stderr for a counter.

    Raised to ERROR once, and only when the application has not set a level of its own.
    """
    import logging  # only with the first PDF: logging costs start-up time otherwise

    logger = logging.getLogger("pypdf")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)
