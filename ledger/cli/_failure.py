"""The command line's one error for trouble before a command could act."""

from __future__ import annotations

import click


class Failure(click.ClickException):
    """Usage, input or connection trouble: nothing was done (nothing imported, verified or signed); exit code 2."""

    exit_code = 2
