"""What a request needs from outside, how it is loaded, and how stored state joins the request.

The pipeline never reaches a store, a socket or a setting. It asks two pure questions of the
request, hands the answers to the ``Sources`` its face gave it, and renders with the result:

1. ``find_needs(request, model).state``: the conversation, the previous response and the
   item references it names. ``Sources.load_state`` returns them as a ``StoredState``;
   ``apply_state`` puts the stored items in place (prepended, references replaced), as OpenAI
   does.
2. ``find_needs(request, model).media`` (found in the same pass), or ``media_needs`` again
   after step 1 when stored items came in: the stored file ids and the http(s) image and file
   URLs the items name, each with the JSON path that named it.
   ``Sources.load_media`` returns them as ``LoadedMedia`` (media/loaded.py).

``NO_SOURCES``, the library's default, has no stored state and never fetches: a stored id is a
400 naming its field; a URL is counted by the documented assumption and flagged.

Invariant: ``media_needs`` visits every place the renderer looks up loaded media (message
content, tool outputs with content parts, computer screenshots, code interpreter images), so a
renderer never meets a stored id or URL that was not asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple, Protocol

from ..core.errors import InvalidRequestError
from ..core.models import ModelInfo, PatchRule
from ..core.types import JSON
from ..formats.chat import ChatRequest
from ..formats.responses import CountRequest
from ..media.loaded import NOTHING_LOADED, LoadedMedia
from ..media.urls import is_remote_url

_TOOL_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output"})
_FILE_SOURCES = ("file_data", "file_id", "file_url")
_MEDIA_PARTS = frozenset({"input_image", "input_file"})
# Items that name stored or remote content by themselves (not through content parts).
_NAMING_ITEMS = frozenset({"item_reference", "computer_call_output", "code_interpreter_call"})


class ItemReference(NamedTuple):
    """An ``item_reference`` of the sent input: its position, the id it names, its field."""

    position: int  # in the sent input
    id: str
    param: str


@dataclass(frozen=True, slots=True)
class StateNeeds:
    """The stored state a request names; empty for most requests."""

    conversation: str | None = None
    previous_response_id: str | None = None
    references: tuple[ItemReference, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.conversation or self.previous_response_id or self.references)


class MediaRef(NamedTuple):
    """One stored file or URL the items name, with the JSON path that named it."""

    kind: Literal["image", "file", "file_id"]  # an image URL, a file URL, a stored file id
    value: str  # the URL, or the file id
    param: str


@dataclass(frozen=True, slots=True)
class MediaNeeds:
    """The stored files and remote URLs a request's items name, in the order they appear."""

    refs: tuple[MediaRef, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.refs)

    @property
    def file_ids(self) -> tuple[MediaRef, ...]:
        return tuple(ref for ref in self.refs if ref.kind == "file_id")

    @property
    def urls(self) -> tuple[MediaRef, ...]:
        return tuple(ref for ref in self.refs if ref.kind != "file_id")


@dataclass(frozen=True, slots=True)
class StoredState:
    """Stored items for one request: what comes before its input, and what its references
    name. `prior_from` is "conversation" or "previous_response" (it labels the items)."""

    prior: tuple[JSON, ...] = ()
    prior_from: str = ""
    referenced: Mapping[str, JSON] = field(default_factory=dict)


class Sources(Protocol):
    """Where a count's outside content comes from; a face hands one to the pipeline.

    Each method raises ``InvalidRequestError`` naming the field of what it cannot find.
    """

    def load_state(self, needs: StateNeeds) -> StoredState:
        """The stored items `needs` names."""
        ...

    def load_media(self, needs: MediaNeeds) -> LoadedMedia:
        """The stored files and fetched URLs `needs` names (URLs it does not fetch are left
        out, and counted by the documented assumption)."""
        ...


class NoSources:
    """No stored state, no fetching: what a library call gets unless it passes sources."""

    def load_state(self, needs: StateNeeds) -> StoredState:
        if needs.conversation is not None:
            raise _no_store("conversation", f"the conversation '{needs.conversation}'")
        if needs.previous_response_id is not None:
            what = f"the previous response '{needs.previous_response_id}'"
            raise _no_store("previous_response_id", what)
        first = needs.references[0]
        raise _no_store(first.param, f"the item '{first.id}'")

    def load_media(self, needs: MediaNeeds) -> LoadedMedia:
        for ref in needs.file_ids:
            raise _no_store(ref.param, f"the file '{ref.value}'")
        return NOTHING_LOADED


NO_SOURCES = NoSources()


