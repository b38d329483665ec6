"""Settings: one frozen object, read once from ``INPUTTOKENS_*`` environment variables.

Every variable is listed in docs/configuration.md. Settings are passed explicitly to the
counting core, the HTTP app and the CLI; nothing reads the environment behind their back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .tokenizer import ENCODING_SPECS

DEFAULT_MODEL = "gpt-5"
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # the spec's 10 Mi-character input, JSON-escaped
DEFAULT_MAX_INPUT_ITEMS = 200_000  # well above real agent transcripts; bounds work per request


@dataclass(frozen=True, slots=True)
class Settings:
    """Configuration of the counter and its server."""

    default_model: str = DEFAULT_MODEL
    api_keys: frozenset[str] = field(default_factory=frozenset)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_input_items: int = DEFAULT_MAX_INPUT_ITEMS
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    warm_encodings: tuple[str, ...] = ("o200k_base", "cl100k_base")

    def to_env(self) -> dict[str, str]:
        """The settings as INPUTTOKENS_* variables (read back by ``from_env``)."""
        return {
            "INPUTTOKENS_DEFAULT_MODEL": self.default_model,
            "INPUTTOKENS_API_KEYS": ",".join(sorted(self.api_keys)),
            "INPUTTOKENS_MAX_BODY_BYTES": str(self.max_body_bytes),
            "INPUTTOKENS_MAX_INPUT_ITEMS": str(self.max_input_items),
            "INPUTTOKENS_HOST": self.host,
            "INPUTTOKENS_PORT": str(self.port),
            "INPUTTOKENS_WORKERS": str(self.workers),
            "INPUTTOKENS_WARM_ENCODINGS": ",".join(self.warm_encodings),
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(f"INPUTTOKENS_{name}")

        kwargs: dict[str, object] = {}
        if (value := get("DEFAULT_MODEL")) is not None:
            kwargs["default_model"] = value
        if (value := get("API_KEYS")) is not None:
            kwargs["api_keys"] = frozenset(k.strip() for k in value.split(",") if k.strip())
        for name, key in (("MAX_BODY_BYTES", "max_body_bytes"),
                          ("MAX_INPUT_ITEMS", "max_input_items"), ("PORT", "port"),
                          ("WORKERS", "workers")):
            if (value := get(name)) is not None:
                try:
                    kwargs[key] = int(value)
                except ValueError:
                    raise ValueError(
                        f"INPUTTOKENS_{name} must be an integer, got {value!r}"
                    ) from None
        if (value := get("HOST")) is not None:
            kwargs["host"] = value
        if (value := get("WARM_ENCODINGS")) is not None:
            names = tuple(e.strip() for e in value.split(",") if e.strip())
            unknown = [n for n in names if n not in ENCODING_SPECS]
            if unknown:  # fail at configuration time, not inside a worker's start-up
                known = ", ".join(sorted(ENCODING_SPECS))
                raise ValueError(f"INPUTTOKENS_WARM_ENCODINGS: unknown {unknown}; known: {known}")
            kwargs["warm_encodings"] = names
        return cls(**kwargs)  # type: ignore[arg-type]
