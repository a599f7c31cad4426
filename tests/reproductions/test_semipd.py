"""semi-PD (spd-01, spd-02): not computed, because its published setup leaves out what a serving reproduction needs.

``cosim.reproduce.serving_semipd`` holds the setup as stated and names every missing input; the claims stay out of
the reproduction table until those inputs are known (the first test fails if a claim is added while still listed).
"""

import pytest

from cosim.reproduce import claims
from cosim.reproduce import serving_semipd as semipd


@pytest.mark.parametrize("claim_id", sorted(semipd.UNREACHED))
def test_unreached_claims_are_not_in_the_table(claim_id):
    assert not any(c.claim_id == claim_id for c in claims().values()), f"{claim_id} is computed: drop it here"


def test_missing_setup_is_named():
    """The GPU is the input both claims lack; DeepSeek's latent attention has no builder; spd-02's Llama runs are
    unstated. A reproduction must not guess them."""
    assert semipd.MISSING == ("GPU", "DeepSeek attention", "baselines", "SM split", "spd-02 models and data",
                              "spd-02 SLOs", "MATH-500 lengths")
    assert all("GPU" in reason for reason in semipd.UNREACHED.values())
    assert "multi-head latent attention" in semipd.UNREACHED["spd-01"]


def test_deepseek_v2_lite_has_no_config():
    """DeepSeek-V2-Lite compresses its KV cache into a latent (kv_lora_rank 512) that the decoder and MoE builders
    cannot express; shipping it as plain multi-head attention would misstate its KV bytes, the quantity semi-PD's
    memory sharing is about."""
    from workloads import available_workloads

    assert not any(name.startswith("deepseek-v2") or name.startswith("deepseek-v3") for name in available_workloads())
