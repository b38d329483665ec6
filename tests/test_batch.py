"""``inputtokens batch``: a Batch API file counted line by line, summed, checked and split.

The files are generated here: Responses, Chat Completions and Embeddings lines with bad lines
among them. Every per-line number is checked against the library's count of the same body.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from inputtokens import count_chat_tokens, count_embedding_tokens, count_input_tokens
from inputtokens.batch.engine import count_batch_lines
from inputtokens.batch.lines import Shortcuts, count_line
from inputtokens.cli import cli
from inputtokens.core.token_cache import TokenCountCache
from inputtokens.count.pipeline import DEFAULT_OPTIONS
from inputtokens.count.plain_text import PlainTextCounter
from inputtokens.pricing import input_cost

BAD_LINES = [
    "{not json",
    "[1, 2]",
    json.dumps({"custom_id": "m", "method": "GET", "url": "/v1/responses", "body": {}}),
    json.dumps({"custom_id": "u", "method": "POST", "url": "/v1/images", "body": {}}),
    json.dumps({"custom_id": "k", "method": "POST", "url": "/v1/responses"}),
    json.dumps(
        {"custom_id": "b", "method": "POST", "url": "/v1/responses", "body": {"model": "gpt-4o"}}
    ),
    "",
]


def _body(rng: random.Random, kind: str, i: int) -> dict[str, Any]:
    words = " ".join(
        rng.choice(["alpha", "beta", "gamma", "delta", "é", "数据"]) for _ in range(i % 40)
    )
    if kind == "/v1/responses":
        return {
            "model": rng.choice(["gpt-4o", "gpt-5", "gpt-4.1-mini"]),
            "instructions": "Be brief.",
            "input": [{"role": "user", "content": f"Question {i}: {words}"}],
        }
    if kind == "/v1/chat/completions":
        return {
            "model": rng.choice(["gpt-4o", "gpt-5-mini"]),
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"Question {i}: {words}"},
            ],
        }
    return {"model": "text-embedding-3-small", "input": [f"doc {i} {words}", "second"]}


def _library_count(url: str, body: dict[str, Any]) -> int:
    if url == "/v1/responses":
        return count_input_tokens(body).input_tokens
    if url == "/v1/chat/completions":
        return count_chat_tokens(body).input_tokens
    return count_embedding_tokens(body).input_tokens


def _write_file(path: Path, lines: int, seed: int = 7) -> list[tuple[str, dict[str, Any] | None]]:
    """A mixed batch file; returns (url, body) per line (None for a bad line)."""
    rng = random.Random(seed)
    urls = ["/v1/responses", "/v1/chat/completions", "/v1/embeddings"]
    written: list[tuple[str, dict[str, Any] | None]] = []
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            if i % 37 == 5:
                out.write(BAD_LINES[i % len(BAD_LINES)] + "\n")
                written.append(("", None))
                continue
            url = urls[i % 3]
            body = _body(rng, url, i)
            record = {"custom_id": f"req-{i}", "method": "POST", "url": url, "body": body}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            written.append((url, body))
    return written


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["batch", "--no-progress", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    path = tmp_path_factory.mktemp("batch") / "mixed.jsonl"
    return path, _write_file(path, 20_000)


def test_every_line_counts_as_the_library_counts_its_body(
    batch_file: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    path, written = batch_file
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    result = _run(str(path), "-o", str(out), "--summary", str(summary), "--workers", "1")
    assert result.exit_code == 1  # some lines are bad
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["line"] for line in lines] == list(range(1, len(written) + 1))
    for line, (url, body) in zip(lines, written, strict=True):
        if body is None:
            assert set(line) == {"line", "custom_id", "error"}
            assert {"message", "code", "param"} <= set(line["error"])
        else:
            assert line["url"] == url
            assert line["input_tokens"] == _library_count(url, body), line
    report = json.loads(summary.read_text())
    counted = [line for line in lines if "error" not in line]
    assert report["lines"] == len(lines)
    assert report["counted"] + report["errors"] == report["lines"]
    assert report["input_tokens"] == sum(line["input_tokens"] for line in counted)
    assert report["exact_lines"] == sum(line["exact"] for line in counted)
    assert sum(m["input_tokens"] for m in report["by_model"].values()) == report["input_tokens"]
    assert sum(m["lines"] for m in report["by_model"].values()) == report["counted"]
    assert any("several endpoints" in w for w in report["warnings"])
    for model, totals in report["by_model"].items():  # the cost is the sum of each line's
        costs = [
            input_cost(model, line["input_tokens"]) for line in counted if line["model"] == model
        ]
        assert all(c is not None for c in costs), model
        # (the summary rounds to a millionth of a dollar)
        batch_usd = sum(c.batch_usd for c in costs if c)
        standard_usd = sum(c.standard_usd for c in costs if c)
        assert totals["cost_usd"]["batch"] == pytest.approx(batch_usd, abs=1e-6)
        assert totals["cost_usd"]["standard"] == pytest.approx(standard_usd, abs=1e-6)


def test_the_shortcuts_change_no_line(tmp_path: Path) -> None:
    """The plain-text path and the content cache a batch counts with give every line what the
    whole pipeline gives it, without them: plain bodies (string input, one message, with and
    without instructions), other bodies, bad lines, texts seen again."""
    path = tmp_path / "lines.jsonl"
    _write_file(path, 300)
    raws = path.read_bytes().splitlines()
    rng = random.Random(3)
    for i in range(200):  # plain bodies of every shape, a few instructions repeated
        text = f"Plain {i}: " + " ".join(rng.choice(["one", "two", "três"]) for _ in range(i))
        shape: Any = [text, [{"role": "user", "content": text}]][i % 2]
        body: dict[str, Any] = {"model": ["gpt-5", "gpt-4o", "gpt-oss-20b"][i % 3], "input": shape}
        if i % 4:
            body["instructions"] = "Answer in one short paragraph, plainly. " * (i % 4)
        record = {"custom_id": f"p{i}", "method": "POST", "url": "/v1/responses", "body": body}
        raws.append(json.dumps(record).encode())
    shortcuts = Shortcuts(PlainTextCounter(DEFAULT_OPTIONS), TokenCountCache(10_000))
    for n, raw in enumerate(raws * 2, 1):  # twice: the second pass finds the texts kept
        assert count_line(raw, n, DEFAULT_OPTIONS, shortcuts=shortcuts) == count_line(
            raw, n, DEFAULT_OPTIONS
        ), raw
    assert shortcuts.cache is not None and shortcuts.cache.stats()["hits"] > 100


def test_bad_lines_say_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(BAD_LINES) + "\n")
    out = tmp_path / "out.jsonl"
    assert _run(str(path), "-o", str(out)).exit_code == 1
    errors = [json.loads(line)["error"] for line in out.read_text().splitlines()]
    assert [(e["code"], e["param"]) for e in errors] == [
        ("invalid_json", None),
        ("invalid_batch_line", None),
        ("invalid_batch_line", "method"),
        ("invalid_batch_line", "url"),
        ("invalid_batch_line", "body"),
        ("missing_required_parameter", "body.input"),
        ("invalid_json", None),
    ]


def test_several_workers_and_dask_give_the_same_lines(
    batch_file: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    path, _ = batch_file
    outputs = {}
    for name, args in {
        "one": ["--workers", "1"],
        "two": ["--workers", "2"],
        "dask": ["--engine", "dask", "--workers", "2"],
    }.items():
        out = tmp_path / f"{name}.jsonl"
        assert _run(str(path), "-o", str(out), *args).exit_code == 1
        outputs[name] = out.read_bytes()
    assert outputs["one"] == outputs["two"] == outputs["dask"]


def test_a_dask_bag_job_maps_the_library_entry_point(batch_file: tuple[Path, list[Any]]) -> None:
    import dask
    import dask.bag as db

    path, written = batch_file
    with dask.config.set(scheduler="processes", num_workers=2):
        results = (
            db.read_text(str(path), blocksize=8192).map_partitions(count_batch_lines).compute()
        )
    assert len(results) == len(written)
    expected = [_library_count(url, body) for url, body in written if body is not None]
    assert [r["input_tokens"] for r in results if "error" not in r] == expected


def test_shards_fit_the_queue_limit_and_keep_every_line(
    batch_file: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    path, _ = batch_file
    shards, summary = tmp_path / "shards", tmp_path / "summary.json"
    limit = 3000
    result = _run(
        str(path), "--queue-limit", str(limit), "--split", str(shards), "--summary", str(summary)
    )
    assert result.exit_code == 1
    report = json.loads(summary.read_text())
    assert report["fits_queue_limit"] is (report["input_tokens"] <= limit) is False
    files = sorted(shards.iterdir())
    assert [f.name for f in files] == [s["file"] for s in report["shards"]]
    assert b"".join(f.read_bytes() for f in files) == path.read_bytes()
    for shard in report["shards"]:
        assert shard["input_tokens"] <= limit
    assert sum(s["input_tokens"] for s in report["shards"]) == report["input_tokens"]


def test_a_line_over_the_window_is_counted_and_reported(tmp_path: Path) -> None:
    text = " word" * 9000  # 9,000 tokens: over gpt-4's 8,192
    lines = [
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4", "messages": [{"role": "user", "content": text}]},
        },
        {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}]},
        },
    ]
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    assert _run(str(path), "-o", str(out), "--summary", str(summary)).exit_code == 0
    first = json.loads(out.read_text().splitlines()[0])
    assert first["over_context_window"] is True and first["input_tokens"] > 9000
    report = json.loads(summary.read_text())
    assert report["by_model"]["gpt-4"]["over_context_window"] == [1]
    assert any("custom_id repeated on line(s) 2" in w for w in report["warnings"])


def test_unusable_arguments_exit_2(tmp_path: Path) -> None:
    assert _run(str(tmp_path / "missing.jsonl")).exit_code == 2
    path = tmp_path / "f.jsonl"
    path.write_text("")
    assert _run(str(path), "--split", str(tmp_path / "s")).exit_code == 2
    assert _run(str(path)).exit_code == 0  # an empty file: nothing to count, nothing wrong


# ---- HTTP: POST /v1/batches/input_tokens ----------------------------------------------------


def test_an_uploaded_batch_file_is_counted_over_http(
    batch_file: tuple[Path, list[Any]], tmp_path: Path, start_server: Any
) -> None:
    from openai import NotFoundError, OpenAI

    from inputtokens import Settings

    path, _ = batch_file
    live = start_server(
        Settings(api_keys=frozenset({"sk-a", "sk-b"}), database_url=f"sqlite:///{tmp_path}/s.db")
    )
    alice = OpenAI(base_url=live.base_url + "/v1", api_key="sk-a", max_retries=0)
    bob = OpenAI(base_url=live.base_url + "/v1", api_key="sk-b", max_retries=0)
    try:
        uploaded = alice.files.create(file=(path.name, path.read_bytes()), purpose="batch")
        answer = alice.post(
            "/batches/input_tokens", body={"input_file_id": uploaded.id}, cast_to=object
        )
        summary = tmp_path / "summary.json"
        _run(str(path), "--summary", str(summary))
        expected = json.loads(summary.read_text())
        assert isinstance(answer, dict)
        assert answer["input_file_id"] == uploaded.id
        assert {k: answer[k] for k in expected} == expected
        per_line = httpx.post(
            f"{live.base_url}/v1/batches/input_tokens?lines=true",
            json={"input_file_id": uploaded.id},
            headers={"Authorization": "Bearer sk-a"},
        )
        out = tmp_path / "out.jsonl"
        _run(str(path), "-o", str(out))
        assert per_line.content == out.read_bytes()
        with pytest.raises(NotFoundError):  # another key's file
            bob.post("/batches/input_tokens", body={"input_file_id": uploaded.id}, cast_to=object)
        other = alice.files.create(file=("a.txt", b"hello"), purpose="user_data")
        wrong = httpx.post(
            f"{live.base_url}/v1/batches/input_tokens",
            json={"input_file_id": other.id},
            headers={"Authorization": "Bearer sk-a"},
        )
        assert wrong.status_code == 400
        assert wrong.json()["error"]["param"] == "input_file_id"
    finally:
        alice.close()
        bob.close()
