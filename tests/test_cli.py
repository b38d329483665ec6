"""The command line, through click's CliRunner and once as a real subprocess."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import inputtokens
import inputtokens.server
from inputtokens.cli import cli
from inputtokens.core.models import MODELS
from inputtokens.settings import Settings

JOKE = "Tell me a joke."
JOKE_BODY = json.dumps({"model": "gpt-5", "input": JOKE})
GPT5_JOKE_PROMPT = "<|start|>user<|message|>Tell me a joke.<|end|><|start|>assistant"
GPT4O_HI_PROMPT = "<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>"


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


# ---- count -----------------------------------------------------------------------------------


def test_count_from_file(tmp_path: Path, expected) -> None:
    path = tmp_path / "body.json"
    path.write_text(JOKE_BODY, encoding="utf-8")
    result = invoke("count", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{expected.reasoning([('user', JOKE)])}\n"


@pytest.mark.parametrize("args", [("count",), ("count", "-")])
def test_count_from_stdin(args: tuple[str, ...], expected) -> None:
    result = invoke(*args, input=JOKE_BODY)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(expected.reasoning([("user", JOKE)]))


def test_count_model_override(expected) -> None:
    result = invoke("count", "--model", "gpt-4o", "-", input=JOKE_BODY)
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) == expected.chat([("user", JOKE)])


def test_count_non_ascii_from_file(tmp_path: Path, expected) -> None:
    text = "Größe: 東京 👋"
    path = tmp_path / "body.json"
    path.write_text(
        json.dumps({"model": "gpt-5", "input": text}, ensure_ascii=False), encoding="utf-8"
    )
    result = invoke("count", str(path))
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) == expected.reasoning([("user", text)])


def test_count_json_prints_the_rich_view(expected) -> None:
    result = invoke("count", "--json", input=JOKE_BODY)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    total = expected.reasoning([("user", JOKE)])
    assert data["object"] == "response.input_tokens"
    assert data["input_tokens"] == total
    assert data["model"] == "gpt-5"
    assert data["exact"] is True
    assert [p["part"] for p in data["breakdown"]] == ["input", "priming"]
    assert sum(p["tokens"] for p in data["breakdown"]) == total
    assert "tokens" not in data


def test_count_tokens(expected) -> None:
    result = invoke("count", "--tokens", input=JOKE_BODY)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["input_tokens"] == expected.reasoning([("user", JOKE)])
    assert len(data["tokens"]) == len(data["token_strings"]) == data["input_tokens"]
    assert "".join(data["token_strings"]) == GPT5_JOKE_PROMPT


# ---- render ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "prompt"),
    [
        ({"model": "gpt-4o", "input": "Hi"}, GPT4O_HI_PROMPT),
        ({"model": "gpt-5", "input": JOKE}, GPT5_JOKE_PROMPT),
    ],
)
def test_render_prints_the_exact_prompt(body: dict[str, Any], prompt: str) -> None:
    result = invoke("render", "-", input=json.dumps(body))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == prompt  # no trailing newline when stdout is not a terminal


def test_render_model_override() -> None:
    result = invoke("render", "--model", "gpt-4o", input=json.dumps({"input": "Hi"}))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == GPT4O_HI_PROMPT


# ---- models ----------------------------------------------------------------------------------


def test_models_lists_gpt_4o() -> None:
    result = invoke("models")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "model"
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(MODELS)
    assert rows["gpt-4o"][1:3] == ["chat", "o200k_base"]
    assert int(rows["gpt-4o"][3]) == MODELS["gpt-4o"].context_window


def test_models_json() -> None:
    result = invoke("models", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    by_id = {m["id"]: m for m in data}
    assert set(by_id) == set(MODELS)
    assert by_id["gpt-4o"]["encoding"] == "o200k_base"
    assert by_id["gpt-5"]["family"] == "harmony"
    assert by_id["gpt-4"]["context_window"] == MODELS["gpt-4"].context_window


def test_models_file_rows_are_listed_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [{"id": "gpt-6.3-nova", "like": "gpt-6.2-sol"}]}))
    env = {"INPUTTOKENS_MODELS_FILE": str(path)}
    listed = invoke("models", "--json", env=env)
    assert "gpt-6.3-nova" in {m["id"] for m in json.loads(listed.stdout)}
    body = json.dumps({"model": "gpt-6.3-nova", "input": JOKE})
    assert (
        invoke("count", "-", input=body, env=env).stdout
        == invoke("count", "-", input=body.replace("gpt-6.3-nova", "gpt-6.2-sol")).stdout
    )


def test_a_bad_models_file_stops_the_cli_with_its_message(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [{"id": "x", "like": "gpt-9"}]}))
    result = invoke("models", env={"INPUTTOKENS_MODELS_FILE": str(path)})
    assert result.exit_code == 1
    assert "models[0].like: 'gpt-9' is not a listed model" in result.stderr


# ---- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["count", "render"])
def test_invalid_body_exits_1_with_the_envelope_on_stderr(command: str) -> None:
    result = invoke(command, input=json.dumps({"model": "gpt-5", "input": 5}))
    assert result.exit_code == 1
    assert result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        "input",
        "invalid_type",
    )


def test_unknown_model_exits_1() -> None:
    result = invoke("count", "--model", "gpt-9000", input=JOKE_BODY)
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "model_not_found"


def test_invalid_json_exits_1() -> None:
    result = invoke("count", input="{not json")
    assert result.exit_code == 1
    assert "not valid JSON" in result.stderr
    assert result.stdout == ""


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("count", str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert "absent.json" in result.stderr


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert inputtokens.__version__ in result.stdout


# ---- serve -----------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Replace the server's run() with a recorder; return what it was called with."""
    calls: list[Settings] = []
    monkeypatch.setattr(inputtokens.server, "run", calls.append)
    return calls


