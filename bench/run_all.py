"""Run every benchmark module in bench/ (each exposes main()) and refresh BENCHMARKS.md."""

from __future__ import annotations

import importlib
import pkgutil
import sys
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
        try:
            module.main()
        except Exception as exc:  # one broken benchmark must not hide the others
            print(f"bench.{mod.name} failed: {exc!r}", file=sys.stderr)
            failed.append(mod.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