def _no_store(param: str, what: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Counting this request needs {what} from a store, and none was given: pass "
        "sources=inputtokens.library.local_sources(settings) to count_input_tokens, or count "
        "through the HTTP service or the CLI.",
        param=param,
        code="stored_state_unavailable",
    )


# -- what a request names -----------------------------------------------------------------------


class Needs(NamedTuple):
    """Everything a request names from outside: its stored state, and the media of its items
    (stored items brought in by the state may name more: ``media_needs`` after applying)."""

    state: StateNeeds
    media: MediaNeeds

    def __bool__(self) -> bool:
        return bool(self.state) or bool(self.media)


def find_needs(request: CountRequest, model: ModelInfo) -> Needs:
    """What `request` names from outside, found in one pass over its items.

    >>> from inputtokens.core.models import lookup_model
    >>> from inputtokens.formats.responses import parse_request
    >>> request = parse_request({"input": [{"id": "msg_1"}]}, default_model="gpt-5")
    >>> find_needs(request, lookup_model("gpt-5")).state.references
    (ItemReference(position=0, id='msg_1', param='input[0].id'),)
    """
    stored = request.conversation is not None or request.previous_response_id is not None
    start = -1 if request.input_is_text else _first_naming(request.input)
    references: list[ItemReference] = []
    media = _NO_MEDIA
    if start >= 0:  # rare: most items name nothing, which one cheap pass tells
        media = _scan(request, model, references, start)
    if not stored and not references:
        return _NO_NEEDS if media is _NO_MEDIA else Needs(_NO_STATE, media)
    state = StateNeeds(request.conversation, request.previous_response_id, tuple(references))
    return Needs(state, media)


_NO_STATE = StateNeeds()


def apply_state(request: CountRequest, state: StoredState, needs: StateNeeds) -> CountRequest:
    """`request` with its stored items in place: the prior items first, each reference
    replaced by the item it names (a reference the state lacks is a 400 naming its field)."""
    given = request.input
    if needs.references:
        items = list(given)
        for ref in needs.references:
            found = state.referenced.get(ref.id)
            if found is None:
                raise InvalidRequestError(
                    f"Item with id '{ref.id}' not found.", param=ref.param, code="item_not_found"
                )
            items[ref.position] = found
        given = tuple(items)
    if not state.prior_from:
        return replace(request, input=given)
    return replace(
        request,
        input=(*state.prior, *given),
        stored_items=len(state.prior),
        stored_from=state.prior_from,
    )


def media_needs(request: CountRequest, model: ModelInfo) -> MediaNeeds:
    """The stored file ids and http(s) URLs the items of `request` name for `model`.

    An image whose size does not change its cost (low detail under a tile rule) is not
    fetched, but a stored one must still exist.

    >>> from inputtokens.core.models import lookup_model
    >>> from inputtokens.formats.responses import parse_request
    >>> part = {"type": "input_image", "image_url": "https://example.com/a.png"}
    >>> body = {"input": [{"role": "user", "content": [part]}]}
    >>> ref = media_needs(parse_request(body, default_model="gpt-5"), lookup_model("gpt-5")).refs[0]
    >>> ref.kind, ref.param
    ('image', 'input[0].content[0].image_url')
    """
    return _scan(request, model, None)


def chat_media_needs(request: ChatRequest, model: ModelInfo) -> MediaNeeds:
    """The stored file ids and http(s) URLs the messages of a Chat Completions `request` name
    (``image_url`` and ``file`` parts), with their JSON paths, as the chat renderer reads them.

    >>> from inputtokens.core.models import lookup_model
    >>> from inputtokens.formats.chat import parse_chat_request
    >>> part = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    >>> body = {"messages": [{"role": "user", "content": [part]}]}
    >>> chat = parse_chat_request(body, default_model="gpt-4o")
    >>> chat_media_needs(chat, lookup_model("gpt-4o")).refs[0].param
    'messages[0].content[0].image_url'
    """
    refs: list[MediaRef] = []
    low_is_flat = not isinstance(model.image_rule, PatchRule)
    for i, message in enumerate(request.messages):
        content = message.get("content")
        if type(content) is not list:
            continue
        for j, part in enumerate(content):
            kind = part.get("type")
            path = f"messages[{i}].content[{j}]"
            if kind == "image_url":
                image = part["image_url"]
                moot = low_is_flat and image.get("detail") == "low"
                _image_refs({"image_url": image["url"]}, path, moot, refs)
            elif kind == "file":
                _file_refs(part["file"], f"{path}.file", refs)
    return MediaNeeds(tuple(refs)) if refs else _NO_MEDIA


