"""A local worker process (`python -m mlsbom.executors.worker PARENT_PID`): JSON lines in, out.

The first line is the header (`mlsbom.wire.config_to_json`); each further line is one walked
file, answered by one line of its dumped results.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str] | None = None) -> int:
    """Serve files until stdin closes; end with the parent whose pid is the first argument."""
    from mlsbom.lifetime import die_with_parent

    args = sys.argv[1:] if argv is None else argv
    if args and args[0].isdigit():
        die_with_parent(int(args[0]))
    from mlsbom.config import cap_address_space
    from mlsbom.wire import Worker

    first = sys.stdin.readline()
    if not first:
        return 0
    worker = Worker(json.loads(first))
    cap_address_space(worker.config.limits.max_address_space)
    for line in sys.stdin:
        sys.stdout.write(worker.answer(json.loads(line)) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
