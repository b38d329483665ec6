"""Image token rules, checked against the published worked examples."""

from __future__ import annotations

import pytest

from inputtokens.core.models import PatchRule, TileRule
from inputtokens.media.image_tokens import (
    image_tokens,
    patch_count,
    patch_image_tokens,
    tile_image_tokens,
)

GPT4O = TileRule(85, 170)


@pytest.mark.parametrize(
    ("size", "detail", "tokens"),
    [
        ((1024, 1024), "high", 765),
        ((2048, 4096), "high", 1105),
        ((4096, 8192), "low", 85),
        ((512, 512), "high", 255),
        ((128, 64), "high", 255),
        ((128, 64), "auto", 255),
        ((768, 768), "high", 85 + 4 * 170),
        ((513, 100), "high", 85 + 2 * 170),
    ],
)
def test_tile_rule(size: tuple[int, int], detail: str, tokens: int) -> None:
    assert tile_image_tokens(*size, detail, GPT4O) == tokens


@pytest.mark.parametrize(
    ("size", "cap", "patches"),
    [
        ((1024, 1024), 1536, 1024),
        ((1800, 2400), 1536, 1452),
        ((128, 64), 1536, 8),
        ((33, 33), 1536, 4),
        ((4000, 4000), 2500, 2500),
    ],
)
def test_patch_count(size: tuple[int, int], cap: int, patches: int) -> None:
    assert patch_count(*size, cap) == patches
    assert patch_count(*size, cap) <= cap


def test_patch_tokens_use_multiplier_and_extra() -> None:
    # 128x64 = 8 patches; gpt-4.1-mini 1.62 -> ceil(12.96) = 13, +1 measured per image.
    assert patch_image_tokens(128, 64, PatchRule(1536, 1.62, extra=1)) == 14
    assert patch_image_tokens(1024, 1024, PatchRule(1536, 1.2)) == 1229


def test_detail_does_not_matter_for_patch_rules() -> None:
    rule = PatchRule(1536, 1.5)
    assert image_tokens(300, 200, "low", rule) == image_tokens(300, 200, "high", rule)
