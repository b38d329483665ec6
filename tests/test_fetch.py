"""Remote images and files, fetched from a real loopback HTTP server under the safety rules.

The origin server below is a plain threaded ``http.server`` on 127.0.0.1. It is reachable only
because the settings admit "127.0.0.1" by name (``remote_allow_hosts``); every other way of
reaching it (``localhost``, a redirect, an IPv4-mapped IPv6 address) must be refused.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image

from inputtokens import InvalidRequestError, Settings, count_input_tokens
from inputtokens.library import local_sources
from inputtokens.media.fetch import FetchError, FetchPolicy, SafeFetcher, blocked_reason


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def _big_jpeg() -> bytes:
    """A JPEG whose size header sits behind a 60 KB EXIF/comment block, then lots of pixels."""
    buffer = io.BytesIO()
    image = Image.effect_noise((1500, 1200), 80).convert("RGB")
    image.save(buffer, "JPEG", quality=95, comment=b"x" * 60_000)
    return buffer.getvalue()


class Origin:
    """The loopback origin: routes, plus a log of the paths it was asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self.hits: list[str] = []
        self.bytes_sent: dict[str, int] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                origin.hits.append(self.path)
                route = origin.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the fetcher stopped reading, as it should for image headers

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def serve(
        self,
        path: str,
        body: bytes,
        content_type: str = "image/png",
        headers: dict[str, str] | None = None,
        chunk: int = 0,
        delay: float = 0.0,
    ) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            step = chunk or len(body) or 1
            for start in range(0, len(body), step):
                handler.wfile.write(body[start : start + step])
                handler.wfile.flush()
                self.bytes_sent[path] = start + step
                if delay:
                    time.sleep(delay)

        self.routes[path] = route

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        def route(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = route


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    server = Origin()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _allowed(**overrides: Any) -> Settings:
    return Settings(remote_allow_hosts=frozenset({"127.0.0.1"}), **overrides)


def _image_body(url: str, model: str = "gpt-4o") -> dict[str, Any]:
    return {
        "model": model,
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": url, "detail": "high"},
                ],
            }
        ],
    }


def _count_error(body: dict[str, Any], settings: Settings) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        count_input_tokens(body, settings=settings, sources=local_sources(settings))
    return info.value


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# ---- the address rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "fe80::1",
        "fd00:ec2::254",
        "100.64.0.1",
        "100.100.100.200",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "240.0.0.1",
        "168.63.129.16",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


# ---- images -----------------------------------------------------------------------------------


def test_remote_image_is_counted_at_its_real_size(origin: Origin) -> None:
    data = _png(128, 64)
    origin.serve("/cat.png", data)
    remote = count_input_tokens(
        _image_body(origin.url("/cat.png")), settings=_allowed(), sources=local_sources(_allowed())
    )
    inline = count_input_tokens(_image_body(_data_url(data)))
    assert remote.input_tokens == inline.input_tokens
    assert remote.details["image_tokens"] == 85 + 170  # one 512 px tile
    assert remote.exact


