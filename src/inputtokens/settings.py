"""Settings: one frozen object, read once from ``INPUTTOKENS_*`` environment variables.

Every variable is listed in docs/configuration.md. Only the faces read settings (the CLI and
the server build them once, at start, with ``from_env``; a library caller passes them): they
turn them into the pipeline's options, its sources and its cache. The pipeline never sees a
``Settings``, and nothing reads the environment behind a caller's back.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .core.models import DEFAULT_REGISTRY, ModelRegistry, models_from_json
from .core.token_cache import DEFAULT_CACHE_BYTES, DEFAULT_MAX_ENTRIES
from .core.tokenizer import ENCODING_SPECS
from .count.pipeline import DEFAULT_MAX_INPUT_ITEMS, DEFAULT_MODEL, CountOptions
from .media.files import MAX_FILE_BYTES
from .media.image_size import MAX_IMAGE_BYTES
from .media.loaded import InlineLimits
from .state.sources import DEFAULT_MAX_REMOTE_URLS
from .state.store_dir import check_writable_dir

if TYPE_CHECKING:
    from .media.fetch import FetchPolicy

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # the spec's 10 Mi-character input, JSON-escaped


@dataclass(frozen=True, slots=True)
class Settings:
    """Configuration of the counter and its server."""

    default_model: str = DEFAULT_MODEL
    api_keys: frozenset[str] = field(default_factory=frozenset)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_input_items: int = DEFAULT_MAX_INPUT_ITEMS
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = field(default_factory=lambda: default_workers())
    # Seconds a client may take to send a request's headers, then its body (api/timeouts.py).
    header_timeout_s: float = 30.0
    body_timeout_s: float = 30.0
    warm_encodings: tuple[str, ...] = ("o200k_base", "cl100k_base")
    # Per process: token counts of repeated texts (token_cache.py) and the count route's plain
    # answers (api/count.py), half of cache_bytes each, and at most cache_entries entries each;
    # 0 in either turns both caches off.
    cache_bytes: int = DEFAULT_CACHE_BYTES
    cache_entries: int = DEFAULT_MAX_ENTRIES
    # Media: inline payload caps, and the fetching of http(s) image and file URLs.
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_file_bytes: int = MAX_FILE_BYTES
    remote_fetch: bool = True
    remote_allow_hosts: frozenset[str] = field(default_factory=frozenset)
    remote_timeout_s: float = 10.0
    remote_max_redirects: int = 3
    max_remote_urls: int = DEFAULT_MAX_REMOTE_URLS
    # State: where uploaded files live. Empty database_url: SQLite under data_dir.
    data_dir: str = field(default_factory=lambda: default_data_dir())
    database_url: str = ""
    # The upstream (OpenAI's API, or one like it): POST /v1/responses is passed through to it,
    # and ids the store lacks are looked up there with the caller's key. Empty: no upstream.
    upstream_base_url: str = ""
    upstream_timeout_s: float = 60.0
    # Age after which a cached upstream conversation is fetched again (it can gain items).
    upstream_conversation_ttl_s: float = 60.0
    # A JSON file of models to add to the built-in table (core/models.py models_from_json).
    models_file: str = ""
    # Lines of one batch file POST /v1/batches/input_tokens counts (OpenAI's file limit).
    max_batch_lines: int = 50_000

    def store_url(self) -> str:
        """The database URL of the store (SQLite in `data_dir` unless one is configured)."""
        return self.database_url or f"sqlite:///{os.path.join(self.data_dir, 'inputtokens.db')}"

    def check_store(self) -> None:
        """``ValueError`` naming the variable to change when the store cannot be opened under
        these settings: a bad or unsupported `database_url`, an unusable `data_dir` (checked
        without connecting; state/store.py ``check_database_url``). Without SQLAlchemy there
        is no store to check (the store's routes say what to install).

        The default store (SQLite under `data_dir`) needs only its directory checked, which
        the standard library does: SQLAlchemy is not imported for it (state/store_dir.py)."""
        if importlib.util.find_spec("sqlalchemy") is None:
            return
        variable = "INPUTTOKENS_DATABASE_URL" if self.database_url else "INPUTTOKENS_DATA_DIR"
        try:
            # SQLAlchemy unquotes %xx and ends the path at "?": such a directory is checked as
            # SQLAlchemy will read it.
            if not self.database_url and not any(c in self.data_dir for c in "%?"):
                check_writable_dir(Path(os.path.join(self.data_dir, "inputtokens.db")).parent)
                return
            from .state.store import check_database_url

            check_database_url(self.store_url())
        except ValueError as exc:
            raise ValueError(f"{variable}: {exc}") from None

    def cache_bounds(self) -> tuple[int, int]:
        """(entries, bytes) of each of a process's two caches; (0, 0) when they are off."""
        entries, size = max(self.cache_entries, 0), max(self.cache_bytes, 0) // 2
        return (entries, size) if entries and size else (0, 0)

    def count_options(self) -> CountOptions:
        """What the count pipeline takes from these settings."""
        limits = InlineLimits(self.max_image_bytes, self.max_file_bytes)
        models = load_models_file(self.models_file) if self.models_file else DEFAULT_REGISTRY
        return CountOptions(self.default_model, self.max_input_items, limits, models)

    def fetch_policy(self) -> FetchPolicy:
        """What the remote fetcher may do under these settings."""
        from .media.fetch import FetchPolicy  # sockets and TLS load only when a URL is fetched

        return FetchPolicy(
            allow_hosts=self.remote_allow_hosts,
            timeout_s=self.remote_timeout_s,
            max_redirects=self.remote_max_redirects,
            max_image_bytes=self.max_image_bytes,
            max_file_bytes=self.max_file_bytes,
        )

    def to_env(self) -> dict[str, str]:
        """The settings as INPUTTOKENS_* variables (read back by ``from_env``)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, (frozenset, tuple)):
                text = ",".join(sorted(value) if isinstance(value, frozenset) else value)
            else:
                text = str(value)
            out[_ENV_NAMES[f.name]] = text
        return out

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        for name, (variable, parse) in _PARSERS.items():
            value = env.get(variable)
            if value is not None:
                try:
                    kwargs[name] = parse(value)
                except ValueError as exc:
                    raise ValueError(f"{variable}: {exc}") from None
        return cls(**kwargs)  # type: ignore[arg-type]


def load_models_file(path: str) -> ModelRegistry:
    """The built-in models plus those of the models file at `path`; read once per process and
    path (a changed file takes effect on restart). A missing or malformed file is a
    ``ValueError`` naming the file and the field, raised when the settings are first used."""
    return _load_models_file(os.path.abspath(path))


@lru_cache(maxsize=8)
def _load_models_file(path: str) -> ModelRegistry:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except OSError as exc:
        raise ValueError(f"INPUTTOKENS_MODELS_FILE: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ValueError(f"INPUTTOKENS_MODELS_FILE: {path} is not JSON: {exc}") from None
    return models_from_json(data, source=path)


def default_workers() -> int:
    """One server worker per core this process may run on: counting is CPU-bound, so more
    workers than cores only add memory and context switches (docs/performance.md)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_data_dir() -> str:
    """``$XDG_DATA_HOME/inputtokens``, else ``~/.local/share/inputtokens``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "inputtokens")


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"must be an integer, got {value!r}") from None


_SIZE_UNITS = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30}
_SIZE_UNITS["gib"] = 1 << 30


def _size(value: str) -> int:
    """A number of bytes: ``33554432``, ``32MiB``, ``512 KiB`` (K, M, G: powers of 1024)."""
    text = value.strip().lower()
    digits = text.rstrip("kmgib ")
    unit = text[len(digits) :].strip()
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        raise ValueError(
            f"must be a number of bytes such as 33554432 or 32MiB (KiB, MiB, GiB), got {value!r}"
        )
    return int(digits) * _SIZE_UNITS[unit]


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"must be a number of seconds, got {value!r}") from None
    if not 0 < seconds < 3600:
        raise ValueError(f"must be between 0 and 3600 seconds, got {value!r}")
    return seconds


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"must be on/off (1/0, true/false), got {value!r}")


def _ttl(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"must be a number of seconds, got {value!r}") from None
    if not 0 <= seconds <= 86_400:
        raise ValueError(f"must be between 0 and 86400 seconds, got {value!r}")
    return seconds


def _base_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"must be an http(s) URL such as https://api.openai.com/v1, got {value!r}")
    return url


def _names(value: str) -> frozenset[str]:
    return frozenset(k.strip() for k in value.split(",") if k.strip())


def _hosts(value: str) -> frozenset[str]:
    return frozenset(h.lower() for h in _names(value))


def _encodings(value: str) -> tuple[str, ...]:
    names = tuple(e.strip() for e in value.split(",") if e.strip())
    unknown = [n for n in names if n not in ENCODING_SPECS]
    if unknown:  # fail at configuration time, not inside a worker's start-up
        raise ValueError(f"unknown {unknown}; known: {', '.join(sorted(ENCODING_SPECS))}")
    return names


_PARSERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "default_model": ("INPUTTOKENS_DEFAULT_MODEL", str),
    "api_keys": ("INPUTTOKENS_API_KEYS", _names),
    "max_body_bytes": ("INPUTTOKENS_MAX_BODY_BYTES", _int),
    "max_input_items": ("INPUTTOKENS_MAX_INPUT_ITEMS", _int),
    "host": ("INPUTTOKENS_HOST", str),
    "port": ("INPUTTOKENS_PORT", _int),
    "workers": ("INPUTTOKENS_WORKERS", _int),
    "header_timeout_s": ("INPUTTOKENS_HEADER_TIMEOUT", _seconds),
    "body_timeout_s": ("INPUTTOKENS_BODY_TIMEOUT", _seconds),
    "warm_encodings": ("INPUTTOKENS_WARM_ENCODINGS", _encodings),
    "cache_bytes": ("INPUTTOKENS_CACHE_BYTES", _size),
    "cache_entries": ("INPUTTOKENS_CACHE_ENTRIES", _int),
    "max_image_bytes": ("INPUTTOKENS_MAX_IMAGE_BYTES", _int),
    "max_file_bytes": ("INPUTTOKENS_MAX_FILE_BYTES", _int),
    "remote_fetch": ("INPUTTOKENS_REMOTE_FETCH", _bool),
    "remote_allow_hosts": ("INPUTTOKENS_REMOTE_ALLOW_HOSTS", _hosts),
    "remote_timeout_s": ("INPUTTOKENS_REMOTE_TIMEOUT", _seconds),
    "remote_max_redirects": ("INPUTTOKENS_REMOTE_MAX_REDIRECTS", _int),
    "max_remote_urls": ("INPUTTOKENS_MAX_REMOTE_URLS", _int),
    "data_dir": ("INPUTTOKENS_DATA_DIR", str),
    "database_url": ("INPUTTOKENS_DATABASE_URL", str),
    "upstream_base_url": ("INPUTTOKENS_UPSTREAM_URL", _base_url),
    "upstream_timeout_s": ("INPUTTOKENS_UPSTREAM_TIMEOUT", _seconds),
    "upstream_conversation_ttl_s": ("INPUTTOKENS_UPSTREAM_CONVERSATION_TTL", _ttl),
    "models_file": ("INPUTTOKENS_MODELS_FILE", str),
    "max_batch_lines": ("INPUTTOKENS_MAX_BATCH_LINES", _int),
}
_ENV_NAMES = {name: variable for name, (variable, _) in _PARSERS.items()}
