"""The SQLite store's directory, checked with the standard library only.

``inputtokens serve`` checks the store before it starts (settings.py ``check_store``). For the
default store, an SQLite file under the data directory, that check is this directory check
alone, and it must not import SQLAlchemy (~0.2 s, half of a bare start) into a parent process
whose workers mostly count and may never open the store.
"""

from __future__ import annotations

import os
from pathlib import Path


def check_writable_dir(directory: Path) -> None:
    """Create `directory` if needed; ``ValueError`` when that fails or it is not writable."""
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"{directory} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the directory {directory}: {exc.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"the directory {directory} is not writable")
