"""`python -m mlsbom` and the `mlsbom` console script."""

from __future__ import annotations

import sys


def main() -> None:
    """Start hashing the named files (when the command will hash them), then run the CLI.

    SIGINT and SIGTERM end mlsbom with 130 and 143 (never 1, which means "flagged"), after
    stopping every worker and hashing child (lifetime.py)."""
    from mlsbom.hash_child import prefetch
    from mlsbom.lifetime import exit_on_signals

    exit_on_signals()
    prefetch(sys.argv[1:])
    from mlsbom._cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