def _first_naming(items: tuple[JSON, ...]) -> int:
    """The position of the first item that may name something outside, or -1.

    This runs over every item of every count, so it only looks: paths are built, and part
    lists walked in full, by ``_scan`` from the position it finds."""
    for i, item in enumerate(items):
        kind = item.get("type")
        if kind is None:
            if "role" not in item:
                return i  # an item_reference without its type
            parts = item.get("content")
        elif kind == "message":
            parts = item.get("content")
        elif kind in _TOOL_OUTPUTS:
            parts = item.get("output")
        elif kind in _NAMING_ITEMS:
            return i
        else:
            continue
        if type(parts) is list:
            for part in parts:
                if part.get("type") in _MEDIA_PARTS:
                    return i
    return -1


def _scan(
    request: CountRequest,
    model: ModelInfo,
    references: list[ItemReference] | None,
    start: int = 0,
) -> MediaNeeds:
    """The media refs of the items from `start` on; item references are collected into
    `references` too (when it is a list: the sent input, before stored state is applied)."""
    if request.input_is_text and not request.stored_items:
        return _NO_MEDIA
    refs: list[MediaRef] = []
    # Low detail under a tile rule (or no rule: the tile fallback) costs the same at any size.
    low_is_flat = not isinstance(model.image_rule, PatchRule)
    for i in range(start, len(request.input)):
        item = request.input[i]
        kind = item.get("type")
        if kind is None or kind == "message":
            if kind is None and "role" not in item:  # an item_reference without its type
                if references is not None:
                    references.append(ItemReference(i, str(item["id"]), f"input[{i}].id"))
                continue
            parts, field = item.get("content"), "content"
        elif kind in _TOOL_OUTPUTS:
            parts, field = item.get("output"), "output"
        elif kind == "item_reference":
            if references is not None:
                references.append(ItemReference(i, str(item["id"]), f"input[{i}].id"))
            continue
        elif kind == "computer_call_output":
            # Hosted items render their images as one auto-detail part (render/hosted_items.py).
            _image_refs(item["output"], f"{request.item_label(i)}.output[0]", False, refs)
            continue
        elif kind == "code_interpreter_call":
            _code_output_refs(item, request.item_label(i), refs)
            continue
        else:
            continue
        if type(parts) is list:
            for part in parts:
                if part.get("type") in _MEDIA_PARTS:
                    _content_refs(parts, f"{request.item_label(i)}.{field}", low_is_flat, refs)
                    break
    return MediaNeeds(tuple(refs)) if refs else _NO_MEDIA


def _code_output_refs(item: JSON, path: str, refs: list[MediaRef]) -> None:
    for j, out in enumerate(item.get("outputs") or ()):
        if out.get("type") == "image":
            _image_refs({"image_url": out["url"]}, f"{path}.outputs[{j}].url[0]", False, refs)


_NO_MEDIA = MediaNeeds()
_NO_NEEDS = Needs(_NO_STATE, _NO_MEDIA)


def _content_refs(parts: Any, path: str, low_is_flat: bool, refs: list[MediaRef]) -> None:
    for i, part in enumerate(parts or ()):
        kind = part.get("type")
        if kind == "input_image":
            _image_refs(part, f"{path}[{i}]", low_is_flat and part.get("detail") == "low", refs)
        elif kind == "input_file":
            _file_refs(part, f"{path}[{i}]", refs)


def _image_refs(part: JSON, path: str, size_is_moot: bool, refs: list[MediaRef]) -> None:
    """An image part's source, as the renderer reads it (content.py ``_image_source``)."""
    url = part.get("image_url")
    if isinstance(url, str):
        if is_remote_url(url) and not size_is_moot:
            refs.append(MediaRef("image", url, f"{path}.image_url"))
    elif isinstance(part.get("file_id"), str):
        refs.append(MediaRef("file_id", part["file_id"], f"{path}.file_id"))


def _file_refs(part: JSON, path: str, refs: list[MediaRef]) -> None:
    """A file part's source; a part naming several is left to the renderer's error."""
    sources = [key for key in _FILE_SOURCES if isinstance(part.get(key), str)]
    if len(sources) != 1:
        return
    if sources[0] == "file_id":
        refs.append(MediaRef("file_id", part["file_id"], f"{path}.file_id"))
    elif sources[0] == "file_url" and is_remote_url(part["file_url"]):
        refs.append(MediaRef("file", part["file_url"], f"{path}.file_url"))
