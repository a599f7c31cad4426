"""Logic-PIM DRAM timing: a stream's time from the HBM3 timing by hand (Duplex-Logic-PIM: 5 stacks x 32 pseudo-
channels, 13.4 TB/s of TSVs = 83.75 GB/s per pseudo-channel, 1 KB rows, 128 B columns, tCCD_S 1.5 ns, tCCD_L 3 ns,
4 bank groups x 4 banks x 2 ranks, tRCD 7, tRP 7, tRAS 17, tRRD_S 2, tFAW 15, tREFI 3900, tRFC 450, read-to-write 9,
write-to-read 7, rank switch 1 ns)."""

from __future__ import annotations

import pytest

import cosim
from hw_models.cost import O_BYTES_OFFCHIP, O_E_OFFCHIP, O_TIME
from hw_models.logic_pim import P
from hw_models.logic_pim_dram import row_time, stream_time
from workloads.ir import Op, Workload
from workloads.table import op_table

PCS, PC_BW, AVAIL = 160, 13.4e12 / 160, 1 - 450 / 3900


def _params(**overrides):
    return cosim.load_hardware("Duplex-Logic-PIM", overrides or None).params


def test_whole_rows_lose_the_rank_switch_and_refresh():
    p = _params()
    t_xfer = 1024 / PC_BW  # 12.23 ns > 8 columns x 1.5 ns
    assert row_time(1024.0, False, p) == pytest.approx(t_xfer + 1e-9)
    t, rows = stream_time(1e9, 1e9, False, p)
    assert rows == pytest.approx(1e9 / 1024)
    assert t == pytest.approx(1e9 / 1024 / PCS * (t_xfer + 1e-9) / AVAIL)
    assert 1e9 / t / 13.4e12 == pytest.approx(0.817, abs=0.001)  # achieved / TSV peak


def test_short_chunks_are_activation_bound():
    p = _params()
    # a 64 B chunk: one column (1.5 ns) + rank switch 1 ns < tFAW / 4 = 3.75 ns > tRRD_S 2 ns; banks: (17 + 7) / 32
    assert row_time(64.0, False, p) == pytest.approx(3.75e-9)
    t, rows = stream_time(64e6, 64.0, False, p)
    assert rows == pytest.approx(1e6)
    assert t == pytest.approx(1e6 / PCS * 3.75e-9 / AVAIL)


def test_one_bank_is_bound_by_its_row_cycle():
    p = _params(**{"dram.ranks": 1, "dram.bank_groups": 1, "dram.banks_per_group": 1})
    t_xfer = max(1024 / PC_BW, 8 * 3e-9)  # one bank group: every column waits tCCD_L (24 ns)
    assert row_time(1024.0, False, p) == pytest.approx(max(17e-9, 7e-9 + t_xfer) + 7e-9)  # no rank switch: 1 rank


def test_written_rows_pay_both_bus_turnarounds():
    p = _params()
    assert row_time(1024.0, True, p) - row_time(1024.0, False, p) == pytest.approx(9e-9 + 7e-9)


def test_refresh_stretches_by_trefi_over_the_rest():
    fast, _ = stream_time(1e8, 1e8, False, _params(**{"dram.trfc_ns": 0.0}))
    slow, _ = stream_time(1e8, 1e8, False, _params())
    assert slow / fast == pytest.approx(3900 / (3900 - 450))


def test_bad_refresh_timing_is_rejected():
    from hw_models.errors import HardwareConfigError

    with pytest.raises((HardwareConfigError, ValueError), match="trfc_ns"):
        cosim.load_hardware("Duplex-Logic-PIM", {"dram.trfc_ns": 4000})


def _cost(op, **overrides):
    from mappings.driver import map_and_cost

    return map_and_cost("logic_pim", op_table(Workload("t", [op])), _params(**overrides)[None, :], 0)[0, 0]


def test_short_rows_pay_the_whole_activation():
    """A row opened for 256 B of a 1 KB page pays the activation energy of the whole row (1.21 pJ/bit)."""
    # attention over 1 token of 128 fp16 elements: each sequence's K and V of a KV head is a 256 B chunk
    op = Op("attn", "attention", {"batch": 64, "heads": 8, "kv_heads": 8, "q_len": 1, "kv_len": 1, "head_dim": 128,
                                  "causal": 1, "kv_cache": 1})
    out = _cost(op)
    p = _params()
    kv = 2 * 64 * 8 * 256
    q_rows = 64 * 8 * 256 * 2 / 256  # queries in and outputs out: 256 B chunks as well
    extra = (kv / 256 + q_rows) * (1024 - 256) * 1.21e-12 * 8
    assert out[O_E_OFFCHIP] == pytest.approx(out[O_BYTES_OFFCHIP] * p[P["e_dram_byte"]] + extra)
    assert out[O_TIME] >= out[O_BYTES_OFFCHIP] / 13.4e12


def test_the_banks_serve_whole_rows_at_the_rank_switch_and_refresh_loss():
    from hw_models.logic_pim_dram import bank_bandwidth

    p = _params()
    # 160 pseudo-channels x 1 KB per (12.23 + 1 ns) row x (1 - 450 / 3900) = 10.95 TB/s, what a shared stack serves
    expected = PCS * 1024 / (1024 / PC_BW + 1e-9) * AVAIL
    assert bank_bandwidth(p) == pytest.approx(expected) == pytest.approx(10.95e12, rel=1e-3)
    assert p[P["dram_bw"]] == bank_bandwidth(p)
