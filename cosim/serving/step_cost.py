"""Step costs from cosim's engine: what one serving iteration (decodes, prefill chunks, or both in one step) costs on
one instance, for every device kind that runs decoder LLMs (GPUs, NPUs, CPUs, NPU+PIM, xPU+Logic-PIM).

A step is built as a ``phase="mixed"`` decoder workload (``workloads.transformer.step_shape``): the weight GEMMs
once over every token, one attention op for the decodes at their mean context, one per chunk shape. Its time is the
engine's ``period_s`` (as ``cosim.serving.steady_state`` takes a decode step's), its energy ``energy_j``.

The engine takes milliseconds per step; a run meets thousands of (decodes, context, chunks) combinations. Unless
``exact``, steps are interpolated between exact evaluations on grids (cached):

- on a single device with one pipeline stage, where ops run one after another, a step is the sum of its parts (the
  same to rounding as the whole step, tested), each on its own grid: the ops over every token (by tokens), the
  logits ops (by sequences), the decode attention (decodes x mean context) and each chunk shape's attention
  (tokens x past);
- otherwise (heterogeneous devices, whose units overlap or split ops; pipelines) the whole step is interpolated
  multilinearly over five axes: the step's tokens, the number of prefill chunks, the decodes among the tokens (the
  rest are the chunks'), the mean decode context, and the chunks' effective past (the cached tokens that give equal
  chunks of the mean size the same causal query-key pairs as the real chunks); unequal chunks then swap the grid's
  equal-chunk attention for their own, from attention-only evaluations.

The grids below are assumptions (a resolution, not hardware figures); the error they cause is measured in
``benchmarks/serving_step_cost.py`` (RESULTS.md) and bounded in ``tests/serving/test_step_cost.py``.

KV capacity is checked against :meth:`EngineStepCost.kv_capacity_tokens`, not per step by the engine (the cached
steps are evaluated with no KV memory, so one grid point serves every cache occupancy).
"""

from __future__ import annotations

from hw_models.hardware import Hardware
from cosim.engine import evaluate_points
from cosim.errors import CosimInputError
from cosim.serving.engine_step import Routing, routing_params
from cosim.serving.step import StepBatch, StepCost
from cosim.serving.step_cache import Blocks, Grid, corners
from workloads.ir import Workload
from workloads.table import C_REUSE_BYTES, op_table

# assumption: grid resolution (not hardware figures). Token counts (the step's tokens, its decodes, a chunk's tokens):
# exact up to 64, then blocks of 8 tokens (1/32 of the count above 256) interpolated inside a block
# (step_cache.Blocks); finer than a GPU's 16-row tiles, so that a heterogeneous device's placement switches (Duplex)
# fall inside small blocks.
TOKEN_GRID = Blocks(exact_upto=64, min_width=8, per_value=32)
# The decodes of a mixed step (the GEMMs run at its exact token count; decodes move its attention and logits):
# exact up to 8, then blocks of 8 (1/32 above 256).
MIXED_DECODE_GRID = Blocks(exact_upto=8, min_width=8, per_value=32)
# Decode context and chunk past: every 128 tokens up to 1024, then 8 points per doubling; attention is close to
# linear in its KV length, so linear interpolation along these axes is nearly exact.
CONTEXT_GRID = Grid(step=128, dense_upto=1024, per_octave=8)
# Prefill chunks in a step: exact up to 8, then 4 per doubling.
CHUNKS_GRID = Grid(step=1, dense_upto=8, per_octave=4)
ROW_OPS = ("final_norm", "lm_head", "logits_all_gather")  # the decoder ops over one row per sequence
_CACHE_MAX = 100_000  # evaluations kept per predictor (cleared when full)
_CHUNK_MAX = 512  # assumption: the reference step of the KV-capacity check splits its prefill into 512-token chunks


def _effective_past(chunks: tuple[tuple[int, int], ...]) -> float:
    """Cached tokens p such that len(chunks) equal chunks of the mean size at past p score as many causal query-key
    pairs as ``chunks`` (>= the token-weighted mean past, by Cauchy-Schwarz)."""
    tokens = sum(c for c, _ in chunks)
    pairs = sum(c * p + c * (c + 1) / 2.0 for c, p in chunks)
    return max(pairs / tokens - (tokens / len(chunks) + 1) / 2.0, 0.0)


