"""What a request needs from outside (count/needs.py): found before rendering, in every place
the renderer looks, with the JSON path each error would name; and the library's default of no
sources at all."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from inputtokens import InvalidRequestError, count_input_tokens
from inputtokens.core.models import lookup_model
from inputtokens.count.needs import NO_SOURCES, MediaRef, find_needs, media_needs
from inputtokens.formats.responses import parse_request
from inputtokens.media.image_size import ImageSize
from inputtokens.media.loaded import LoadedMedia, StoredFileContent
from inputtokens.render import render


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200)).save(out, "PNG")
    return out.getvalue()


def _image(url: str) -> dict[str, Any]:
    return {"type": "input_image", "image_url": url, "detail": "high"}


# One request naming outside content in every place the renderer reads it from.
BODY: dict[str, Any] = {
    "model": "gpt-4.1-mini",
    "input": [
        {"role": "user", "content": "plain text names nothing"},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look:"},
                _image("https://example.com/a.png"),
                {"type": "input_image", "file_id": "file-img", "detail": "auto"},
                {"type": "input_file", "file_id": "file-doc"},
                {"type": "input_file", "file_url": "https://example.com/notes.txt"},
            ],
        },
        {"type": "function_call", "call_id": "c1", "name": "shot", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": [_image("https://example.com/b.png")],
        },
        {
            "type": "computer_call_output",
            "call_id": "c2",
            "output": {"type": "computer_screenshot", "image_url": "https://example.com/c.png"},
        },
        {
            "type": "code_interpreter_call",
            "id": "ci_1",
            "status": "completed",
            "container_id": "cntr_1",
            "code": "plot()",
            "outputs": [{"type": "image", "url": "https://example.com/d.png"}],
        },
    ],
}

EXPECTED = [
    MediaRef("image", "https://example.com/a.png", "input[1].content[1].image_url"),
    MediaRef("file_id", "file-img", "input[1].content[2].file_id"),
    MediaRef("file_id", "file-doc", "input[1].content[3].file_id"),
    MediaRef("file", "https://example.com/notes.txt", "input[1].content[4].file_url"),
    MediaRef("image", "https://example.com/b.png", "input[3].output[0].image_url"),
    MediaRef("image", "https://example.com/c.png", "input[4].output[0].image_url"),
    MediaRef("image", "https://example.com/d.png", "input[5].outputs[0].url[0].image_url"),
]


def test_every_place_the_renderer_reads_is_named_with_its_path() -> None:
    request = parse_request(BODY, default_model="gpt-5")
    needs = find_needs(request, lookup_model(request.model))
    assert not needs.state
    assert list(needs.media.refs) == EXPECTED


def test_what_the_needs_name_is_all_the_renderer_looks_up() -> None:
    """Render with exactly what the needs name loaded: nothing is left unfetched or missing."""
    from inputtokens.media.loaded import FetchedFile

    request = parse_request(BODY, default_model="gpt-5")
    model = lookup_model(request.model)
    needs = find_needs(request, model)
    media = LoadedMedia(
        images={r.value: ImageSize(300, 200, "PNG") for r in needs.media.refs if r.kind == "image"},
        files={
            r.value: FetchedFile(b"some notes", "text/plain", "notes.txt", r.value)
            for r in needs.media.refs
            if r.kind == "file"
        },
        stored_files={
            "file-img": StoredFileContent("img.png", _png()),
            "file-doc": StoredFileContent("doc.txt", b"a stored text"),
        },
    )
    prompt = render(request, model, media)
    reasons = [r for block in prompt.blocks for r in block.estimate_reasons]
    assert not any("not fetched" in r for r in reasons), reasons
    labels = [
        seg.label for block in prompt.blocks for seg in block.segments if hasattr(seg, "label")
    ]
    assert sum("300x200" in label for label in labels) == 5  # every image at its loaded size


def test_low_detail_under_a_tile_rule_is_not_fetched_but_a_patch_rule_needs_the_size() -> None:
    body = {
        "input": [
            {"role": "user", "content": [{**_image("https://x.test/a.png"), "detail": "low"}]}
        ]
    }
    for model, fetched in (("gpt-4o", False), ("gpt-4.1-mini", True)):
        request = parse_request({**body, "model": model}, default_model="gpt-5")
        refs = media_needs(request, lookup_model(model)).refs
        assert bool(refs) is fetched, model


def test_references_and_stored_state_are_named() -> None:
    body = {
        "model": "gpt-5",
        "conversation": "conv_1",
        "input": [
            {"role": "user", "content": "Hi"},
            {"id": "msg_7"},
            {"type": "item_reference", "id": "fc_2"},
        ],
    }
    request = parse_request(body, default_model="gpt-5")
    state = find_needs(request, lookup_model("gpt-5")).state
    assert state.conversation == "conv_1" and state.previous_response_id is None
    assert [(r.position, r.id, r.param) for r in state.references] == [
        (1, "msg_7", "input[1].id"),
        (2, "fc_2", "input[2].id"),
    ]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"previous_response_id": "resp_1", "input": "Hi"}, "previous_response_id"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].id"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f-1"}]}]},
            "input[0].content[0].file_id",
        ),
    ],
)
def test_without_sources_a_stored_id_is_a_400_naming_its_field(
    extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        count_input_tokens({"model": "gpt-5", **extra})
    assert (caught.value.param, caught.value.code, caught.value.status) == (
        param,
        "stored_state_unavailable",
        400,
    )


def test_without_sources_a_url_is_an_assumption_flagged_and_nothing_is_fetched() -> None:
    body = {
        "model": "gpt-4o",
        "input": [{"role": "user", "content": [_image("https://192.0.2.1/a.png")]}],
    }
    result = count_input_tokens(body)  # 192.0.2.1 is TEST-NET: a fetch would hang or fail
    assert not result.exact
    assert any("not fetched" in r for r in result.estimate_reasons)
    assert (
        NO_SOURCES.load_media(
            find_needs(parse_request(body, default_model=""), lookup_model("gpt-4o")).media
        )
        == LoadedMedia()
    )
