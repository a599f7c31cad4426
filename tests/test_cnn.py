"""CNN zoo: derived MACs (conv + fc, Op.macs) and parameters (torchvision convention, BN = 2×C) vs published totals."""

from __future__ import annotations

import pytest

from sim_checks import assert_simulates
from workloads import WorkloadParamError, load_workload
from workloads.cnn import catalog


def macs(wl) -> float:
    return sum(op.macs * op.count for op in wl.ops)


# Exact torchvision parameter counts must match exactly; MACs within 1 % of the weights cards' rounded GFLOPS
# (torchvision "GFLOPS" are multiply-accumulates of conv+fc at 224², two significant digits).
@pytest.mark.parametrize("name, params, gmacs", [
    ("resnet-18", 11_689_512, 1.81), ("resnet-50", 25_557_032, 4.09), ("mobilenet-v2", 3_504_872, 0.30),
    ("vgg-16", 138_357_544, 15.47)])
def test_torchvision_totals(name, params, gmacs):
    wl = load_workload(name)
    assert wl.parameters == params
    assert macs(wl) / 1e9 == pytest.approx(gmacs, rel=0.01)


def test_paper_rounded_totals():
    # Papers state rounded figures: ResNet-50 ~4.1 G MACs / 25.6 M, VGG-16 15.5 G / 138.4 M, MobileNetV2 300 M / 3.5 M.
    assert macs(load_workload("resnet-50")) == pytest.approx(4.1e9, rel=0.01)
    assert load_workload("vgg-16").parameters == pytest.approx(138.4e6, rel=0.001)
    assert macs(load_workload("vgg-16")) == pytest.approx(15.5e9, rel=0.005)
    assert macs(load_workload("mobilenet-v2")) == pytest.approx(300e6, rel=0.01)


def test_vit_b16_macs():
    # ViT-B/16 at 224²: ~17.6 G MACs (linears + attention + patch embedding + head); within 1 %.
    assert macs(load_workload("vit-b-16")) == pytest.approx(17.6e9, rel=0.01)


@pytest.mark.parametrize("name", ["ds-cnn-s", "ds-cnn-m", "ds-cnn-l"])
def test_ds_cnn_ops_match_hello_edge(name):
    # Hello Edge counts operations as 2 × multiply-accumulates; within 2 % (their count includes bias/BN/pool ops).
    entry = catalog()[name]
    assert 2 * macs(entry.builder()) == pytest.approx(entry.published["ops"], rel=0.02)


def test_ds_cnn_parameters_below_table_memory():
    # The table's memory (KB at 8-bit) holds weights plus activation buffers, so weights alone must fit under it.
    for name in ("ds-cnn-s", "ds-cnn-m", "ds-cnn-l"):
        entry = catalog()[name]
        assert 0.5 * entry.published["memory_kb"] * 1e3 < entry.builder().parameters < entry.published["memory_kb"] * 1e3


def test_depthwise_uses_groups():
    wl = load_workload("mobilenet-v2")
    dw = [op for op in wl.ops if op.name.endswith(".dw")]
    assert dw and all(op.dims["groups"] == op.dims["in_ch"] == op.dims["out_ch"] for op in dw)


def test_batch_and_resolution_scale_work():
    base = macs(load_workload("resnet-50"))
    assert macs(load_workload("resnet-50", batch=4)) == pytest.approx(4 * base)
    assert load_workload("resnet-50", image_size=448).parameters == 25_557_032
    assert macs(load_workload("resnet-50", image_size=448)) == pytest.approx(4 * base, rel=0.02)


@pytest.mark.parametrize("bad", [{"batch": 0}, {"dtype": "fp7"}, {"image_size": 8}])
def test_bad_parameters(bad):
    with pytest.raises(WorkloadParamError, match=next(iter(bad))):
        load_workload("resnet-18", **bad)


@pytest.mark.parametrize("name", sorted(catalog()))
def test_simulates_on_h100(name):
    assert_simulates(load_workload(name))