def _groups(chunks: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int, int], ...]:
    """(count, tokens, past) of each distinct chunk shape (the attention ops a step runs)."""
    counts: dict[tuple[int, int], int] = {}
    for pair in chunks:
        counts[pair] = counts.get(pair, 0) + 1
    return tuple((n, c, p) for (c, p), n in counts.items())


def _weighted(parts) -> tuple[float, float, dict[str, float]]:
    """Sum of weight x (time, energy, units) over ``parts``."""
    time_s = energy_j = 0.0
    units: dict[str, float] = {}
    for w, (t, e, u) in parts:
        time_s += w * t
        energy_j += w * e
        for name, busy in u.items():
            units[name] = units.get(name, 0.0) + w * busy
    return time_s, energy_j, units


def _even_chunks(tokens: int, n: int, past: int) -> tuple[tuple[int, int], ...]:
    """``tokens`` split into ``n`` chunks as evenly as integers allow, each at ``past`` cached tokens."""
    q, r = divmod(tokens, n)
    return ((q + 1, past),) * r + ((q, past),) * (n - r)


class EngineStepCost:
    """:class:`~cosim.serving.step.StepCostPredictor` of ``model`` on ``tensor_parallel`` x ``pipeline_parallel``
    devices of ``hardware``, from ``cosim.engine`` (``exact``: every distinct step evaluated, no interpolation).
    ``workspace_tokens`` / ``workspace_rows``: the largest step the scheduler runs (tokens, sequences), whose
    activations are reserved beside the weights when sizing the KV cache."""

    def __init__(self, hardware: Hardware, model: str, dtype: str = "fp16", kv_dtype: str | None = None,
                 tensor_parallel: int = 1, pipeline_parallel: int = 1, routing: Routing | str | None = None,
                 exact: bool = False, objective: str = "latency", workspace_tokens: int = 8192,
                 workspace_rows: int = 256) -> None:
        from workloads.registry import workload_parameters
        from workloads.transformer import WorkloadParamError

        self.hardware, self.model, self.exact, self.objective = hardware, model, exact, objective
        self.tensor_parallel, self.pipeline_parallel = tensor_parallel, pipeline_parallel
        self.workspace_tokens, self.workspace_rows = workspace_tokens, workspace_rows
        try:
            accepted = workload_parameters(model)
        except WorkloadParamError as exc:
            raise CosimInputError(str(exc)) from None
        if "chunks" not in accepted:
            raise CosimInputError(f"model {model!r} is not a decoder LLM: serving needs one with prefill, decode "
                                  f"and mixed steps")
        routing = Routing(routing) if isinstance(routing, str) else routing or Routing()
        self.fixed = dict(tensor_parallel=tensor_parallel, dtype=dtype, **routing_params(model, routing))
        if pipeline_parallel > 1:
            if "pipeline_parallel" not in accepted:
                raise CosimInputError(f"model {model!r} has no pipeline-parallel builder; pipeline_parallel must be 1, "
                                      f"got {pipeline_parallel}")
            self.fixed["pipeline_parallel"] = pipeline_parallel
        if kv_dtype:
            self.fixed["kv_dtype"] = kv_dtype
        self.max_positions = learned_positions(model)
        # Ops of one device with one pipeline stage run one after another: a step is the sum of its parts.
        self.additive = hardware.kind != "hetero" and pipeline_parallel == 1
        self._steps: dict[tuple, tuple[float, float, dict[str, float]]] = {}
        self._blends: dict[tuple, tuple[float, float, dict[str, float]]] = {}  # interpolated parts (_sum_of_parts)
        self._capacity: int | None = None
        self._kv_token_bytes: float | None = None
        self.evaluations = 0  # engine evaluations so far (cache misses)

    # ---- the protocol ----------------------------------------------------------------------------------------

    def cost(self, batch: StepBatch) -> StepCost:
        """Time (the engine's period) and energy of one iteration running ``batch``."""
        if batch.empty:
            return StepCost(0.0, 0.0)
        kv = sum(batch.decode_contexts) + batch.decode_tokens + sum(c + p for c, p in batch.prefill_chunks)
        if kv > self.kv_capacity_tokens():
            raise CosimInputError(f"{self.where()}: {self._describe(batch)} holds {kv} KV tokens, more than the "
                                  f"{self.kv_capacity_tokens()} that fit")
        d = batch.decode_tokens
        context = sum(batch.decode_contexts) / d if d else 0.0
        chunks = tuple(sorted(batch.prefill_chunks))
        if self.exact:
            return StepCost(*self._step(d, int(round(context)), chunks))
        if self.additive:
            return StepCost(*self._sum_of_parts(d, context, chunks))
        grid = self.grid_points(d, context, chunks)
        parts = [(w, self._step(*point)) for point, w in grid]
        if len(set(chunks)) > 1:  # unequal chunks: their attention as such, not as the equal chunks of the grid
            parts += [(-w, self._attention(_groups(pieces))) for (_, _, pieces), w in grid]
            for count, c, p in _groups(chunks):
                parts += [(w, self._attention(((count, cc, pc),))) for (cc, pc), w in self._chunk_corners(c, p)]
        return StepCost(*_weighted(parts))

    def kv_capacity_tokens(self) -> int:
        """KV tokens that fit beside the weights and the activations of the largest step (``workspace_tokens``
        tokens of ``workspace_rows`` sequences), on the busiest device (unit) of the instance."""
        if self._capacity is None:
            self._capacity = self._kv_capacity()
        return self._capacity

    def kv_transfer_bytes(self, tokens: int) -> float:
        """Bytes of keys and values of ``tokens`` tokens over all layers (at the KV datatype)."""
        if self._kv_token_bytes is None:  # one token's, from the builder once (it is asked per transfer or swap)
            from workloads import load_workload

            whole = {k: v for k, v in self.fixed.items() if k != "pipeline_parallel"}
            one = load_workload(self.model, phase="decode", batch=1, context=0, **{**whole, "tensor_parallel": 1})
            self._kv_token_bytes = one.memory_bytes["kv_cache"]
        return float(tokens) * self._kv_token_bytes

    # ---- evaluation ------------------------------------------------------------------------------------------

    def grid_points(self, d: int, context: float, chunks: tuple[tuple[int, int], ...]):
        """(grid step, weight) of the grid points around the step: tokens, then chunk count, decodes (the rest of
        the tokens are the chunks'), decode context and the chunks' effective past."""
        positions = self.max_positions
        contexts = (corners(CONTEXT_GRID.bracket(context, high=positions - 1 if positions else None)) if d
                    else [((0,), 1.0)])
        n, tokens = len(chunks), d + sum(c for c, _ in chunks)
        past = _effective_past(chunks) if chunks else 0.0
        out = []
        for (t,), wt in corners(TOKEN_GRID.bracket(tokens)):
            if not chunks:
                out += [((t, c, ()), wt * wc) for (c,), wc in contexts]
                continue
            for (k,), wk in corners(CHUNKS_GRID.bracket(n, low=1, high=t - (d > 0))):
                decodes = corners(MIXED_DECODE_GRID.bracket(d, low=1, high=t - k)) if d else [((0,), 1.0)]
                for (dc,), wd in decodes:
                    longest = -(-(t - dc) // k)
                    high = positions - longest if positions else None
                    for (p,), wp in corners(CONTEXT_GRID.bracket(past, high=high)):
                        pieces = _even_chunks(t - dc, k, p)
                        out += [((dc, c, pieces), wt * wk * wd * wp * wc) for (c,), wc in contexts]
        return out

    def _chunk_corners(self, c: int, past: int):
        """(grid (tokens, past), weight) around one chunk shape."""
        positions = self.max_positions
        out = []
        for (cc,), wc in corners(TOKEN_GRID.bracket(c, low=1)):
            high = positions - cc if positions else None
            out += [((cc, pc), wc * wp) for (pc,), wp in corners(CONTEXT_GRID.bracket(past, high=high))]
        return out

    def _step(self, d: int, context: int, chunks: tuple[tuple[int, int], ...]) -> tuple[float, float, dict]:
        """(period s, energy J, busy s per unit) of one step, evaluated by the engine once and cached."""
        key = (d, context if d else 0, chunks)
        hit = self._steps.get(key)
        if hit is None:
            wl = self.step_workload(d, context, chunks)
            wl.memory_bytes["kv_cache"] = 0.0  # the cache is checked against kv_capacity_tokens()
            hit = self._evaluate(key, wl, StepBatch((context,) * d, chunks))
        return hit

    def _sum_of_parts(self, d: int, context: float, chunks: tuple[tuple[int, int], ...]):
        """A step on a device whose ops run one after another, as the sum of its parts, each interpolated on its
        own grid: the ops over every token, the ops over one row per sequence (logits), the decode attention
        (decodes, context) and each chunk shape's attention (tokens, past). The interpolated parts are kept per
        (tokens, rows) and per (decodes, context cell), so a step the run met before costs one linear blend."""
        tokens, rows = d + sum(c for c, _ in chunks), d + len(chunks)
        base = self._blends.get((tokens, rows))
        if base is None:
            parts = [(w, self._part("tokens", t, 0, ())) for (t,), w in corners(TOKEN_GRID.bracket(tokens))]
            parts += [(w, self._part("rows", r, 0, ())) for (r,), w in corners(TOKEN_GRID.bracket(rows))]
            base = self._blends[(tokens, rows)] = _weighted(parts)
        parts = [(1.0, base)]
        if d:
            top = self.max_positions - 1 if self.max_positions else None
            lo, hi, w = CONTEXT_GRID.bracket(context, high=top)
            ends = self._blends.get((d, lo, hi))
            if ends is None:
                ends = self._blends[(d, lo, hi)] = tuple(
                    _weighted([(wd, self._part("attention", dc, c, ())) for (dc,), wd in
                               corners(TOKEN_GRID.bracket(d))]) for c in (lo, hi))
            parts += [(1.0 - w, ends[0])] + ([(w, ends[1])] if w > 0 else [])
        for count, c, p in _groups(chunks):
            parts += [(w, self._attention(((count, cc, pc),))) for (cc, pc), w in self._chunk_corners(c, p)]
        return _weighted(parts)

    def _attention(self, groups: tuple[tuple[int, int, int], ...]) -> tuple[float, float, dict]:
        """Cost of only the attention ops of prefill chunks, (count, tokens, past) per shape (cached)."""
        return self._part("attention", 0, 0, tuple(pair for count, c, p in groups for pair in [(c, p)] * count))

    def _part(self, part: str, d: int, context: int, chunks: tuple[tuple[int, int], ...]):
        """Cost of some ops of a step (cached): ``tokens``, the ops over every token; ``rows``, those over one row
        per sequence; ``attention``, the attention ops."""
        key = (part, d, context, chunks)
        hit = self._steps.get(key)
        if hit is None:
            wl = self.step_workload(d, context, chunks)
            keep = {"tokens": lambda op: op.kind != "attention" and op.name not in ROW_OPS,
                    "rows": lambda op: op.name in ROW_OPS, "attention": lambda op: op.kind == "attention"}[part]
            reuse = wl.parameter_bytes
            wl = Workload(f"{wl.name}/{part}", [op for op in wl.ops if keep(op)], wl.items, wl.item_unit,
                          dict(wl.params), {}, wl.devices)
            table = op_table(wl)
            table[:, C_REUSE_BYTES] = reuse  # every weight of the step passes between two uses (CPU caches)
            hit = self._evaluate(key, wl, StepBatch((context,) * d, chunks), table)
        return hit

    def _evaluate(self, key: tuple, wl: Workload, batch: StepBatch, table=None) -> tuple[float, float, dict]:
        if len(self._steps) >= _CACHE_MAX:
            self._steps.clear()
            self._blends.clear()
        totals = evaluate_points(self.hardware, wl, self.hardware.params, self.objective, table)
        self.evaluations += 1
        if not totals["feasible"][0]:
            raise CosimInputError(f"{self.where()}: {self._describe(batch)} is infeasible: {totals['reason'][0]}")
        period = float(totals["period_s"][0])
        units = {k[len("utilization_"):]: float(v[0]) * period for k, v in totals.items()
                 if k.startswith("utilization_")}
        hit = self._steps[key] = (period, float(totals["energy_j"][0]), units)
        return hit

    def step_workload(self, d: int, context: int, chunks: tuple[tuple[int, int], ...]):
        """The step as a workload: a plain decode or prefill step when it is one, else a mixed step."""
        from workloads import load_workload
        from workloads.transformer import WorkloadParamError

        if not chunks:
            params = dict(phase="decode", batch=d, context=context)
        elif d == 0 and len(set(chunks)) == 1 and chunks[0][1] == 0:
            params = dict(phase="prefill", batch=len(chunks), prompt=chunks[0][0])
        else:
            params = dict(phase="mixed", batch=d, context=context, chunks=",".join(f"{c}:{p}" for c, p in chunks))
        try:
            return load_workload(self.model, **params, **self.fixed)
        except (WorkloadParamError, ValueError) as exc:
            raise CosimInputError(f"{self.where()}: {self._describe(StepBatch((context,) * d, chunks))}: {exc}") \
                from None

    def _kv_capacity(self) -> int:
        """Largest KV token count that fits beside the weights and the activations of the reference step
        (bisection over the engine's memory check of a one-sequence decode step carrying those bytes: the check
        knows each unit's capacity and where a heterogeneous device places the attention that holds the cache)."""
        rows = min(self.workspace_rows, self.workspace_tokens)
        piece = min(_CHUNK_MAX, self.max_positions or _CHUNK_MAX)
        left = self.workspace_tokens - rows
        chunks = _even_chunks(left, -(-left // piece), 0) if left > 0 else ()
        workspace = self.step_workload(rows, 0, chunks).memory_bytes
        per_token = workspace["kv_cache"] / self.workspace_tokens
        probe = self.step_workload(1, min(1024, (self.max_positions or 2048) - 1), ())

        def fits(tokens: int) -> tuple[bool, str, float]:
            probe.memory_bytes = {**workspace, "kv_cache": tokens * per_token}
            totals = evaluate_points(self.hardware, probe, self.hardware.params, self.objective)
            return bool(totals["feasible"][0]), str(totals["reason"][0]), float(totals["memory_capacity_bytes"][0])

        ok, reason, capacity = fits(0)
        if not ok:
            raise CosimInputError(f"{self.where()}: the weights and the workspace of a step of "
                                  f"{self.workspace_tokens} tokens do not fit: {reason}")
        lo, hi = 0, int(capacity / per_token) + 1
        while fits(hi)[0]:
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid)[0] else (lo, mid)
        return lo

    def where(self) -> str:
        """The model, hardware and parallelism, as error messages name them."""
        return (f"model {self.model!r} on {self.hardware.name!r} (tensor_parallel={self.tensor_parallel}, "
                f"pipeline_parallel={self.pipeline_parallel})")

    @staticmethod
    def _describe(batch: StepBatch) -> str:
        d = batch.decode_tokens
        context = sum(batch.decode_contexts) / d if d else 0.0
        chunks = list(batch.prefill_chunks)
        shown = f"{chunks[:4]}{' ...' if len(chunks) > 4 else ''}"
        return f"the step of {d} decodes (mean context {context:.0f}) and prefill chunks (tokens, past) {shown}"


def learned_positions(model: str) -> int | None:
    """The position limit of a model with learned position embeddings (None when positions are unbounded)."""
    from workloads.model_config import available_model_configs, load_model_config

    if model.lower() not in available_model_configs():
        return None
    cfg = load_model_config(model)
    return cfg.max_position_embeddings if cfg.position_embedding == "learned" else None


_HARDWARE: dict[tuple, Hardware] = {}
_PREDICTORS: dict[tuple, EngineStepCost] = {}


def predictor_for(system, model: str, dtype: str = "fp16", kv_dtype: str | None = None, pool=None,
                  exact: bool = False) -> EngineStepCost:
    """The step-cost predictor of one instance of ``system`` (a ``SystemSpec``), or of one of its disaggregated
    ``pool``s (a ``PoolSpec``: its hardware, parallelism and scheduler override the system's). Hardware and
    predictors are cached per process."""
    from hw_models.errors import HardwareConfigError
    from hw_models.hardware import load_hardware

    ref = pool.hardware if pool is not None and pool.hardware is not None else system.hardware
    owner = pool if pool is not None else system
    scheduler = (pool.scheduler if pool is not None and pool.scheduler is not None else system.scheduler)
    step_tokens = scheduler.token_budget if scheduler.policy == "sarathi" else scheduler.max_prefill_tokens
    routing = None
    if system.routing is not None:
        r = system.routing
        routing = Routing(r.model, r.zipf_s, r.dirichlet_alpha, r.trace, r.capacity_factor, r.seed)
    hw_key = (ref.preset.lower(), repr(sorted(ref.overrides.items())))
    key = hw_key + (owner.tensor_parallel, owner.pipeline_parallel, model, dtype, kv_dtype, routing,
                    max(step_tokens, scheduler.max_batch), scheduler.max_batch, exact)
    if key not in _PREDICTORS:
        if hw_key not in _HARDWARE:
            try:
                _HARDWARE[hw_key] = load_hardware(ref.preset, dict(ref.overrides))
            except HardwareConfigError as exc:
                raise CosimInputError(f"system {system.label!r}: {exc}") from None
        _PREDICTORS[key] = EngineStepCost(_HARDWARE[hw_key], model, dtype, kv_dtype, owner.tensor_parallel,
                                          owner.pipeline_parallel, routing, exact,
                                          workspace_tokens=max(step_tokens, scheduler.max_batch),
                                          workspace_rows=scheduler.max_batch)
    return _PREDICTORS[key]
