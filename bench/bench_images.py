"""Header-only image size reading against a full decode of the same image, in one run.

    python bench/bench_images.py [--megabytes 20]

Builds a noise PNG and a progressive JPEG of about the given size (noise does not compress),
then times ``inputtokens.media.image_size.image_size`` (header and EXIF only) against Pillow
decoding every pixel (``Image.open(...).load()``), and prints the medians and the ratio.

Then the same images are served by a loopback HTTP server, and the safe fetcher's size probe
(``SafeFetcher.image_size``, which stops reading once the header parses) is timed against
downloading the whole body, with the bytes each one read.
"""

from __future__ import annotations

import argparse
import io
import statistics
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from inputtokens.media.fetch import FetchPolicy, SafeFetcher
from inputtokens.media.image_size import image_size


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
    for fmt, save in (
        ("PNG", {"compress_level": 1}),
        ("JPEG", {"progressive": True, "quality": 95}),
    ):
        buffer = io.BytesIO()
        noise.save(buffer, fmt, **save)
        data = buffer.getvalue()
        header = _median_seconds(lambda data=data: image_size(data), args.repeats * 20)
        decode = _median_seconds(lambda data=data: _decode(data), args.repeats)
        print(
            f"{fmt + f' {side}x{side}':<22} {len(data):>12,} {header * 1e6:>11.1f} "
            f"{decode * 1e3:>11.1f} {header / decode:>9.5f}"
        )
    print("ratio = header-only size reading time / full decode time (lower is better)")
    _bench_remote(noise, args.repeats)


def _serve(bodies: dict[str, bytes]) -> ThreadingHTTPServer:
    """A loopback server for `bodies` that records how many bytes each request got."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = bodies[self.path.split("?", 1)[0]]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for start in range(0, len(body), 64 * 1024):
                    self.wfile.write(body[start : start + 64 * 1024])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the probe hung up once it had the header

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _bench_remote(noise: Image.Image, repeats: int) -> None:
    bodies = {}
    for fmt, save in (
        ("PNG", {"compress_level": 1}),
        ("JPEG", {"progressive": True, "quality": 95}),
    ):
        buffer = io.BytesIO()
        noise.save(buffer, fmt, **save)
        bodies[f"/{fmt.lower()}"] = buffer.getvalue()
    server = _serve(bodies)
    port = server.server_address[1]
    # Caching off (no entries): every probe really goes over the socket.
    fetcher = SafeFetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), cache_entries=0))
    print()
    print(f"{'remote image':<22} {'bytes':>12} {'probe ms':>11} {'download ms':>12} {'ratio':>9}")
    for path, data in bodies.items():
        url = f"http://127.0.0.1:{port}{path}"
        counter = 0

        def probe(url: str = url) -> None:
            nonlocal counter
            counter += 1
            fetcher.image_size(f"{url}?{counter}")

        def download(url: str = url) -> None:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()

        probe_s = _median_seconds(probe, repeats * 4)
        download_s = _median_seconds(download, repeats)
        print(
            f"{path[1:].upper():<22} {len(data):>12,} {probe_s * 1e3:>11.2f} "
            f"{download_s * 1e3:>12.1f} {probe_s / download_s:>9.4f}"
        )
    print("ratio = size probe over HTTP (reads until the header parses) / full download")
    server.shutdown()


if __name__ == "__main__":
    main()
