"""Duplex (Yun et al., MICRO'24) vs an H100 system: throughput and energy per token of continuous-batching serving.

Published setup (paper_claims duplex-01..03): Mixtral, GLaM, Grok-1, OPT-66B and Llama-3-70B in FP16 with tensor
parallelism over 4 devices (Mixtral, OPT, Llama-3), 8 (GLaM) or 16 (Grok-1); batch 32/64/128; (Lin, Lout) from
(256, 256) to (4096, 4096); uniform expert routing; continuous batching. Duplex = the ``Duplex`` preset (H100 xPU +
``Duplex-Logic-PIM`` on the same HBM, op placement by cost with batch splitting for co-processing); baseline =
``H100-SXM5-80GB``. Points whose KV cache does not fit on either device are skipped (the paper lowers the batch there).
The grid below samples the published ranges at three (Lin, Lout) pairs.

Published: up to 2.67x and 2.07x on average higher throughput; up to 42.03% and 28.19% on average less energy/token.

Model results and the gaps (asserted with a noise-only tolerance of 2%, which absorbs floating-point and search ties):
- throughput: the model's mean speed-up matches the paper's (2.01x vs 2.07x, within 3%); its maximum is higher
  (3.74x vs 2.67x, on GLaM, whose 64 experts make every expert GEMM low-Op/B). The model serialises prefill and decode steps and lets the Logic-PIM reach
  its full 13.4 TB/s TSV bandwidth on every op; the paper's cycle-level simulator runs prefills fused into mixed
  batches (which helps the GPU baseline as much as Duplex) and has DRAM timing (tCCD, refresh, bank conflicts) that
  keeps Logic-PIM below its peak bandwidth, which is why its best case is lower.
- energy: the model's reductions are larger (mean 44.3%, max 72.1%) than published (28.19%, 42.03%); on Llama-3-70B
  at batch 64-128 the model's Duplex uses up to 8% *more* energy: placement minimises latency, and splitting a GEMM's
  rows between the units reads its weights twice. The H100 preset charges
  13.11 pJ/bit for an HBM access through the whole host path (the measured A100 figure, DRAM + PHY + controller +
  crossbar), while the Logic-PIM pays only the DRAM array and on-die movement (1.21 + 2.24 pJ/bit, O'Connor MICRO'17);
  the paper's baseline counts a cheaper host path and a hotter Logic-PIM (7 nm synthesis of its modules and SRAMs,
  which we bound with 45 nm figures only for compute, not for DRAM). The direction and ranking agree; the size of the
  saving follows from the per-bit energies in the presets, which are cited, not tuned.
"""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from cosim.serving import serve

MODELS = {"mixtral-8x7b": 4, "opt-66b": 4, "llama-3-70b": 4, "glam-143b": 8, "grok-1": 16}
BATCHES = (32, 64, 128)
LENGTHS = ((256, 256), (1024, 1024), (4096, 4096))
NOISE = 0.02
# The model's results on this grid (38 feasible points), asserted with the noise tolerance.
MEAN_SPEEDUP, MAX_SPEEDUP, MEAN_SAVING, MAX_SAVING = 2.011, 3.743, 44.29, 72.13


@pytest.fixture(scope="module")
def ratios():
    duplex, gpu = cosim.load_hardware("Duplex"), cosim.load_hardware("H100-SXM5-80GB")
    speed, saving = [], []
    for model, devices in MODELS.items():
        for batch in BATCHES:
            for lin, lout in LENGTHS:
                d = serve(duplex, model, batch, lin, lout, devices=devices)
                g = serve(gpu, model, batch, lin, lout, devices=devices)
                if not (d.feasible and g.feasible):
                    continue
                speed.append(d.tokens_per_s / g.tokens_per_s)
                saving.append(100.0 * (1.0 - d.energy_per_token_j / g.energy_per_token_j))
    return np.array(speed), np.array(saving)


def test_every_model_has_feasible_points(ratios):
    assert len(ratios[0]) == 38  # OPT-66B stops at 2048 positions; large KV caches do not fit 80 GB


def test_duplex_is_faster_on_average(ratios):
    speed, _ = ratios
    assert (speed > 0.95).all()  # the placer never does much worse than the xPU alone (it can always use it)
    assert speed.mean() == pytest.approx(MEAN_SPEEDUP, rel=NOISE)
    assert speed.mean() == pytest.approx(2.07, rel=0.05)  # published mean 2.07x: tolerance 5%
    assert speed.max() == pytest.approx(MAX_SPEEDUP, rel=NOISE)  # published 2.67x: the model's best case is higher


def test_duplex_saves_energy(ratios):
    _, saving = ratios
    assert saving.mean() == pytest.approx(MEAN_SAVING, rel=NOISE)  # published 28.19%: model larger, see docstring
    assert saving.max() == pytest.approx(MAX_SAVING, rel=NOISE)  # published 42.03%
    assert saving.mean() > 28.19 and (saving > -10).all()
