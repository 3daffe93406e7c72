"""The `keras-dec` command line: train, export, predict, select-k, report, assign.

Each command is one module here, its parser beside its handler; the flags
several commands share are defined once in `flags`, and every command that
feeds a trained model prepares its input with `inputs.model_input`.
"""

from __future__ import annotations

import argparse
import sys

from keras_dec.cli import assign, export, predict, report, select_k, train
from keras_dec.cli.backend_choice import settle_backend
from keras_dec.cli.flags import (
    RECIPE_FLAGS,
    add_recipe_flags,
    recipe_from_args,
    uses_conv_backbone,
)
from keras_dec.errors import FolderInUseError, ParityError

COMMANDS = (train, export, predict, select_k, report, assign)

__all__ = ["RECIPE_FLAGS", "add_recipe_flags", "build_parser", "console_main", "main",
           "recipe_from_args"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `keras-dec`."""
    parser = argparse.ArgumentParser(
        prog="keras-dec", description="Deep Embedded Clustering with Keras."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None, restart: bool = False) -> int:
    """Runs `keras-dec ARGV` (default: `sys.argv[1:]`); returns the exit code.

    With `restart` (the console script), a command that trains starts this
    process again on the backend `--backend` chooses when it differs from
    the one Keras loaded; a library call stays on the loaded backend.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "backend"):
            print(settle_backend(args.backend, uses_conv_backbone(args), argv, restart))
        return args.func(args)
    except (ValueError, TypeError, OSError, ImportError, FloatingPointError, ParityError,
            FileExistsError, FolderInUseError) as e:
        message = " ".join(str(e).split())
        print(f"keras-dec: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keras-dec: interrupted", file=sys.stderr)
        return 130


def console_main() -> int:
    """The `keras-dec` console script: `main` that may restart on the chosen backend."""
    return main(restart=True)
