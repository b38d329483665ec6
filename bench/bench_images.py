"""Header-only image size reading against a full decode of the same image, in one run.

    python bench/bench_images.py [--megabytes 20]

Builds a noise PNG and a progressive JPEG of about the given size (noise does not compress),
then times ``inputtokens.images.image_size`` (header and EXIF only) against Pillow decoding
every pixel (``Image.open(...).load()``), and prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

from PIL import Image

from inputtokens.images import image_size


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    side = int((args.megabytes * 1024 * 1024 / 3) ** 0.5)
    noise = Image.merge("RGB", [Image.effect_noise((side, side), 90) for _ in range(3)])
    print(f"{'image':<22} {'bytes':>12} {'header µs':>11} {'decode ms':>11} {'ratio':>9}")
    for fmt, save in (("PNG", {"compress_level": 1}), ("JPEG", {"progressive": True,
                                                                "quality": 95})):
        buffer = io.BytesIO()
        noise.save(buffer, fmt, **save)
        data = buffer.getvalue()
        header = _median_seconds(lambda data=data: image_size(data), args.repeats * 20)
        decode = _median_seconds(lambda data=data: _decode(data), args.repeats)
        print(f"{fmt + f' {side}x{side}':<22} {len(data):>12,} {header * 1e6:>11.1f} "
              f"{decode * 1e3:>11.1f} {header / decode:>9.5f}")
    print("ratio = header-only size reading time / full decode time (lower is better)")


if __name__ == "__main__":
    main()
