"""Message content (strings and content-part lists) to prompt segments.

Text parts become text segments (several parts of one message run together with nothing
between them); images and files become media segments costed by the model's rules. Parts whose
cost is not known exactly add their reason to the block they are rendered into.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..errors import InvalidRequestError
from ..images import ImageError, decode_data_url, image_size
from ..media import ASSUMED_SIZE, image_tokens
from ..models import ModelInfo, TileRule
from ..tokenizer import encode_text, get_encoding
from .prompt import Block, Media, Segment, Text

_FALLBACK_IMAGE_RULE = TileRule(85, 170)


def content_segments(content: Any, path: str, model: ModelInfo, block: Block) -> list[Segment]:
    """Segments for a message `content` (a string or a list of parts)."""
    if isinstance(content, str):
        return [Text(content, path)]
    segments: list[Segment] = []
    for i, part in enumerate(content):
        part_path = f"{path}[{i}]"
        kind = part.get("type")
        if kind in ("input_text", "output_text", "summary_text", "reasoning_text", "text"):
            segments.append(Text(part.get("text", ""), f"{part_path}.text"))
        elif kind == "refusal":
            segments.append(Text(part.get("refusal", ""), f"{part_path}.refusal"))
        elif kind == "input_image":
            segments.append(image_segment(part, part_path, model, block))
        elif kind == "input_file":
            segments.append(file_segment(part, part_path, model, block))
        else:
            block.estimate_reasons.append(f"content part type '{kind}' has no counting rule yet")
            segments.append(Text(str(part.get("text", "")), part_path))
    return segments


def _read_size(part: dict[str, Any], path: str) -> tuple[int, int] | None:
    """The displayed size of a data-URL image, or None when it is not in the request."""
    url = part.get("image_url")
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    try:
        size = image_size(decode_data_url(url))
    except ImageError as exc:
        raise InvalidRequestError(str(exc), param=f"{path}.image_url",
                                  code="invalid_image") from None
    return size.width, size.height


def image_segment(part: dict[str, Any], path: str, model: ModelInfo, block: Block) -> Media:
    """An image part, costed by the model's rule at the size read from the image itself."""
    detail = part.get("detail") or "auto"
    rule = model.image_rule
    if rule is None:
        block.estimate_reasons.append(
            f"model '{model.id}' has no image rule: images counted with the gpt-4o tile rule"
        )
        rule = _FALLBACK_IMAGE_RULE
    size_matters = not (isinstance(rule, TileRule) and detail == "low")
    size = _read_size(part, path) if size_matters else None
    width, height = size or ASSUMED_SIZE
    tokens = image_tokens(width, height, detail, rule)
    if size_matters and size is None:
        block.estimate_reasons.append(
            "image size unknown (remote URL or file id): counted as 1024x1024"
        )
    if detail == "original":
        block.estimate_reasons.append("detail 'original' has no published token budget")
    if not rule.verified:
        block.estimate_reasons.append(f"image rule of '{model.id}' is not confirmed by records")
    if not size_matters:
        label = f"image detail={detail}"
    elif size is None:
        label = f"image detail={detail} assumed {width}x{height}"
    else:
        label = f"image {width}x{height} detail={detail}"
    return Media("image", tokens, label)


def file_segment(part: dict[str, Any], path: str, model: ModelInfo, block: Block) -> Media:
    """A file part: text files count their text; other files are an estimate (see docs)."""
    enc = get_encoding(model.encoding)
    filename = part.get("filename") or part.get("file_id") or part.get("file_url") or "file"
    text = ""
    data = part.get("file_data")
    if isinstance(data, str):
        payload = data.split(",", 1)[1] if data.startswith("data:") else data
        try:
            text = base64.b64decode(payload, validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
    tokens = len(encode_text(enc, filename, f"{path}.filename"))
    if text:
        tokens += len(encode_text(enc, text, f"{path}.file_data"))
        block.estimate_reasons.append("file inputs: text counted, file framing not yet modelled")
    else:
        block.estimate_reasons.append(
            "file content not extracted (PDF and binary files come with the files work): "
            "only the file name is counted"
        )
    return Media("file", tokens, f"file {filename}", text)
