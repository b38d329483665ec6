"""The rendered prompt: what the model sees, as ordered blocks of segments.

A ``Prompt`` is a list of ``Block``s, one per accountable part of the request (instructions,
tools, each input item, the reply priming). A block's segments are plain text (encoded as
ordinary text: special-token syntax inside user text is never special), framing tokens
(one token each), media whose token cost was computed by a media rule, or fitted offsets.

Invariants:
- Adjacent text segments of one block are encoded as one string, because the model's tokenizer
  sees them contiguously; text never merges across a framing token or a block boundary (every
  block starts and ends with framing tokens, or is the whole prompt).
- A block with any ``estimate_reasons`` is not exact; the prompt is exact iff no block has any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


# Segments are NamedTuples: immutable values that are cheap to build, which matters because a
# request creates several per message on the hot path.
class Special(NamedTuple):
    """A framing token such as ``<|start|>``: always exactly one token."""

    token: str


class Text(NamedTuple):
    """Ordinary text; `param` is the JSON path it came from (for error messages)."""

    text: str
    param: str | None = None


class Media(NamedTuple):
    """An image or file whose token cost was computed by a media rule."""

    kind: str  # "image", "file" or "encrypted" (opaque content, counted as text tokens)
    tokens: int
    label: str  # shown in the rendered prompt, e.g. "image 1024x1024 detail=high"
    param: str | None = None  # the JSON path of the part, for the breakdown
    text: str = ""  # a file's text as counted (its name, if shown, and extracted text)


class Offset(NamedTuple):
    """A fitted correction in tokens: the recorded counts of a part differ from its rendered text
    by a constant that no known text explains (each one is listed in docs/counting-rules.md)."""

    tokens: int
    rule: str  # why, e.g. "tools open the developer message"


Segment = Special | Text | Media | Offset
# Around a file's counted text in ``Prompt.render_text(files=True)`` (``inputtokens render
# --files``): not part of the prompt, a view of what the file's tokens are.
FILE_TEXT_OPEN = "<[file text>"
FILE_TEXT_CLOSE = "<file text]>"


@dataclass(slots=True)
class Block:
    """One accountable part of the prompt."""

    label: str  # "instructions", "tools", "input[3]", "text.format", "priming"
    segments: list[Segment] = field(default_factory=list)
    estimate_reasons: list[str] = field(default_factory=list)

    def text(self, files: bool = False) -> str:
        """The block as readable text, framing tokens shown by name; `files`: each file's
        counted text too, as a labelled block after its marker."""
        out: list[str] = []
        for seg in self.segments:
            if type(seg) is Text:
                out.append(seg.text)
            elif type(seg) is Special:
                out.append(seg.token)
            elif type(seg) is Offset:
                out.append(f"<[{seg.tokens:+d} tokens: {seg.rule}]>")
            elif type(seg) is Media:  # not `else`: mypy cannot narrow the rest of the union there
                out.append(f"<[{seg.label}: {seg.tokens} tokens]>")
                if files and seg.kind == "file":
                    out.append(f"{FILE_TEXT_OPEN}\n{seg.text}\n{FILE_TEXT_CLOSE}")
        return "".join(out)


@dataclass(slots=True)
class Prompt:
    """The whole rendered prompt for one request and model."""

    model: str
    encoding: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The prompt exactly as the model sees it, framing tokens visible."""
        return "".join(block.text() for block in self.blocks)

    def render_text(self, files: bool = False) -> str:
        """``text``; with `files`, each file's counted text shown after its marker."""
        return "".join(block.text(files) for block in self.blocks)