def test_serve_flags(served: list[Settings]) -> None:
    result = invoke("serve", "--host", "0.0.0.0", "--port", "9123", "--workers", "3")
    assert result.exit_code == 0, result.stderr
    assert served == [Settings(host="0.0.0.0", port=9123, workers=3)]


def test_serve_defaults(served: list[Settings]) -> None:
    result = invoke("serve")
    assert result.exit_code == 0, result.stderr
    assert served == [Settings()]


def test_serve_port_from_env(served: list[Settings]) -> None:
    result = invoke("serve", env={"INPUTTOKENS_PORT": "9555"})
    assert result.exit_code == 0, result.stderr
    assert served == [Settings(port=9555)]


def test_serve_settings_from_env(served: list[Settings]) -> None:
    env = {
        "INPUTTOKENS_HOST": "0.0.0.0",
        "INPUTTOKENS_WORKERS": "2",
        "INPUTTOKENS_API_KEYS": "sk-a, sk-b,,",
        "INPUTTOKENS_MAX_BODY_BYTES": "1000",
        "INPUTTOKENS_DEFAULT_MODEL": "gpt-4o",
    }
    result = invoke("serve", env=env)
    assert result.exit_code == 0, result.stderr
    assert served == [
        Settings(
            host="0.0.0.0",
            workers=2,
            api_keys=frozenset({"sk-a", "sk-b"}),
            max_body_bytes=1000,
            default_model="gpt-4o",
        )
    ]


def test_serve_flag_beats_env(served: list[Settings]) -> None:
    result = invoke("serve", "--port", "9123", env={"INPUTTOKENS_PORT": "9555"})
    assert result.exit_code == 0, result.stderr
    assert [s.port for s in served] == [9123]


def test_bad_env_value_is_a_clean_error(served: list[Settings]) -> None:
    result = invoke("serve", env={"INPUTTOKENS_PORT": "eighty"})
    assert result.exit_code != 0
    assert "INPUTTOKENS_PORT" in result.stderr
    assert served == []


def test_env_default_model_applies_to_count(expected) -> None:
    result = invoke(
        "count", input=json.dumps({"input": "Hi"}), env={"INPUTTOKENS_DEFAULT_MODEL": "gpt-4o"}
    )
    assert result.exit_code == 0, result.stderr
    assert int(result.stdout) == expected.chat([("user", "Hi")])


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--no-fetch",), None),
        ((), {"INPUTTOKENS_REMOTE_FETCH": "off"}),
    ],
)
def test_fetching_can_be_turned_off(args: tuple[str, ...], env: dict[str, str] | None) -> None:
    # An unroutable documentation address (TEST-NET-1): fetching it would be refused, so the
    # count can only succeed if no fetch is attempted.
    body = {
        "model": "gpt-4o",
        "input": [
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "http://192.0.2.1/a.png", "detail": "high"}
                ],
            }
        ],
    }
    result = invoke(*args, "count", "--json", input=json.dumps(body), env=env)
    assert result.exit_code == 0, result.stderr
    rich = json.loads(result.stdout)
    assert rich["input_tokens_details"]["image_tokens"] == 765
    assert any("remote fetching is off" in r for r in rich["estimate_reasons"])
    refused = invoke("count", input=json.dumps(body))
    assert refused.exit_code == 1
    assert "url_not_allowed" in refused.stderr


