"""Image token rules: pure functions of an image's size, its `detail` and the model's rule.

Tile rule (gpt-4o family, o1/o3, computer-use-preview): `low` costs the base only; otherwise the
image is scaled to fit inside 2048x2048, then scaled down so its shortest side is at most 768,
and costs ``base + per_tile * tiles`` for 512 px tiles.

Patch rule (gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano, gpt-5.x): 32 px patches, shrunk to the
model's cap when over it, times the model's multiplier, plus a per-image extra where measured;
`detail` has no effect.

When the size is not known (reading it is the images issue's work) the rule is applied to an
assumed 1024x1024 image and the caller marks the count as an estimate.
"""

from __future__ import annotations

import math

from ..core.models import ImageRule, PatchRule, TileRule

ASSUMED_SIZE = (1024, 1024)
_EPS = 1e-9  # guards ceil/floor against float noise such as 1055.9999999 for 1056


def tile_image_tokens(width: int, height: int, detail: str, rule: TileRule) -> int:
    """Tokens of one image under a tile rule.

    >>> tile_image_tokens(1024, 1024, "high", TileRule(85, 170))
    765
    """
    if detail == "low":
        return rule.base
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    tiles = math.ceil(w / 512 - _EPS) * math.ceil(h / 512 - _EPS)
    return rule.base + rule.per_tile * tiles


def patch_count(width: int, height: int, cap: int) -> int:
    """Number of 32 px patches after shrinking to at most `cap` patches.

    >>> patch_count(1800, 2400, 1536)
    1452
    """
    patches = math.ceil(width / 32) * math.ceil(height / 32)
    if patches <= cap:
        return patches
    r = math.sqrt(32 * 32 * cap / (width * height))
    fw, fh = width * r / 32, height * r / 32
    r *= min(math.floor(fw + _EPS) / fw, math.floor(fh + _EPS) / fh)
    return math.ceil(width * r / 32 - _EPS) * math.ceil(height * r / 32 - _EPS)


def patch_image_tokens(width: int, height: int, rule: PatchRule) -> int:
    """Tokens of one image under a patch rule."""
    return math.ceil(patch_count(width, height, rule.cap) * rule.multiplier - _EPS) + rule.extra


def image_tokens(width: int, height: int, detail: str, rule: ImageRule) -> int:
    """Tokens of one image of the given size for a model's image rule."""
    if isinstance(rule, TileRule):
        return tile_image_tokens(width, height, detail, rule)
    return patch_image_tokens(width, height, rule)
