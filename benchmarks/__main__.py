"""`make bench`: runs every benchmark in this folder and prints its figures."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    folder = Path(__file__).parent
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.startswith("bench_")
    )
    if not names:
        print("no benchmarks yet", file=sys.stderr)
        return 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
