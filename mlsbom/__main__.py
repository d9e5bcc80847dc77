"""`python -m mlsbom` and the `mlsbom` console script."""

from __future__ import annotations

import sys


def main() -> None:
    """Start hashing the named files (when the command will hash them), then run the CLI."""
    from mlsbom.hash_child import prefetch

    prefetch(sys.argv[1:])
    from mlsbom._cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
