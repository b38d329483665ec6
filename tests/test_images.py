"""Image sizes read from the image itself (data URLs), with real images made at run time."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from inputtokens import InvalidRequestError, count_input_tokens
from inputtokens.library import local_sources
from inputtokens.media.image_size import ImageError, decode_data_url, image_size
from inputtokens.settings import Settings

COUNT_PATH = "/v1/responses/input_tokens"


def _encode(image: Image.Image, fmt: str, **save: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _body(url: str, model: str = "gpt-4o", detail: str = "high") -> dict[str, Any]:
    return {
        "model": model,
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_image", "image_url": url, "detail": detail}],
            }
        ],
    }


def _image_tokens(url: str, model: str = "gpt-4o", detail: str = "high") -> int:
    result = count_input_tokens(_body(url, model, detail))
    return result.details["image_tokens"]


@pytest.mark.parametrize(
    ("fmt", "mime", "save"),
    [
        ("PNG", "image/png", {}),
        ("JPEG", "image/jpeg", {"progressive": True, "quality": 80}),
        ("GIF", "image/gif", {}),
        ("WEBP", "image/webp", {"quality": 50}),
    ],
)
def test_size_is_read_from_each_format(fmt: str, mime: str, save: dict[str, Any]) -> None:
    data = _encode(Image.new("RGB", (1800, 2400), (10, 20, 30)), fmt, **save)
    assert image_size(data)[:2] == (1800, 2400)
    # Patch rule, gpt-4.1-mini: the published 1800x2400 example is 1452 patches.
    assert _image_tokens(_data_url(data, mime), "gpt-4.1-mini") == -(-1452 * 162 // 100) + 1
    assert count_input_tokens(_body(_data_url(data, mime), "gpt-4.1-mini")).exact


def test_exif_rotation_swaps_width_and_height() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    data = _encode(Image.new("RGB", (2048, 1024)), "JPEG", exif=exif.tobytes())
    assert image_size(data)[:2] == (1024, 2048)


@pytest.mark.parametrize(
    ("size", "tokens"),
    [
        ((1024, 1024), 765),  # published: scale to 768x768, 4 tiles
        ((2048, 4096), 1105),  # published: 1024x2048 -> 768x1536, 6 tiles
        ((512, 512), 255),  # one tile
        ((513, 512), 425),  # just over one tile wide
        ((768, 768), 765),  # shortest side exactly 768: not scaled
        ((769, 769), 765),
        ((128, 64), 255),  # the recorded forum image
    ],
)
def test_tile_rule_at_the_real_size(size: tuple[int, int], tokens: int) -> None:
    data = _encode(Image.new("L", size), "PNG")
    assert _image_tokens(_data_url(data)) == tokens


def test_low_detail_is_base_only_whatever_the_size() -> None:
    data = _encode(Image.new("L", (4096, 8192)), "PNG")
    assert _image_tokens(_data_url(data), detail="low") == 85


@pytest.mark.parametrize(
    ("size", "patches"),
    [
        ((1024, 1024), 1024),
        ((32, 32), 1),
        ((33, 32), 2),
        ((1248, 1248), 1521),
        ((1280, 1280), 1521),  # over the 1536 cap: shrunk to 39 x 39 patches
    ],
)
def test_patch_rule_at_the_real_size(size: tuple[int, int], patches: int) -> None:
    data = _encode(Image.new("L", size), "PNG")
    assert _image_tokens(_data_url(data), "gpt-5-mini") == -(-patches * 12 // 10)


def test_remote_image_with_fetching_off_is_an_estimate_that_says_why() -> None:
    result = count_input_tokens(
        _body("https://example.com/cat.png"), settings=Settings(remote_fetch=False)
    )
    assert not result.exact
    assert result.details["image_tokens"] == 765  # the documented 1024x1024 assumption
    assert any("remote fetching is off" in r for r in result.estimate_reasons)


@pytest.mark.parametrize("detail", ["high", "low"])  # low: the size is not needed, the id is
def test_file_id_images_need_a_stored_file(detail: str, tmp_path: Path) -> None:
    body = {
        "model": "gpt-4o",
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_image", "file_id": "file-abc", "detail": detail}],
            }
        ],
    }
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(body, sources=local_sources(Settings(data_dir=str(tmp_path))))
    assert info.value.param == "input[0].content[0].file_id"
    assert info.value.code == "file_not_found"
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(body)  # no sources: no store to look in
    assert info.value.param == "input[0].content[0].file_id"
    assert info.value.code == "stored_state_unavailable"


@pytest.mark.parametrize("detail", ["high", "low"])
def test_image_urls_must_be_http_or_data(detail: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(_body("ftp://example.com/cat.png", detail=detail))
    assert (info.value.param, info.value.code) == (
        "input[0].content[0].image_url",
        "invalid_image_url",
    )


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("data:image/png;base64,AAAA", "not a supported image"),
        ("data:image/png;base64,not base64!", "valid base64"),
        ("data:image/png,rawdata", "data URL is not valid"),
    ],
)
def test_bad_images_are_400s_naming_the_field(url: str, fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(_body(url))
    assert info.value.param == "input[0].content[0].image_url"
    assert info.value.code == "invalid_image"
    assert fragment in info.value.message


def test_truncated_and_unsupported_images_are_refused() -> None:
    png = _encode(Image.new("RGB", (300, 200)), "PNG")
    with pytest.raises(ImageError):
        image_size(png[:20])  # cut inside the header
    with pytest.raises(ImageError, match="BMP is not supported"):
        image_size(_encode(Image.new("RGB", (8, 8)), "BMP"))


def test_oversized_payload_is_refused_before_decoding() -> None:
    with pytest.raises(ImageError, match="larger than the limit"):
        decode_data_url("data:image/png;base64," + "A" * 4000, max_bytes=1000)


def test_bad_image_over_http_is_an_openai_shaped_400(http: httpx.Client) -> None:
    response = http.post(COUNT_PATH, json=_body("data:image/png;base64,AAAA"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "input[0].content[0].image_url"
    assert error["code"] == "invalid_image"
    assert error["type"] == "invalid_request_error"
