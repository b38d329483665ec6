"""The library stays light: counting does not import the server, CLI or store stacks, and a
missing optional extra is named when it is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("starlette", "uvicorn", "click", "httpx", "sqlalchemy", "orjson", "prometheus_client")

_SCRIPT = """
import json, sys
import inputtokens
n = inputtokens.count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."}).input_tokens
heavy = sorted(m for m in sys.modules if m.split(".")[0] in %r)
print(json.dumps({"n": n, "heavy": heavy}))
""" % (HEAVY,)  # noqa: UP031 - the script is full of braces


def run_python(script: str) -> str:
    """`script` in a fresh interpreter without INPUTTOKENS_* variables; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUTTOKENS_")}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_counting_does_not_import_server_or_cli_stacks(expected) -> None:
    stdout = run_python(_SCRIPT)
    out = json.loads(stdout)
    assert out["n"] == expected.reasoning([("user", "Tell me a joke.")])
    assert out["heavy"] == []


def test_the_check_would_see_a_heavy_import() -> None:
    # Guard against a vacuous pass: the same probe does see click once the CLI is imported.
    script = "import sys, inputtokens.cli; print('click' in sys.modules)"
    stdout = run_python(script)
    assert stdout.strip() == "True"


def test_the_server_loads_the_database_only_when_used() -> None:
    """Worker start-up: building the app and counting a plain body do not import SQLAlchemy
    (a third of a second); the first stored object brings it in."""
    script = """
import json, sys, tempfile
from starlette.testclient import TestClient
from inputtokens.api.app import create_app
from inputtokens.settings import Settings
client = TestClient(create_app(Settings(data_dir=tempfile.mkdtemp())))
n = client.post("/v1/responses/input_tokens", json={"model": "gpt-5", "input": "Hi"}).json()
before = "sqlalchemy" in sys.modules
made = client.post("/v1/conversations", json={}).status_code
after = "sqlalchemy" in sys.modules
print(json.dumps({"n": n["input_tokens"], "before": before, "made": made, "after": after}))
"""
    stdout = run_python(script)
    out = json.loads(stdout)
    assert out["n"] > 0 and out["before"] is False and out["made"] == 200 and out["after"] is True


_WITHOUT_SQLALCHEMY = """
import json, sys, tempfile
sys.modules["sqlalchemy"] = None  # as if the store extra were not installed
import inputtokens
from inputtokens.library import local_sources
plain = inputtokens.count_input_tokens({"model": "gpt-5", "input": "Hi"}).input_tokens
sources = local_sources(inputtokens.Settings(data_dir=tempfile.mkdtemp(), remote_fetch=False))
body = {"model": "gpt-5", "input": "Hi", "conversation": "conv_1"}
try:
    inputtokens.count_input_tokens(body, sources=sources)
    message = None
except ImportError as exc:
    message = str(exc)
print(json.dumps({"plain": plain, "message": message}))
"""


def test_without_the_store_extra_plain_counts_work_and_stored_ids_say_what_to_install() -> None:
    stdout = run_python(_WITHOUT_SQLALCHEMY)
    out = json.loads(stdout)
    assert out["plain"] > 0
    assert out["message"] is not None and "pip install 'inputtokens[store]'" in out["message"]


def test_importing_the_package_builds_no_settings() -> None:
    """Settings are read by a face when it starts, never as a side effect of an import."""
    script = """
import gc
import inputtokens, inputtokens.api.app, inputtokens.cli, inputtokens.server
from inputtokens.settings import Settings
print(sum(isinstance(o, Settings) for o in gc.get_objects()))
"""
    stdout = run_python(script)
    assert stdout.strip() == "0"


def test_serve_checks_the_default_store_without_sqlalchemy_or_the_other_commands() -> None:
    """What ``serve`` runs before it forks its workers (the CLI, the server, the store check)
    imports neither SQLAlchemy nor the commands it does not run: each costs every start, and
    the workers that count never need them. The check still creates the data directory."""
    script = """
import json, os, sys, tempfile
from inputtokens.cli import cli
from inputtokens import server
from inputtokens.settings import Settings
data = os.path.join(tempfile.mkdtemp(), "data")
Settings(data_dir=data).check_store()
loaded = sorted(m for m in sys.modules if m == "sqlalchemy" or m.startswith("inputtokens.cli."))
print(json.dumps({"loaded": loaded, "made": os.path.isdir(data)}))
"""
    out = json.loads(run_python(script))
    assert out["made"] is True
    assert out["loaded"] == [
        "inputtokens.cli.common",
        "inputtokens.cli.lazy",
        "inputtokens.cli.main",
    ]
