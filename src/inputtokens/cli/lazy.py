"""A click group whose subcommands load when they are used.

Every ``inputtokens`` run imports the root group; importing every command's module with it
costs each run the modules of all the others: ``inputtokens serve`` would import the batch
runner (and multiprocessing with it) and the store's command groups before its first worker
starts. A lazy subcommand is a function that imports its module and returns the command:
``get_command`` calls it the first time the command is looked up. ``list_commands`` names lazy
and eager commands alike, so ``inputtokens --help`` lists them all (loading each to read its
short help, which only a help page needs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

Loader = Callable[[], click.Command]


class LazyGroup(click.Group):
    """A ``click.Group`` with `lazy` commands: name -> a function that imports and returns it."""

    def __init__(self, *args: Any, lazy: Mapping[str, Loader] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, Loader] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        load = self.lazy.get(cmd_name)
        if load is not None:
            self.add_command(load(), cmd_name)
            del self.lazy[cmd_name]
        return super().get_command(ctx, cmd_name)