def test_only_the_header_of_a_big_image_is_read(origin: Origin) -> None:
    data = _big_jpeg()
    assert len(data) > 1_000_000
    # Paced, so that the kernel buffers cannot swallow the whole body before the fetcher hangs up.
    origin.serve("/big.jpg", data, "image/jpeg", chunk=16 * 1024, delay=0.004)
    result = count_input_tokens(
        _image_body(origin.url("/big.jpg"), "gpt-4.1-mini"),
        settings=_allowed(),
        sources=local_sources(_allowed()),
    )
    patches = -(-1500 // 32) * -(-1200 // 32)  # 47 x 38 = 1786 > 1536: shrunk
    assert result.details["image_tokens"] < patches * 1.62
    assert result.exact
    time.sleep(0.05)
    assert origin.bytes_sent["/big.jpg"] < len(data) // 4


def test_sizes_are_cached_by_url(origin: Origin) -> None:
    origin.serve("/cached.png", _png(600, 600))
    settings = _allowed(remote_timeout_s=9.0)  # a policy of its own: a fresh cache
    before = origin.hits.count("/cached.png")
    first = count_input_tokens(
        _image_body(origin.url("/cached.png")), settings=settings, sources=local_sources(settings)
    )
    second = count_input_tokens(
        _image_body(origin.url("/cached.png")), settings=settings, sources=local_sources(settings)
    )
    assert first.input_tokens == second.input_tokens
    assert origin.hits.count("/cached.png") == before + 1


def test_same_url_twice_in_one_request_is_fetched_once(origin: Origin) -> None:
    origin.serve("/twice.png", _png(64, 64))
    url = origin.url("/twice.png")
    body = _image_body(url)
    body["input"][0]["content"].append({"type": "input_image", "image_url": url})
    result = count_input_tokens(
        body,
        settings=_allowed(remote_timeout_s=8.0),
        sources=local_sources(_allowed(remote_timeout_s=8.0)),
    )
    assert result.details["image_tokens"] == 2 * 255
    assert origin.hits.count("/twice.png") == 1


def test_loopback_is_refused_without_the_allow_list(origin: Origin) -> None:
    origin.serve("/secret.png", _png(8, 8))
    error = _count_error(_image_body(origin.url("/secret.png")), Settings())
    assert error.code == "url_not_allowed"
    assert error.param == "input[0].content[1].image_url"
    assert "loopback" in str(error)
    assert "/secret.png" not in origin.hits


def test_allow_list_is_by_name_not_by_address(origin: Origin) -> None:
    origin.serve("/named.png", _png(8, 8))
    for host in ("localhost", "[::ffff:127.0.0.1]"):
        error = _count_error(_image_body(origin.url("/named.png", host)), _allowed())
        assert error.code == "url_not_allowed"


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/internal.png",
        "http://localhost:{port}/cat.png",
    ],
)
def test_redirect_to_a_private_address_is_refused(origin: Origin, location: str) -> None:
    origin.serve("/cat.png", _png(128, 64))
    origin.redirect("/hop.png", location.format(port=origin.port))
    error = _count_error(_image_body(origin.url("/hop.png")), _allowed())
    assert error.code == "url_not_allowed"
    assert error.param == "input[0].content[1].image_url"


def test_redirects_are_followed_and_limited(origin: Origin) -> None:
    origin.serve("/final.png", _png(128, 64))
    origin.redirect("/r1", "/final.png", 301)
    origin.redirect("/r2", "/r1", 307)
    origin.redirect("/r3", "/r2")
    origin.redirect("/r4", "/r3")
    ok = count_input_tokens(
        _image_body(origin.url("/r3")), settings=_allowed(), sources=local_sources(_allowed())
    )
    assert ok.details["image_tokens"] == 255
    error = _count_error(_image_body(origin.url("/r4")), _allowed())
    assert "redirects" in str(error)


def test_a_slow_trickle_times_out(origin: Origin) -> None:
    data = _big_jpeg()
    origin.serve("/slow.jpg", data, "image/jpeg", chunk=512, delay=0.05)
    started = time.monotonic()
    error = _count_error(_image_body(origin.url("/slow.jpg")), _allowed(remote_timeout_s=0.5))
    assert error.code == "url_timeout"
    assert time.monotonic() - started < 3


def test_wrong_content_type_and_http_errors_are_400s(origin: Origin) -> None:
    origin.serve("/page.html", b"<html>hello</html>", "text/html")
    error = _count_error(_image_body(origin.url("/page.html")), _allowed())
    assert error.code == "invalid_image_url"
    assert "text/html" in str(error)
    error = _count_error(_image_body(origin.url("/missing.png")), _allowed())
    assert "404" in str(error)


def test_oversized_and_corrupt_remote_images_are_400s(origin: Origin) -> None:
    origin.serve("/huge.png", _png(8, 8) + b"\0" * 5000, "application/octet-stream")
    error = _count_error(_image_body(origin.url("/huge.png")), _allowed(max_image_bytes=2000))
    assert error.code == "invalid_image"
    origin.serve("/junk.png", b"\x89PNG but not really" * 10)
    error = _count_error(_image_body(origin.url("/junk.png")), _allowed())
    assert error.code == "invalid_image"


def test_urls_that_are_never_fetched() -> None:
    fetcher = SafeFetcher(FetchPolicy(timeout_s=2))
    for url, fragment in [
        ("ftp://example.com/a.png", "only http and https"),
        ("http://user:pw@example.com/a.png", "credentials"),
        ("http://127.0.0.1:1/a.png", "loopback"),
        ("http://[fe80::1]/a.png", "link-local"),
    ]:
        with pytest.raises(FetchError, match=fragment):
            fetcher.image_size(url)