def test_server_run_one_worker_serves_the_app_in_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Any, list[socket.socket]]] = []

    def record(server: Any, sockets: list[socket.socket]) -> None:
        calls.append((server.config, sockets))

    monkeypatch.setattr(inputtokens.server._Server, "run", record)
    settings = Settings(
        host="127.0.0.1",
        port=0,
        workers=1,
        data_dir=str(tmp_path),
        max_body_bytes=777,
        default_model="o3",
        warm_encodings=("cl100k_base",),
    )
    try:
        inputtokens.server.run(settings)
    finally:
        gc.unfreeze()
    ((config, (sock,)),) = calls
    try:
        # the app was built from exactly these settings, and is served on the socket bound
        # before it was built
        assert config.app.count.settings == settings
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
    finally:
        sock.close()
    assert "cl100k_base" in inputtokens.core.tokenizer._encodings


def test_server_run_builds_the_app_once_then_forks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    forks: list[inputtokens.server.Prefork] = []
    monkeypatch.setattr(inputtokens.server.Prefork, "run", lambda self: forks.append(self))
    settings = Settings(
        data_dir=str(tmp_path),
        host="127.0.0.1",
        port=0,
        workers=3,
        api_keys=frozenset({"sk-x"}),
        warm_encodings=("o200k_base",),
    )
    try:
        inputtokens.server.run(settings)
    finally:
        gc.unfreeze()
    (prefork,) = forks
    try:
        assert prefork.count == 3
        assert prefork.app.count.settings == settings
        # bound and listening already: on Linux a socket per worker (SO_REUSEPORT), else one
        assert len(prefork.sockets) == (3 if inputtokens.server.REUSEPORT else 1)
        (address,) = {sock.getsockname() for sock in prefork.sockets}
        assert address[0] == "127.0.0.1" and address[1] > 0
    finally:
        for sock in prefork.sockets:
            sock.close()


# ---- a real process --------------------------------------------------------------------------


def test_python_m_inputtokens_count_subprocess(expected) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    proc = subprocess.run(
        [sys.executable, "-m", "inputtokens", "count", "-"],
        input=JOKE_BODY,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "11\n"
    assert int(proc.stdout) == expected.reasoning([("user", JOKE)])


def test_serve_with_two_workers_for_real(tmp_path: Path) -> None:
    """`inputtokens serve --workers 2` in a real process tree: both workers get the settings
    (here an API key given only through the environment) and answer counts."""
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "INPUTTOKENS_API_KEYS": "sk-workers",
        "INPUTTOKENS_DEFAULT_MODEL": "gpt-4o",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "inputtokens", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        headers = {"Authorization": "Bearer sk-workers"}
        answers = {
            httpx.post(
                f"{base}/v1/responses/input_tokens",
                json={"input": "Hi"},
                headers=headers,
                timeout=5,
            ).json()["input_tokens"]
            for _ in range(8)
        }
        assert answers == {3 + 4 + 1}  # gpt-4o (the configured default): "Hi" is one token
        refused = httpx.post(f"{base}/v1/responses/input_tokens", json={"input": "Hi"}, timeout=5)
        assert refused.status_code == 401
    finally:
        proc.terminate()
        proc.communicate(timeout=15)  # reaps the process and closes its stderr pipe


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def test_forked_workers_are_replaced_when_they_die_and_stop_with_the_parent() -> None:
    """`serve --workers 2`: two forked workers; one killed is replaced and counts go on; on
    SIGTERM the parent stops both and exits 0, leaving no process behind."""
    import signal
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    env["INPUTTOKENS_WARM_ENCODINGS"] = "o200k_base"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "inputtokens", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/v1/responses/input_tokens"

    def wait_until(check: Any, what: str, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while True:
            try:
                value = check()
                if value:
                    return value
            except (httpx.TransportError, OSError):
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, what
            time.sleep(0.05)

    try:
        wait_until(
            lambda: (
                len(_children(proc.pid)) == 2
                and httpx.post(
                    url, json={"model": "gpt-5", "input": "Tell me a joke."}, timeout=2
                ).status_code
                == 200
            ),
            "two workers did not start",
        )
        assert time.monotonic() - started < 30
        first = _children(proc.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_until(
            lambda: (k := _children(proc.pid)) and len(k) == 2 and victim not in k and k,
            "the dead worker was not replaced",
        )
        assert len(replaced & first) == 1
        answers = {
            httpx.post(url, json={"model": "gpt-5", "input": "Tell me a joke."}, timeout=5).json()[
                "input_tokens"
            ]
            for _ in range(6)
        }
        assert answers == {11}
    finally:
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err.decode()
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        ), f"worker {pid} outlived the parent"
