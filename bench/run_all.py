"""Run every benchmark module in bench/ (each exposes main()) and refresh BENCHMARKS.md.

With MONITOR_BENCH_TINY=1 (`make bench-smoke`, CI) each runs at a tiny size and nothing is
written; the time each took is printed, so a slow smoke run shows which one to shrink.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    failed = []
    for mod in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if mod.name.startswith("_") or mod.name == "run_all":
            continue
        module = importlib.import_module(f"bench.{mod.name}")
        if not hasattr(module, "main"):  # a helper module shared by benchmarks
            continue
        print(f"== bench.{mod.name}", flush=True)
        start = time.monotonic()
        try:
            code = module.main()
        except SystemExit as exc:  # argparse or a benchmark giving up: its code counts
            code = exc.code
        except Exception as exc:  # one broken benchmark must not hide the others
            print(f"bench.{mod.name} failed: {exc!r}", file=sys.stderr)
            code = 1
        if code not in (None, 0):
            print(f"bench.{mod.name} failed (exit {code})", file=sys.stderr)
            failed.append(mod.name)
        print(f"== bench.{mod.name}: {time.monotonic() - start:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
