"""semi-PD (spd-01, spd-02): what its published setup states and what a serving reproduction would still need.

semi-PD splits one GPU's SMs between a prefill and a decode worker (CUDA MPS contexts) over one shared KV cache and
weight copy, and claims 1.27-2.58x lower mean end-to-end latency on DeepSeek models (spd-01) and 1.55-1.72x more
requests within SLO on Llama models (spd-02). Neither is computed: the setup below lacks the GPU, and the claims'
models, SLOs and datasets are partly unstated; ``MISSING`` names every input a reproduction would need and the
material does not give, so nothing is guessed. ``UNREACHED`` says, per claim, why it is not in the table.
"""

from __future__ import annotations

from cosim.reproduce.serving_runs import NOT_STATED, missing

SETUP = {
    "system": ("SGLang fork; prefill and decode workers on SM partitions of one GPU (CUDA MPS); one KV cache and "
               "one weight copy", "published: paper_claims spd-01 setup"),
    "spd-01 runs": ("DeepSeek-V2-Lite TP1 on ShareGPT (1000 prompts, request-rate sweep from 5/s); DeepSeek-V3 TP8 on "
                    "MATH-500 (500 prompts); context 10240, mem-fraction 0.82, radix cache off",
                    "published: the authors' evaluation scripts (paper_claims spd-01 setup)"),
    "GPU": ("-", f"{NOT_STATED}: the GPU model of every run"),
    "DeepSeek attention": ("-", f"{NOT_STATED} as shapes cosim's builders take: DeepSeek-V2/V3 use multi-head latent "
                                "attention (a compressed KV cache), which workloads/ has no builder for"),
    "baselines": ("-", f"{NOT_STATED}: which unified and disaggregated systems, at which placements and parallelism"),
    "SM split": ("-", f"{NOT_STATED}: the prefill/decode SM shares per run (semi-PD adjusts them at run time)"),
    "spd-02 models and data": ("-", f"{NOT_STATED}: which Llama models, datasets and request rates"),
    "spd-02 SLOs": ("-", f"{NOT_STATED}: the TTFT/TPOT limits and attainment target"),
    "MATH-500 lengths": ("-", f"{NOT_STATED}: no length profile of MATH-500 prompts and answers"),
}
MISSING = missing(SETUP)

UNREACHED = {
    "spd-01": "needs the GPU (not stated), a DeepSeek-V2-Lite/V3 model (multi-head latent attention has no builder in "
              "workloads/), the baselines' placements and semi-PD's SM split",
    "spd-02": "needs the GPU, the Llama models, datasets, request rates and SLOs (none stated in the retrieved "
              "material), the baselines and the SM split",
}
