"""Lamina (lamina-01, lamina-02): not computed, because only its abstract was retrieved and the devices, prices,
models and workloads behind its ranges are not stated.

``cosim.reproduce.serving_lamina`` holds the setup as stated and names every missing input. cosim has the mechanism
(attention offload presets with per-unit cost, ``cosim.serving.tokens_per_dollar_s``), checked here on its own, but
its devices and prices are this project's assumptions, so they are not put beside the paper's numbers.
"""

import pytest

from cosim import api
from cosim.reproduce import claims
from cosim.reproduce import serving_lamina as lamina
from cosim.serving import serve, tokens_per_dollar_s


@pytest.mark.parametrize("claim_id", sorted(lamina.UNREACHED))
def test_unreached_claims_are_not_in_the_table(claim_id):
    assert not any(c.claim_id == claim_id for c in claims().values()), f"{claim_id} is computed: drop it here"


def test_missing_setup_is_named():
    assert lamina.MISSING == ("compute devices", "attention devices", "interconnect", "device prices",
                              "homogeneous baselines", "models", "workloads", "device counts")
    for reason in lamina.UNREACHED.values():
        assert "devices" in reason and "abstract" in reason


def test_throughput_per_dollar_divides_by_every_units_cost():
    """The mechanism a reproduction would use: a heterogeneous preset's price is the sum of its units' costs."""
    hw = api.load_hardware("H100-attention-offload")
    est = serve(hw, "llama-2-7b", 32, 512, 512)
    assert est.feasible
    price = sum(u.cost_usd for u in hw.spec.units.values())
    assert tokens_per_dollar_s(est, hw) == pytest.approx(est.tokens_per_s / price)
    with pytest.raises(ValueError, match="has no cost"):
        tokens_per_dollar_s(est, api.load_hardware("H100-SXM5-80GB"))
