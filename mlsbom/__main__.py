"""`python -m mlsbom` and the `mlsbom` console script."""

from __future__ import annotations

import sys


def main() -> None:
    """Start the speed-ups (hashing the named files, when the command will hash them; none with
    MLSBOM_NO_SPEEDUPS=1), then run the CLI with them.

    SIGINT and SIGTERM end mlsbom with 130 and 143 (never 1, which means "flagged"), after
    stopping every worker and hashing child (lifetime.py)."""
    from mlsbom.lifetime import exit_on_signals
    from mlsbom.speed.startup import begin

    exit_on_signals()
    speed = begin(sys.argv[1:])
    from mlsbom._cli import main as cli_main

    cli_main(speed)


if __name__ == "__main__":
    main()