def test_fetching_off_counts_the_assumption_without_a_request(origin: Origin) -> None:
    origin.serve("/off.png", _png(128, 64))
    result = count_input_tokens(
        _image_body(origin.url("/off.png")),
        settings=_allowed(remote_fetch=False),
        sources=local_sources(_allowed(remote_fetch=False)),
    )
    assert result.details["image_tokens"] == 765
    assert not result.exact
    assert "/off.png" not in origin.hits


def test_too_many_urls_in_one_request(origin: Origin) -> None:
    body = _image_body(origin.url("/a.png"))
    body["input"][0]["content"] += [
        {"type": "input_image", "image_url": origin.url(f"/n{i}.png")} for i in range(3)
    ]
    error = _count_error(body, _allowed(max_remote_urls=2))
    assert error.code == "too_many_urls"
    assert error.param == "input[0].content[3].image_url"


# ---- files ------------------------------------------------------------------------------------


def test_remote_text_file_counts_its_text(origin: Origin) -> None:
    text = "name,qty\nwidget,4\ngadget,7\n" * 20
    origin.serve("/stock.csv", text.encode(), "text/csv")
    url_body = {
        "model": "gpt-5",
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_file", "file_url": origin.url("/stock.csv")}],
            }
        ],
    }
    inline_body = {
        "model": "gpt-5",
        "input": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_file",
                        "filename": "stock.csv",
                        "file_data": base64.b64encode(text.encode()).decode(),
                    }
                ],
            }
        ],
    }
    remote = count_input_tokens(url_body, settings=_allowed(), sources=local_sources(_allowed()))
    inline = count_input_tokens(inline_body)
    assert remote.input_tokens == inline.input_tokens
    assert remote.details["file_tokens"] > 100


def test_remote_file_over_the_cap_is_refused(origin: Origin) -> None:
    origin.serve("/big.txt", b"a" * 10_000, "text/plain")
    body = {
        "model": "gpt-5",
        "input": [
            {
                "role": "user",
                "content": [{"type": "input_file", "file_url": origin.url("/big.txt")}],
            }
        ],
    }
    error = _count_error(body, _allowed(max_file_bytes=1000))
    assert error.code == "file_too_large"
    assert error.param == "input[0].content[0].file_url"


# ---- over HTTP, with the openai client ---------------------------------------------------------


@pytest.fixture(scope="module")
def fetching_server(origin: Origin, start_server: Callable[[Settings], Any]) -> str:
    return str(start_server(_allowed()).base_url)


def test_http_remote_image_through_the_openai_client(origin: Origin, fetching_server: str) -> None:
    from openai import OpenAI

    origin.serve("/http.png", _png(1024, 1024))
    client = OpenAI(base_url=f"{fetching_server}/v1", api_key="unused", max_retries=0)
    result = client.responses.input_tokens.count(
        model="gpt-4o",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "detail": "high", "image_url": origin.url("/http.png")}
                ],
            }
        ],
    )
    inline = count_input_tokens(
        {
            "model": "gpt-4o",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "input_image",
                            "detail": "high",
                            "image_url": _data_url(_png(1024, 1024)),
                        }
                    ],
                }
            ],
        }
    )
    assert result.input_tokens == inline.input_tokens
    rich = httpx.post(
        f"{fetching_server}/v1/responses/input_tokens?verbose=1",
        json={
            "model": "gpt-4o",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "input_image",
                            "detail": "high",
                            "image_url": origin.url("/http.png"),
                        }
                    ],
                }
            ],
        },
        timeout=10,
    ).json()
    assert rich["input_tokens"] == result.input_tokens
    assert rich["input_tokens_details"]["image_tokens"] == 765
    [media] = [m for part in rich["breakdown"] for m in part["media"]]
    assert media == {
        "kind": "image",
        "param": "input[0].content[0]",
        "tokens": 765,
        "label": "image 1024x1024 detail=high",
    }


