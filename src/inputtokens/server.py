"""Run the HTTP service under uvicorn with one Settings object.

With several workers uvicorn imports the app by name in each process, so the factory reads the
settings from the environment there; ``run`` exports the effective settings first so that the
workers see exactly what the parent was given.
"""

from __future__ import annotations

import os

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .settings import Settings


def app_from_env() -> Starlette:
    """App factory for uvicorn worker processes."""
    return create_app(Settings.from_env())


def run(settings: Settings) -> None:
    """Serve until interrupted."""
    os.environ.update(settings.to_env())
    uvicorn.run(
        "inputtokens.server:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        access_log=False,
    )
