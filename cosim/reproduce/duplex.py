"""Duplex (Yun et al., MICRO'24) vs an H100 system: serving throughput and energy per token (duplex-01..03).

Published setup: Mixtral, GLaM, Grok-1, OPT-66B and Llama-3-70B in FP16 with tensor parallelism over 4 devices
(Mixtral, OPT, Llama-3), 8 (GLaM) or 16 (Grok-1); batch 32/64/128; (Lin, Lout) from (256, 256) to (4096, 4096);
uniform expert routing; continuous batching (``cosim.serving``). Duplex = the ``Duplex`` preset (H100 xPU +
``Duplex-Logic-PIM`` on the same HBM, op placement by cost with batch splitting for co-processing); baseline =
``H100-SXM5-80GB``. Points whose KV cache does not fit on either device are skipped (the paper lowers the batch
there). The grid samples the published ranges at three (Lin, Lout) pairs.

Mechanisms the setup exercises: the Logic-PIM streams its DRAM under the HBM3 timing (``hw_models.logic_pim_dram``);
both systems' GPUs sit in nodes of 8 (the H100 preset's ``interconnect``), so Grok-1's 16-way collectives run
hierarchically with the inter-node step on the 400 GB/s InfiniBand the paper states (``hw_models.collectives``).
Energy: the Logic-PIM pays the DRAM array and on-die (TSV) movement of the O'Connor et al. (MICRO'17) HBM breakdown;
the H100 pays an HBM access through its whole path, the same device parts plus off-chip I/O plus its PHY, controller
and crossbar (measured 13.11 pJ/bit in all). How much host path the paper's simulated H100 pays is not stated.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cosim import api
from cosim.serving import serve

MODELS = {"mixtral-8x7b": 4, "opt-66b": 4, "llama-3-70b": 4, "glam-143b": 8, "grok-1": 16}
BATCHES = (32, 64, 128)
LENGTHS = ((256, 256), (1024, 1024), (4096, 4096))


@lru_cache(maxsize=1)
def ratios() -> tuple[np.ndarray, np.ndarray]:
    """Per feasible grid point: Duplex over H100 throughput (x) and energy-per-token saving (%)."""
    duplex, gpu = api.load_hardware("Duplex"), api.load_hardware("H100-SXM5-80GB")
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
    speed_a, saving_a = np.array(speed), np.array(saving)
    speed_a.flags.writeable = saving_a.flags.writeable = False  # cached: callers share these arrays
    return speed_a, saving_a


MODEL_VALUES = {
    "duplex-01": lambda: float(ratios()[0].max()),
    "duplex-02": lambda: float(ratios()[1].max()),
    "duplex-03/throughput": lambda: float(ratios()[0].mean()),
    "duplex-03/energy": lambda: float(ratios()[1].mean()),
}
