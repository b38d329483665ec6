"""Entry point of ``python -m inputtokens`` and the ``inputtokens`` console script.

The CLI needs click (the ``[cli]`` extra); without it, say what to install instead of crashing
at import time.
"""

from __future__ import annotations

import gc
import sys


def main() -> None:
    # Importing makes many objects and almost no garbage: the collector's passes over them
    # are ~5% of a start (`inputtokens serve`, every short command). It runs again once the
    # command's modules are in.
    gc.disable()
    try:
        from .cli import cli
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        sys.stderr.write(
            f"The inputtokens command line needs extra packages ({exc.name} is missing):\n"
            "    pip install 'inputtokens[cli]'        # count, render, models\n"
            "    pip install 'inputtokens[all]'        # and serve\n"
        )
        sys.exit(1)
    finally:
        gc.enable()
    cli()


if __name__ == "__main__":
    main()
