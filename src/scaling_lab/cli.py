"""The ``scaling-lab`` command line.

Each group of subcommands lives beside the code it drives and registers itself here:
``scaling_lab.cli_fit`` (``fit``, ``optimal``), ``scaling_lab.cli_lab`` (``train``, ``sweep``) and
``scaling_lab.cli_report`` (``report``).
Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

_COMMAND_MODULES = ("scaling_lab.cli_fit", "scaling_lab.cli_lab", "scaling_lab.cli_report")


class UsageError(ValueError):
    """Bad input from the command line; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scaling-lab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a layer not built yet
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    if "torch" not in sys.modules:  # OpenMP reads this once, when torch loads (see lab.sweep)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"scaling-lab {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
