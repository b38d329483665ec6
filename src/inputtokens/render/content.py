"""Message content (strings and content-part lists) to prompt segments.

Text parts become text segments (several parts of one message run together with nothing
between them); images and files become media segments costed by the model's rules. Parts whose
cost is not known exactly add their reason to the block they are rendered into.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..core.errors import InvalidRequestError
from ..core.models import ModelInfo, TileRule
from ..core.reasons import reason
from ..core.tokenizer import count_text, get_encoding
from ..media.files import (
    SPREADSHEET_EXTENSIONS,
    FileContent,
    FileError,
    decode_file_data,
    file_data_media_type,
    read_file,
)
from ..media.image_size import ImageError, decode_data_url, image_size
from ..media.image_tokens import ASSUMED_SIZE, image_tokens
from ..media.loaded import InlineLimits, LoadedMedia, StoredFileContent
from ..media.urls import is_data_url, is_remote_url, url_filename
from .prompt import Block, Media, Offset, Segment, Text

_FALLBACK_IMAGE_RULE = TileRule(85, 170)
_TEXT_PARTS = frozenset({"input_text", "output_text", "summary_text", "reasoning_text", "text"})


class MediaContext(Protocol):
    """What content rendering needs from its caller (context.ItemContext provides it)."""

    model: ModelInfo
    media: LoadedMedia
    limits: InlineLimits
    # The family's PDF record (families.py): the offset of a PDF after text, or None.
    pdf_after_text: int | None


def content_segments(content: Any, path: str, ctx: MediaContext, block: Block) -> list[Segment]:
    """Segments for a message `content` (a string or a list of parts)."""
    if isinstance(content, str):
        return [Text(content, path)]
    segments: list[Segment] = []
    for i, part in enumerate(content):
        kind = part.get("type")
        if kind in _TEXT_PARTS:  # the common case: its path in one step
            segments.append(Text(part.get("text", ""), f"{path}[{i}].text"))
            continue
        part_path = f"{path}[{i}]"
        if kind == "refusal":
            segments.append(Text(part.get("refusal", ""), f"{part_path}.refusal"))
        elif kind == "input_image":
            segments.append(image_segment(part, part_path, ctx, block))
        elif kind == "input_file":
            after_text = i > 0 and content[i - 1].get("type") in _TEXT_PARTS
            segments.extend(file_segments(part, part_path, ctx, block, after_text))
        else:
            block.estimate_reasons.append(reason("unknown_content_part", type=kind))
            segments.append(Text(str(part.get("text", "")), part_path))
    return segments


def stored_file(ctx: MediaContext, file_id: str, param: str) -> StoredFileContent:
    """A stored file the pipeline loaded; the Sources it was given raise for an unknown id,
    so a miss here means it was never asked for (count/needs.py must name every lookup)."""
    found = ctx.media.stored_files.get(file_id)
    if found is None:
        raise InvalidRequestError(
            f"No file with id '{file_id}' is stored here.", param=param, code="file_not_found"
        )
    return found


def _image_source(part: dict[str, Any], path: str) -> tuple[str, str]:
    """("url", an http(s) or data URL) or ("file_id", a stored file's id), checked for form."""
    url = part.get("image_url")
    if not isinstance(url, str):
        if isinstance(part.get("file_id"), str):
            return "file_id", part["file_id"]
        raise InvalidRequestError(
            "An input_image needs an 'image_url' or a 'file_id'.",
            param=f"{path}.image_url",
            code="missing_required_parameter",
        )
    if not (is_data_url(url) or is_remote_url(url)):
        raise InvalidRequestError(
            "The image_url must be an http(s) URL or a base64 data URL.",
            param=f"{path}.image_url",
            code="invalid_image_url",
        )
    return "url", url


def _read_size(
    part: dict[str, Any], path: str, ctx: MediaContext, block: Block
) -> tuple[int, int] | None:
    """The displayed size of the image, or None when it is not (yet) known."""
    kind, source = _image_source(part, path)
    if kind == "file_id":
        param = f"{path}.file_id"
        data = stored_file(ctx, source, param).data
    elif is_remote_url(source):
        size = ctx.media.images.get(source)
        if size is None:
            block.estimate_reasons.append(reason("remote_image_not_fetched"))
            return None
        return size.width, size.height
    else:
        param = f"{path}.image_url"
        try:
            data = decode_data_url(source, ctx.limits.max_image_bytes)
        except ImageError as exc:
            raise InvalidRequestError(str(exc), param=param, code="invalid_image") from None
    try:
        size = image_size(data)
    except ImageError as exc:
        raise InvalidRequestError(str(exc), param=param, code="invalid_image") from None
    return size.width, size.height


def image_segment(part: dict[str, Any], path: str, ctx: MediaContext, block: Block) -> Media:
    """An image part, costed by the model's rule at the size read from the image itself."""
    model = ctx.model
    detail = part.get("detail") or "auto"
    rule = model.image_rule
    if rule is None:
        block.estimate_reasons.append(reason("no_image_rule", model=model.id))
        rule = _FALLBACK_IMAGE_RULE
    size_matters = not (isinstance(rule, TileRule) and detail == "low")
    if size_matters:
        size = _read_size(part, path, ctx, block)
    else:  # the size does not change the cost, but the part must still be well formed
        kind, source = _image_source(part, path)
        if kind == "file_id":  # and a stored image must exist
            stored_file(ctx, source, f"{path}.file_id")
        size = None
    width, height = size or ASSUMED_SIZE
    tokens = image_tokens(width, height, detail, rule)
    if detail == "original":
        block.estimate_reasons.append(reason("detail_original"))
    if not rule.verified:
        block.estimate_reasons.append(reason("image_rule_unverified", model=model.id))
    if not size_matters:
        label = f"image detail={detail}"
    elif size is None:
        label = f"image detail={detail} assumed {width}x{height}"
    else:
        label = f"image {width}x{height} detail={detail}"
    return Media("image", tokens, label, param=path)


def _file_content(
    part: dict[str, Any], path: str, ctx: MediaContext, block: Block
) -> FileContent | str:
    """The file's content, or (when it cannot be had offline) the name it is known by."""
    sources = [k for k in ("file_data", "file_id", "file_url") if isinstance(part.get(k), str)]
    if not sources:
        raise InvalidRequestError(
            "An input_file needs one of 'file_data', 'file_id' or 'file_url'.",
            param=f"{path}.file_data",
            code="missing_required_parameter",
        )
    if len(sources) > 1:
        raise InvalidRequestError(
            f"An input_file takes only one of 'file_data', 'file_id' and 'file_url'; got "
            f"{' and '.join(repr(s) for s in sources)}.",
            param=f"{path}.{sources[1]}",
            code="invalid_value",
        )
    source = sources[0]
    filename = part.get("filename")
    try:
        if source == "file_id":
            stored = stored_file(ctx, part["file_id"], f"{path}.file_id")
            return read_file(stored.data, filename or stored.filename)
        if source == "file_data":
            if not isinstance(filename, str) or not filename:
                raise InvalidRequestError(
                    "An input_file with 'file_data' needs a 'filename'.",
                    param=f"{path}.filename",
                    code="missing_required_parameter",
                )
            data = decode_file_data(part["file_data"], ctx.limits.max_file_bytes)
            return read_file(data, filename, file_data_media_type(part["file_data"]))
        url = part["file_url"]
        if not is_remote_url(url):
            raise InvalidRequestError(
                "The file_url must be an http(s) URL.",
                param=f"{path}.file_url",
                code="invalid_value",
            )
        fetched = ctx.media.files.get(url)
        if fetched is None:
            block.estimate_reasons.append(reason("remote_file_not_fetched"))
            return filename or url_filename(url)
        return read_file(fetched.data, filename or fetched.filename, fetched.content_type)
    except FileError as exc:
        raise InvalidRequestError(str(exc), param=f"{path}.{source}", code=exc.code) from None


def file_segments(
    part: dict[str, Any],
    path: str,
    ctx: MediaContext,
    block: Block,
    after_text: bool = False,
    pdf_page: int | None = None,
) -> list[Segment]:
    """A file part: its name and its extracted text (docs/counting-rules.md, Files).

    On a family with the PDF record (``ctx.pdf_after_text`` set) a PDF is its text alone, plus
    the fitted offset when it comes right after a text part (`after_text`). `pdf_page`: a fitted
    cost of each page of a PDF beside its text (Chat Completions on reasoning models).
    """
    content = _file_content(part, path, ctx, block)
    enc = get_encoding(ctx.model.encoding)
    offset = None
    pages = None
    if isinstance(content, str):
        name, text, label = content, "", f"file {content} (not fetched)"
    else:
        name, text = content.filename, content.text
        label = f"file {name} ({content.kind}, {len(content.pages)} page(s))"
        if content.kind == "pdf":
            if ctx.pdf_after_text is not None:
                name = ""  # not shown to the model (recorded)
                if after_text:
                    offset = Offset(ctx.pdf_after_text, "PDF after text")
            if pdf_page is None:
                block.estimate_reasons.append(reason("pdf_file"))
            else:
                block.estimate_reasons.append(reason("chat_pdf_file", tokens=pdf_page))
                pages = Offset(pdf_page * len(content.pages), "PDF pages on Chat Completions")
        elif name.lower().endswith(tuple(SPREADSHEET_EXTENSIONS)):
            block.estimate_reasons.append(reason("spreadsheet_file"))
        else:
            block.estimate_reasons.append(reason("text_file"))
    tokens = count_text(enc, name, f"{path}.filename") if name else 0
    if text:
        tokens += count_text(enc, text, f"{path}.file_data")
    shown = f"{name}\n{text}" if name and text else name or text  # what the tokens are of
    media = Media("file", tokens, label, path, shown)
    return [s for s in (media, offset, pages) if s is not None]
