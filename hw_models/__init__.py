"""Device cost models, technology tables and presets. Heavy kernels live in ``*_kernels`` modules (Numba).

Numba's on-disk cache does not notice when a kernel calls a changed function in another module, so the cache folder
is keyed on a hash of every source the kernels are built from (device models, mapping searches, and the workload
table layout they index): a changed kernel compiles afresh, an unchanged one loads in milliseconds, and editing a
workload builder does not force a recompile.
"""

import hashlib
import os
import sys
from pathlib import Path


# The workload modules kernels read at compile time (column indices, datatype table, and what they import).
_KERNEL_WORKLOAD_MODULES = ("table.py", "ir.py", "dtypes.py")


def _kernel_cache_dir() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1()
    sources = [*sorted((root / "hw_models").glob("*.py")), *sorted((root / "mappings").glob("*.py")),
               *(root / "workloads" / name for name in _KERNEL_WORKLOAD_MODULES)]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cosim" / "numba"
    return str(base / digest.hexdigest()[:16])


if "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = _kernel_cache_dir()
    if "numba" in sys.modules:  # numba was imported first and has read its settings: point them at the folder too,
        # or kernels would load from a __pycache__ folder that may hold builds of older sources
        sys.modules["numba"].config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
# Sweeps make many short parallel kernel calls between stretches of Python: idle OpenMP workers should sleep, not
# spin, or on a small shared machine they take the core the Python thread needs.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