def test_http_redirect_to_metadata_is_a_400(origin: Origin, fetching_server: str) -> None:
    origin.redirect("/meta.png", "http://169.254.169.254/latest/meta-data/")
    response = httpx.post(
        f"{fetching_server}/v1/responses/input_tokens",
        json=_image_body(origin.url("/meta.png")),
        timeout=10,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "url_not_allowed"
    assert error["param"] == "input[0].content[1].image_url"
    assert "metadata" in error["message"]


# ---- Chat Completions bodies ------------------------------------------------------------------


def _chat_image_body(url: str, model: str = "gpt-4o") -> dict[str, Any]:
    part = {"type": "image_url", "image_url": {"url": url, "detail": "high"}}
    return {"model": model, "messages": [{"role": "user", "content": [part]}]}


def test_a_chat_body_fetches_its_remote_image(origin: Origin) -> None:
    from inputtokens import count_chat_tokens

    data = _png(1024, 1024)
    origin.serve("/chat.png", data)
    settings = _allowed()
    remote = count_chat_tokens(
        _chat_image_body(origin.url("/chat.png")),
        settings=settings,
        sources=local_sources(settings),
    )
    inline = count_chat_tokens(_chat_image_body(_data_url(data)))
    assert remote.input_tokens == inline.input_tokens
    assert remote.details["image_tokens"] == 765  # 1024 px square, high detail: 4 tiles
    assert remote.exact
    unfetched = count_chat_tokens(_chat_image_body(origin.url("/chat.png")))
    assert not unfetched.exact


def test_http_chat_body_with_a_remote_image(origin: Origin, fetching_server: str) -> None:
    data = _png(512, 512)
    origin.serve("/chat-http.png", data)
    answer = httpx.post(
        f"{fetching_server}/v1/chat/completions/input_tokens",
        json=_chat_image_body(origin.url("/chat-http.png")),
        timeout=10,
    ).json()
    assert answer["input_tokens"] == count_chat_tokens_inline(data)


def count_chat_tokens_inline(data: bytes) -> int:
    from inputtokens import count_chat_tokens

    return count_chat_tokens(_chat_image_body(_data_url(data))).input_tokens


# ---- URL schemes are case-insensitive (RFC 3986, 3.1) -----------------------------------------


def _upper_scheme(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme.upper()}://{rest}"


def test_an_upper_case_scheme_is_fetched(origin: Origin) -> None:
    data = _png(128, 64)
    origin.serve("/upper.png", data)
    origin.serve("/upper.txt", b"ship the counter, measure twice\n" * 20, "text/plain")
    settings = _allowed()
    image = count_input_tokens(
        _image_body(_upper_scheme(origin.url("/upper.png"))),
        settings=settings,
        sources=local_sources(settings),
    )
    assert image.exact
    assert image.input_tokens == count_input_tokens(_image_body(_data_url(data))).input_tokens
    counts = []
    for url in (origin.url("/upper.txt"), _upper_scheme(origin.url("/upper.txt"))):
        part = {"type": "input_file", "file_url": url}
        body = {"model": "gpt-5", "input": [{"role": "user", "content": [part]}]}
        counted = count_input_tokens(body, settings=settings, sources=local_sources(settings))
        assert counted.details["file_tokens"] > 100  # fetched: its text counted
        counts.append((counted.input_tokens, counted.estimate_reasons))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("scheme", ["HTTP", "Https", "hTtPs"])
def test_a_mixed_case_scheme_is_a_remote_url_not_an_error(scheme: str) -> None:
    # Without fetching: the size is assumed and flagged, as for a lower-case scheme.
    counted = count_input_tokens(_image_body(f"{scheme}://example.com/a.png"))
    lower = count_input_tokens(_image_body("https://example.com/a.png"))
    assert (counted.input_tokens, counted.estimate_reasons) == (
        lower.input_tokens,
        lower.estimate_reasons,
    )


@pytest.mark.parametrize("prefix", ["DATA:image/png", "Data:IMAGE/PNG"])
def test_a_data_url_scheme_is_case_insensitive(prefix: str) -> None:
    data = _png(64, 64)
    upper = prefix + ";base64," + base64.b64encode(data).decode()
    counted = count_input_tokens(_image_body(upper))
    assert counted.exact
    assert counted.input_tokens == count_input_tokens(_image_body(_data_url(data))).input_tokens


def test_http_upper_case_scheme_over_the_server(origin: Origin, fetching_server: str) -> None:
    data = _png(512, 512)
    origin.serve("/upper-http.png", data)
    answer = httpx.post(
        f"{fetching_server}/v1/chat/completions/input_tokens",
        json=_chat_image_body(_upper_scheme(origin.url("/upper-http.png"))),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["input_tokens"] == count_chat_tokens_inline(data)
    assert "/upper-http.png" in origin.hits
    still_refused = httpx.post(
        f"{fetching_server}/v1/responses/input_tokens",
        json=_image_body("FTP://example.com/x.png"),
        timeout=10,
    ).json()["error"]
    assert still_refused["code"] == "invalid_image_url"
