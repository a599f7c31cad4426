"""Published measurements as validation sets: the YAML files of ``cosim/calibration/datasets/``, each a list of
vendor- or benchmark-published numbers with the setup their source states (model, GPU, precision, batch, tensor
parallelism, input and output lengths) and the source every number was read from.

A file holds ``name``, ``title``, ``sources`` (id -> url, title, version, method), optional ``defaults`` (keys shared
by its entries) and ``entries``; :data:`ENTRY_KEYS` lists what an entry holds (``skip``: why a published
number cannot be compared as stated). ``workload: null`` marks a published
model cosim has no config for: it is kept, and reported as skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cosim.errors import CosimInputError

DATA_DIR = Path(__file__).with_name("datasets")

# metric -> what it measures; each has one prediction rule in cosim.calibration.dataset_eval
METRICS = {
    "output_throughput": "generated tokens per second, all GPUs of the tensor-parallel group together",
    "output_throughput_per_gpu": "generated tokens per second per GPU of the tensor-parallel group",
    "first_token_latency": "seconds from the prompt to the first generated token (the prefill of the batch)",
    "query_latency": "seconds to run one query (a forward pass of the batch)",
}
UNITS = {"tokens/s": 1.0, "s": 1.0, "ms": 1e-3, "ns": 1e-9}  # -> SI
METRIC_UNITS = {"output_throughput": ("tokens/s",), "output_throughput_per_gpu": ("tokens/s",),
                "first_token_latency": ("s", "ms", "ns"), "query_latency": ("s", "ms", "ns")}
NEEDS = {"output_throughput": ("input_len", "output_len"), "output_throughput_per_gpu": ("input_len", "output_len"),
         "first_token_latency": ("input_len",), "query_latency": ()}
ENTRY_KEYS = {"id": str, "source": str, "table": str, "published_model": str, "workload": (str, type(None)),
              "hardware": str, "metric": str, "measured": (int, float), "unit": str, "batch": int, "devices": int,
              "dtype": str, "input_len": int, "output_len": int, "kv_dtype": str, "skip": str}
OPTIONAL = ("input_len", "output_len", "kv_dtype", "skip")


@dataclass(frozen=True)
class Entry:
    """One published number and its setup; ``measured`` is in the published ``unit``."""

    id: str
    source: str
    table: str
    published_model: str
    workload: str | None
    hardware: str
    metric: str
    measured: float
    unit: str
    batch: int
    devices: int
    dtype: str
    input_len: int | None = None
    output_len: int | None = None
    kv_dtype: str | None = None
    skip: str = ""  # why the published number cannot be compared as stated (an unclear unit, ...)

    @property
    def measured_si(self) -> float:
        """The published value in SI units (tokens/s or seconds)."""
        return self.measured * UNITS[self.unit]


@dataclass(frozen=True)
class Dataset:
    """A validation set: its entries and their sources (id -> url, title, version, method)."""

    name: str
    title: str
    sources: dict
    entries: tuple[Entry, ...]
    file: Path


def dataset_names() -> list[str]:
    """The names of the vendored datasets (their file stems), sorted."""
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


def _entry(raw: dict, defaults: dict, where: str, sources: dict) -> Entry:
    data = {**defaults, **raw}
    where = f"{where} entry {data.get('id', '?')!r}"
    unknown = sorted(set(data) - set(ENTRY_KEYS))
    if unknown:
        raise CosimInputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(ENTRY_KEYS)}")
    for key, kind in ENTRY_KEYS.items():
        if key not in data:
            if key in OPTIONAL:
                continue
            raise CosimInputError(f"{where}: missing key {key!r}")
        if not isinstance(data[key], kind) or isinstance(data[key], bool):
            raise CosimInputError(f"{where}: {key}={data[key]!r} has the wrong type")
    if data["source"] not in sources:
        raise CosimInputError(f"{where}: source {data['source']!r} is not in the file's sources: {', '.join(sources)}")
    if data["metric"] not in METRICS:
        raise CosimInputError(f"{where}: metric {data['metric']!r}; allowed: {', '.join(METRICS)}")
    if data["unit"] not in METRIC_UNITS[data["metric"]]:
        raise CosimInputError(f"{where}: unit {data['unit']!r} for {data['metric']}; allowed: "
                              f"{', '.join(METRIC_UNITS[data['metric']])}")
    missing = [k for k in NEEDS[data["metric"]] if k not in data]
    if missing:
        raise CosimInputError(f"{where}: metric {data['metric']} needs {missing[0]!r}")
    if data["measured"] <= 0 or min(data["batch"], data["devices"], *(data[k] for k in NEEDS[data["metric"]])) < 1:
        raise CosimInputError(f"{where}: measured, batch, devices and lengths must be positive")
    return Entry(**data)


@lru_cache(maxsize=None)
def load_dataset(name: str) -> Dataset:
    """The vendored dataset ``name``, checked entry by entry; an unknown name or a bad file raises
    ``CosimInputError`` naming the file, the entry and the key."""
    path = DATA_DIR / f"{name}.yaml"
    if name not in dataset_names():
        raise CosimInputError(f"unknown dataset {name!r}; available: {', '.join(dataset_names())}")
    raw = yaml.safe_load(path.read_text())
    where = str(path)
    for key in ("name", "title", "sources", "entries"):
        if key not in raw:
            raise CosimInputError(f"{where}: missing key {key!r}")
    if raw["name"] != name:
        raise CosimInputError(f"{where}: name {raw['name']!r} differs from the file name {name!r}")
    for sid, source in raw["sources"].items():
        if not str(source.get("url", "")).startswith("https://"):
            raise CosimInputError(f"{where}: source {sid!r} has no https url")
    entries = tuple(_entry(e, raw.get("defaults") or {}, where, raw["sources"]) for e in raw["entries"])
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise CosimInputError(f"{where}: duplicate entry id {next(i for i in ids if ids.count(i) > 1)!r}")
    return Dataset(name, raw["title"], raw["sources"], entries, path)
