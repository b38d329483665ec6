"""A stand-in for OpenAI's API on loopback, for the upstream tests: a real ``http.server``
(ThreadingHTTPServer) serving OpenAI-shaped objects under ``/v1``.

It checks the bearer key of every request (401 for an unknown one), shows each object only to
the key that owns it (404 otherwise, as OpenAI does across projects), pages listings a few
items at a time so that pagination is exercised, and logs every request it answers (``hits``).
``POST /v1/responses`` makes a response with one assistant message, answered as JSON or, with
``"stream": true``, as server-sent events; the bytes sent are kept for comparison.

Some model names and ids misbehave on purpose: ``error-400``, ``boom`` (500), ``slow``
(answers after ``SLOW_S``); ``resp_boom`` (500), ``resp_limited`` (429), ``resp_slow``,
``resp_garbled`` (200 with a body that is not JSON).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = dict[str, Any]
SLOW_S = 1.5


def error(message: str, code: str | None = None, type: str = "invalid_request_error") -> JSON:
    return {"error": {"message": message, "type": type, "param": None, "code": code}}


def message(role: str, text: str, item_id: str | None = None) -> JSON:
    """A message item as OpenAI lists it (one text part)."""
    part: JSON = {"type": "output_text" if role == "assistant" else "input_text", "text": text}
    if role == "assistant":
        part["annotations"] = []
    item: JSON = {"type": "message", "role": role, "content": [part], "status": "completed"}
    if item_id is not None:
        item["id"] = item_id
    return item


def response_object(
    resp_id: str,
    answer: str,
    *,
    previous: str | None = None,
    conversation: str | None = None,
    model: str = "gpt-5",
    store: bool = True,
) -> JSON:
    return {
        "id": resp_id,
        "object": "response",
        "created_at": 1_700_000_000,
        "status": "completed",
        "model": model,
        "instructions": None,
        "previous_response_id": previous,
        "conversation": {"id": conversation} if conversation else None,
        "output": [message("assistant", answer, "msg_" + resp_id.removeprefix("resp_"))],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "store": store,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def stream_events(response: JSON) -> list[JSON]:
    """The events of a streamed response, as OpenAI sends them."""
    msg = response["output"][0]
    text = msg["content"][0]["text"]
    begun = {**response, "status": "in_progress", "output": []}
    where = {"item_id": msg["id"], "output_index": 0, "content_index": 0}
    events: list[JSON] = [
        {"type": "response.created", "response": begun},
        {"type": "response.in_progress", "response": begun},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**msg, "status": "in_progress", "content": []},
        },
        {
            "type": "response.content_part.added",
            **where,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        {"type": "response.output_text.delta", **where, "delta": text[:5], "logprobs": []},
        {"type": "response.output_text.delta", **where, "delta": text[5:], "logprobs": []},
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": msg["content"][0]},
        {"type": "response.output_item.done", "output_index": 0, "item": msg},
        {"type": "response.completed", "response": response},
    ]
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


class FakeOpenAI:
    """The loopback upstream: objects by id as (owner key or None for any key, object,
    items or content)."""

    def __init__(self, keys: set[str], page_size: int = 2) -> None:
        self.keys = set(keys)
        self.page_size = page_size
        self.responses: dict[str, tuple[str | None, JSON, list[JSON]]] = {}
        self.conversations: dict[str, tuple[str | None, JSON, list[JSON]]] = {}
        self.files: dict[str, tuple[str | None, JSON, bytes]] = {}
        self.hits: list[tuple[str, str, str]] = []  # (method, path, key)
        self.posted: list[tuple[bytes, dict[str, str]]] = []  # bodies and headers received
        self.sent: list[bytes] = []  # the bodies of POST /v1/responses answers, as sent
        self._lock = threading.Lock()
        self._next = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- seeding and inspection ---------------------------------------------------------------

    def add_response(self, key: str | None, response: JSON, input_items: list[JSON]) -> None:
        self.responses[response["id"]] = (key, response, input_items)

    def add_conversation(self, key: str | None, conv_id: str, items: list[JSON]) -> None:
        conv = {
            "id": conv_id,
            "object": "conversation",
            "created_at": 1_700_000_000,
            "metadata": {"topic": "tests"},
        }
        self.conversations[conv_id] = (key, conv, items)

    def add_file(self, key: str | None, file_id: str, filename: str, data: bytes) -> None:
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": 1_700_000_000,
            "filename": filename,
            "purpose": "user_data",
        }
        self.files[file_id] = (key, meta, data)

    def count(self, path: str, method: str = "GET") -> int:
        """How many requests for `path` (without the query) were answered."""
        with self._lock:
            return sum(1 for m, hit, _ in self.hits if m == method and hit == path)

    def new_id(self, prefix: str) -> str:
        with self._lock:
            self._next += 1
            return f"{prefix}{self._next:08d}"

    # -- the API --------------------------------------------------------------------------------

    def _visible(self, table: dict[str, Any], object_id: str, key: str) -> Any:
        entry = table.get(object_id)
        if entry is None or entry[0] not in (None, key):
            return None
        return entry

    def _page(self, items: list[JSON], query: dict[str, list[str]]) -> JSON:
        ordered = items if query.get("order", ["desc"])[0] == "asc" else items[::-1]
        after = query.get("after", [None])[0]
        if after is not None:
            ids = [i.get("id") for i in ordered]
            ordered = ordered[ids.index(after) + 1 :] if after in ids else []
        size = min(int(query.get("limit", ["20"])[0]), self.page_size)
        data = ordered[:size]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(ordered) > size,
        }

    def _items_of(self, given: Any, key: str) -> list[JSON]:
        """The input items a request gave, with ids; references resolved."""
        if isinstance(given, str):
            return [message("user", given, self.new_id("msg_in"))]
        out = []
        for item in given or []:
            if item.get("type") == "item_reference":
                found = next(
                    (
                        i
                        for _, r, items in self.responses.values()
                        for i in (*items, *r["output"])
                        if i.get("id") == item["id"]
                    ),
                    None,
                )
                item = found or item
            out.append({"id": self.new_id("msg_in"), **item})
        return out

    def create(self, body: JSON, key: str) -> JSON:
        resp_id = self.new_id("resp_fake")
        conversation = body.get("conversation")
        conv_id = conversation.get("id") if isinstance(conversation, dict) else conversation
        response = response_object(
            resp_id,
            f"Answer number {resp_id[-3:]}, as asked.",
            previous=body.get("previous_response_id"),
            conversation=conv_id,
            model=body.get("model", "gpt-5"),
            store=body.get("store", True) is not False,
        )
        given = self._items_of(body.get("input"), key)
        self.add_response(key, response, given)
        if conv_id in self.conversations:
            self.conversations[conv_id][2].extend([*given, *response["output"]])
        return response

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _key(self) -> str | None:
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                return token if scheme == "Bearer" and token in fake.keys else None

            def _json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> bytes:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("x-request-id", "req_fake")
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)
                return raw

            def _start(self, method: str) -> tuple[str, dict[str, list[str]], str] | None:
                parts = urlsplit(self.path)
                key = self._key()
                with fake._lock:
                    fake.hits.append((method, parts.path, key or ""))
                if key is None:
                    self._json(401, error("Incorrect API key provided.", "invalid_api_key"))
                    return None
                return parts.path, parse_qs(parts.query), key

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                started = self._start("POST")
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if started is None:
                    return
                path, _, key = started
                fake.posted.append((raw, {k.lower(): v for k, v in self.headers.items()}))
                if path != "/v1/responses":
                    self._json(404, error("Not found."))
                    return
                body = json.loads(raw)
                model = body.get("model")
                if model == "error-400":
                    self._json(
                        400,
                        error("The model 'error-400' does not exist.", "model_not_found"),
                        {"x-ratelimit-limit": "7"},
                    )
                    return
                if model == "boom":
                    self._json(500, error("The server had an error.", None, "server_error"))
                    return
                if model == "slow":
                    time.sleep(SLOW_S)
                response = fake.create(body, key)
                try:
                    if body.get("stream"):
                        self._stream(response)
                    else:
                        fake.sent.append(self._json(200, response))
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, response: JSON) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("x-request-id", "req_fake_stream")
                self.end_headers()  # no length: the stream ends when the connection closes
                sent = b""
                for event in stream_events(response):
                    chunk = (f"event: {event['type']}\ndata: {json.dumps(event)}\n\n").encode()
                    # The last event goes out in two pieces: a reader must join them.
                    pieces = (
                        [chunk[:40], chunk[40:]] if event["type"].endswith("completed") else [chunk]
                    )
                    for piece in pieces:
                        self.wfile.write(piece)
                        self.wfile.flush()
                        sent += piece
                        time.sleep(0.002)
                fake.sent.append(sent)

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                started = self._start("GET")
                if started is None:
                    return
                path, query, key = started
                parts = path.removeprefix("/v1/").split("/")
                try:
                    self._get(parts, query, key)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _get(self, parts: list[str], query: dict[str, list[str]], key: str) -> None:
                kind, object_id, rest = parts[0], parts[1] if len(parts) > 1 else "", parts[2:]
                if object_id == "resp_boom":
                    self._json(500, error("The server had an error.", None, "server_error"))
                    return
                if object_id == "resp_limited":
                    self._json(429, error("Rate limit reached.", "rate_limit_exceeded", "requests"))
                    return
                if object_id == "resp_slow":
                    time.sleep(SLOW_S)
                if object_id == "resp_garbled":
                    raw = b"<html>not json</html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return
                table = {
                    "responses": fake.responses,
                    "conversations": fake.conversations,
                    "files": fake.files,
                }.get(kind)
                entry = fake._visible(table, object_id, key) if table is not None else None
                if entry is None:
                    noun = {"responses": "Response", "conversations": "Conversation"}.get(
                        kind, "File"
                    )
                    self._json(404, error(f"{noun} with id '{object_id}' not found."))
                    return
                _, obj, extra = entry
                if not rest:
                    self._json(200, obj)
                elif rest in (["input_items"], ["items"]):
                    self._json(200, fake._page(extra, query))
                elif rest == ["content"] and kind == "files":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(extra)))
                    self.end_headers()
                    self.wfile.write(extra)
                else:
                    self._json(404, error("Not found."))

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
