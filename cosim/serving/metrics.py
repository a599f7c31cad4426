"""What a serving run measured: per-request rows, token gaps, a bounded per-step timeline, the summary and goodput.

Memory stays bounded for millions of requests:

- per request, six numpy columns written when it leaves (the Request objects themselves live only while in flight);
- token gaps (TBT) are kept exactly up to ``EXACT_GAPS`` gaps, then folded into a log-binned histogram with
  ``GAP_BINS_PER_DECADE`` bins per decade from 1 ns to 1e5 s: a quantile read from it is the geometric centre of its
  bin, within a relative error of 10**(1 / (2 * GAP_BINS_PER_DECADE)) - 1 = 0.058 % of the exact order statistic;
  the mean is exact (a running sum);
- the timeline keeps every step until ``timeline_rows`` rows, then every 2nd, 4th, ... step (a uniform subsample:
  when the buffer fills, every other row is dropped and the stride doubles). Time averages in the summary (KV
  occupancy, queue length, requests in the system) come from exact running integrals over every step, not from the
  kept rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cosim.serving.requests import Request
from cosim.serving.run import REQUEST_COLUMNS, TIMELINE_COLUMNS
from cosim.serving.spec import SLOSpec

EXACT_GAPS = 1 << 20
GAP_BINS_PER_DECADE = 2000
_GAP_LOG_MIN, _GAP_LOG_MAX = -9.0, 5.0
_GAP_BINS = int((_GAP_LOG_MAX - _GAP_LOG_MIN) * GAP_BINS_PER_DECADE)
GAP_RELATIVE_ERROR = 10 ** (1 / (2 * GAP_BINS_PER_DECADE)) - 1
"""Largest relative error of a token-gap quantile once the gaps are binned."""


class TokenGaps:
    """Every gap between consecutive tokens of a request: exact while few, a fine log histogram beyond (gaps are
    staged in a buffer and binned a buffer at a time)."""

    def __init__(self, exact_limit: int = EXACT_GAPS) -> None:
        self._buf = np.empty(min(exact_limit, 4096))
        self._n = 0
        self._limit = exact_limit
        self._hist: np.ndarray | None = None
        self.count = 0
        self.total_s = 0.0

    def add(self, gaps: np.ndarray) -> None:
        """Record an array of gaps (seconds)."""
        k = gaps.size
        self.count += k
        self.total_s += float(gaps.sum())
        if self._stage(k):
            self._buf[self._n:self._n + k] = gaps
            self._n += k
        else:
            self._bin(gaps)

    def add_repeat(self, gap: float, k: int) -> None:
        """Record ``k`` gaps of ``gap`` seconds each."""
        self.count += k
        self.total_s += gap * k
        if self._hist is None and self._stage(k):
            self._buf[self._n:self._n + k] = gap
            self._n += k
        else:
            b = int((math.log10(max(gap, 10.0 ** _GAP_LOG_MIN)) - _GAP_LOG_MIN) * GAP_BINS_PER_DECADE)
            self._hist[min(b, _GAP_BINS - 1)] += k

    def _stage(self, k: int) -> bool:
        """Make room for ``k`` more gaps in the buffer (growing it while exact, binning it once the exact store
        is full or afterwards when it is full); False when ``k`` gaps exceed the buffer and must be binned now."""
        if self._n + k <= self._buf.size:
            return True
        if self._hist is None and self._n + k <= self._limit:
            grown = np.empty(min(max(2 * self._buf.size, self._n + k), self._limit))
            grown[:self._n] = self._buf[:self._n]
            self._buf = grown
            return True
        if self._hist is None:
            self._hist = np.zeros(_GAP_BINS, dtype=np.int64)
            self._bin(self._buf[:self._n])
            self._n = 0
            self._buf = np.empty(1 << 16)
        self._flush()
        return k <= self._buf.size

    def _flush(self) -> None:
        if self._hist is not None and self._n:
            self._bin(self._buf[:self._n])
            self._n = 0

    @staticmethod
    def _index(gaps: np.ndarray) -> np.ndarray:
        logs = np.log10(np.maximum(gaps, 10.0 ** _GAP_LOG_MIN))
        return np.clip(((logs - _GAP_LOG_MIN) * GAP_BINS_PER_DECADE).astype(np.int64), 0, _GAP_BINS - 1)

    def _bin(self, gaps: np.ndarray) -> None:
        self._hist += np.bincount(self._index(gaps), minlength=_GAP_BINS)

    @property
    def exact(self) -> bool:
        """Whether every gap is still kept (quantiles exact)."""
        return self._hist is None

    def mean(self) -> float:
        """Mean gap (exact)."""
        return self.total_s / self.count if self.count else math.nan

    def quantile(self, q: float) -> float:
        """The ``q`` quantile (0..1) of the gaps: exact (numpy's linear rule) or within GAP_RELATIVE_ERROR."""
        if not self.count:
            return math.nan
        if self._hist is None:
            return float(np.quantile(self._buf[:self._n], q))
        self._flush()
        target = q * (self.count - 1)
        b = int(np.searchsorted(np.cumsum(self._hist), target, side="right"))
        return float(10 ** (_GAP_LOG_MIN + (b + 0.5) / GAP_BINS_PER_DECADE))


def stats(values: np.ndarray, name: str) -> dict[str, float]:
    """Mean, P50, P90 and P99 of the finite ``values`` as ``{name}_mean_s`` etc. (nan when there are none)."""
    v = values[np.isfinite(values)]
    if not v.size:
        return {f"{name}_{k}_s": math.nan for k in ("mean", "p50", "p90", "p99")}
    p50, p90, p99 = np.quantile(v, [0.5, 0.9, 0.99])
    return {f"{name}_mean_s": float(v.mean()), f"{name}_p50_s": float(p50), f"{name}_p90_s": float(p90),
            f"{name}_p99_s": float(p99)}


class Recorder:
    """Collects one run's measurements as its instances report them."""

    def __init__(self, ids: np.ndarray, arrival_s: np.ndarray, prompt_tokens: np.ndarray,
                 output_tokens: np.ndarray, timeline_rows: int = 1 << 18) -> None:
        n = len(ids)
        self.ids, self.arrival_s = ids, arrival_s
        self.prompt_tokens, self.output_tokens = prompt_tokens, output_tokens
        self.scheduled_s = np.full(n, np.nan)
        self.first_token_s = np.full(n, np.nan)
        self.finish_s = np.full(n, np.nan)
        self.preemptions = np.zeros(n, dtype=np.int64)
        self.energy_j = np.zeros(n)
        self.instance = np.full(n, -1, dtype=np.int64)
        self.left = np.zeros(n, dtype=bool)  # reported (finished, rejected as never fitting, or cut short)
        self.instances: list = []  # every instance, to report the requests in flight when the clock stops
        self.gaps = TokenGaps()
        self._rows = np.empty((max(int(timeline_rows), 2), len(TIMELINE_COLUMNS)))
        self._n_rows = 0
        self._stride = 1
        self._steps = 0
        self.kv_capacity_tokens = 0.0  # summed over instances
        self._kv_token_s = self._queue_s = self._present_s = self.energy_total_j = 0.0
        self.end_s = 0.0

    def leave(self, req: Request, pos: int) -> None:
        """Record request ``req`` (row ``pos``) once: as it leaves its instance finished or rejected, or where it
        is when the clock stops."""
        if self.left[pos]:
            raise RuntimeError(f"request {req.id} reported twice")
        self.left[pos] = True
        self.scheduled_s[pos] = req.scheduled_s
        self.first_token_s[pos] = req.first_token_s
        self.finish_s[pos] = req.finish_s
        self.preemptions[pos] = req.preemptions
        self.energy_j[pos] = req.energy_j
        self.instance[pos] = req.instance

    def add_in_system_s(self, request_s: float) -> None:
        """Add request-seconds spent in the system outside any instance's steps (a KV move between pools)."""
        self._present_s += request_s

    def step(self, end_s: float, instance: int, step_s: float, batch_requests: int, prefill_tokens: int,
             decode_tokens: int, kv_used_tokens: int, kv_capacity_tokens: int, queue_length: int,
             energy_j: float) -> None:
        """One engine step of ``instance`` ending at ``end_s``: integrals always, a timeline row by the stride."""
        self._kv_token_s += kv_used_tokens * step_s
        self._queue_s += queue_length * step_s
        self._present_s += (batch_requests + queue_length) * step_s
        self.energy_total_j += energy_j
        self.end_s = max(self.end_s, end_s)
        self._steps += 1
        if (self._steps - 1) % self._stride:
            return
        if self._n_rows == len(self._rows):
            half = self._rows[::2].copy()
            self._n_rows = len(half)
            self._rows[:self._n_rows] = half
            self._stride *= 2
            if (self._steps - 1) % self._stride:
                return
        self._rows[self._n_rows] = (end_s, instance, step_s, batch_requests, prefill_tokens, decode_tokens,
                                    kv_used_tokens, kv_capacity_tokens, queue_length, energy_j)
        self._n_rows += 1

    def requests_frame(self) -> pd.DataFrame:
        """One row per request (REQUEST_COLUMNS)."""
        finished = np.isfinite(self.finish_s)
        first = self.first_token_s
        out = self.output_tokens
        with np.errstate(invalid="ignore", divide="ignore"):
            tpot = np.where(out > 1, (self.finish_s - first) / (out - 1), np.nan)
        cols = {"id": self.ids, "arrival_s": self.arrival_s, "prompt_tokens": self.prompt_tokens,
                "output_tokens": out, "scheduled_s": self.scheduled_s, "first_token_s": first,
                "finish_s": self.finish_s, "ttft_s": first - self.arrival_s, "tpot_s": tpot,
                "e2e_s": self.finish_s - self.arrival_s, "queue_s": self.scheduled_s - self.arrival_s,
                "preemptions": self.preemptions, "energy_j": self.energy_j, "instance": self.instance,
                "finished": finished}
        return pd.DataFrame({c: cols[c] for c in REQUEST_COLUMNS})

    def timeline_frame(self) -> pd.DataFrame:
        """The kept steps (TIMELINE_COLUMNS), in time order."""
        frame = pd.DataFrame(self._rows[:self._n_rows].copy(), columns=list(TIMELINE_COLUMNS))
        for c in ("instance", "batch_requests", "prefill_tokens", "decode_tokens", "kv_used_tokens",
                  "kv_capacity_tokens", "queue_length"):
            frame[c] = frame[c].astype(np.int64)
        return frame.sort_values(["time_s", "instance"], kind="stable", ignore_index=True)

    def summary(self, requests: pd.DataFrame) -> dict[str, float]:
        """The headline figures of the run (see the module docstring for how each is kept)."""
        finished = requests["finished"].to_numpy()
        n_done = int(finished.sum())
        start = float(self.arrival_s.min()) if len(self.arrival_s) else 0.0
        span = max(self.end_s - start, 0.0)
        out_tokens = float(self.output_tokens[finished].sum())
        energy = float(self.energy_j[finished].sum())
        rate = (lambda x: x / span if span > 0 else math.nan)
        out: dict[str, float] = {
            "requests": float(len(requests)), "finished": float(n_done), "unfinished": float(len(requests) - n_done),
            "span_s": span, "steps": float(self._steps), "timeline_stride": float(self._stride),
            "throughput_rps": rate(n_done), "output_tokens_per_s": rate(out_tokens),
            "energy_j": self.energy_total_j,
            "energy_per_request_j": energy / n_done if n_done else math.nan,
            "energy_per_output_token_j": energy / out_tokens if out_tokens else math.nan,
            "preemptions": float(requests["preemptions"].sum()),
            "kv_occupancy_mean": (self._kv_token_s / (self.kv_capacity_tokens * span)
                                  if span > 0 and self.kv_capacity_tokens else math.nan),
            "queue_length_mean": rate(self._queue_s), "in_system_mean": rate(self._present_s),
        }
        for name in ("ttft", "tpot", "e2e", "queue"):
            out.update(stats(requests[f"{name}_s"].to_numpy()[finished], name))
        out.update({"tbt_mean_s": self.gaps.mean(), "tbt_p50_s": self.gaps.quantile(0.5),
                    "tbt_p90_s": self.gaps.quantile(0.9), "tbt_p99_s": self.gaps.quantile(0.99),
                    "tbt_gaps": float(self.gaps.count)})
        return out


def goodput(requests: pd.DataFrame, summary: dict[str, float], slo: SLOSpec) -> dict[str, float]:
    """Requests per second meeting every per-request limit of ``slo`` (unfinished ones never do), the fraction that
    do (``attainment``) and whether the run meets the SLO (``meets``: attainment reached and the run-level P99 TBT
    and median queueing delay within their limits)."""
    ok = requests["finished"].to_numpy().copy()
    for column, limit in (("ttft_s", slo.ttft_s), ("tpot_s", slo.tpot_s), ("e2e_s", slo.e2e_s)):
        if limit is not None:
            values = requests[column].to_numpy()
            ok &= (values <= limit) | (np.isnan(values) if column == "tpot_s" else False)  # one token: no gaps
    n = len(requests)
    attainment = float(ok.sum()) / n if n else math.nan
    span = summary["span_s"]
    meets = n > 0 and attainment >= slo.attainment
    if slo.p99_tbt_s is not None:
        meets = meets and not summary["tbt_p99_s"] > slo.p99_tbt_s
    if slo.median_queue_s is not None:
        meets = meets and bool(summary["queue_p50_s"] <= slo.median_queue_s)
    return {"goodput_rps": float(ok.sum()) / span if span > 0 else math.nan, "attainment": attainment,
            "meets": bool(meets)}
