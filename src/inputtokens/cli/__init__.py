"""The command line: a thin click adapter over the library, the store and the server.

    inputtokens count [FILE|-] [--json] [--tokens] [--model M] [--api-key K]
    inputtokens render [FILE|-] [--model M]
    inputtokens models [--json]
    inputtokens serve [--host H] [--port P] [--workers N]
    inputtokens conversations create|get|update|delete|items ...   (the local store)
    inputtokens files upload|list|get|content|delete ...
    inputtokens responses import|get|input-items|delete ...

Every option of ``serve`` also reads ``INPUTTOKENS_<OPTION>`` (e.g. INPUTTOKENS_PORT), and the
counting settings come from the environment as documented in docs/configuration.md. The store
commands print the JSON objects the HTTP API answers with, and act as the owner of an API key
(``--api-key``, as the server does for that bearer key) or, by default, as the anonymous owner
"" of requests without a key.

The modules: main.py (the root group, count, render, models, serve), conversations.py,
files.py and responses.py (the store's groups, thin over state/service.py, which the HTTP
routes call too), common.py (the store options, output and the error reporter).
"""

from __future__ import annotations

from .common import owner_of
from .main import cli

__all__ = ["cli", "owner_of"]
