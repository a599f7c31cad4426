"""Start-up time of `cosim --help` (heavy libraries must be imported lazily). Median of fresh processes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import median_runs  # noqa: E402


def main() -> None:
    exe = shutil.which("cosim") or str(Path(sys.executable).parent / "cosim")
    stats = median_runs([exe, "--help"], runs=10, warmup=2)
    base = median_runs([sys.executable, "-c", "pass"], runs=10, warmup=2)
    print(f"`cosim --help`: median {stats['median_s'] * 1e3:.0f} ms (min {stats['min_s'] * 1e3:.0f}, max "
          f"{stats['max_s'] * 1e3:.0f}) over {stats['runs']} runs; bare `python -c pass`: median "
          f"{base['median_s'] * 1e3:.0f} ms; ratio {stats['median_s'] / base['median_s']:.2f}")


if __name__ == "__main__":
    main()
