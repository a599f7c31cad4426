"""Classic ML kernels: counts against hand-computed formulas, linear scaling, fixed point, parallel fractions, GPU run."""

from __future__ import annotations

import pytest

from sim_checks import assert_simulates
from workloads import WorkloadParamError, load_workload
from workloads.classic_ml import catalog
from workloads.ir import KERNEL_COUNTS

NAMES = ["decision-tree", "random-forest", "svm-linear", "svm-rbf", "knn", "kmeans", "naive-bayes",
         "logistic-regression"]
FP = [c for c in KERNEL_COUNTS if c.startswith("fp_")]


def counts(wl) -> dict[str, int]:
    """Summed dims of every kernel op times its count (arithmetic, loads, stores, reduction steps)."""
    out: dict[str, int] = {}
    for op in wl.ops:
        assert op.kind == "kernel"
        for key, value in op.dims.items():
            if key != "params":
                out[key] = out.get(key, 0) + value * op.count
    return {k: v for k, v in out.items() if v}


def test_catalog_names():
    assert sorted(catalog()) == sorted(NAMES)


# ---------------------------------------------------------------- hand-computed counts (small sizes)

def test_decision_tree_counts():
    # depth 3, 2 queries: per query 3 levels × (3 loads, 1 cmp, 2 int adds) + leaf load + label store
    c = counts(load_workload("decision-tree", batch=2, depth=3, features=5))
    assert c == {"fp_cmp": 6, "int_add": 12, "loads": 20, "stores": 2, "loop_iterations": 2 * (3 + 1)}
    assert load_workload("decision-tree", depth=3).parameters == 2 * 7 + 8


def test_random_forest_counts():
    # 3 trees of depth 2, 4 classes, 1 query: walks 3 × (7 loads, 2 cmp, 4 adds); vote: clear 4 counters,
    # 3 increments (3 loads, 3 adds, 3 stores), argmax (4 loads, 3 int cmp), label store; loops: 3 × (2 levels + the
    # tree loop), then clear 4, increment 3, argmax 4
    c = counts(load_workload("random-forest", trees=3, depth=2, classes=4))
    assert c == {"loads": 21 + 3 + 4, "fp_cmp": 6, "int_add": 12 + 3, "int_cmp": 3, "stores": 4 + 3 + 1,
                 "reduction_steps": 3 + 3, "loop_iterations": 3 * 3 + 4 + 3 + 4}


def test_svm_linear_counts_binary_and_multiclass():
    # binary: one score: 2F + 1 loads, F mul, F add; sign test; store
    assert counts(load_workload("svm-linear", features=5, classes=2)) == {
        "loads": 11, "fp_mul": 5, "fp_add": 5, "fp_cmp": 1, "stores": 1, "reduction_steps": 1, "loop_iterations": 6}
    # 3 classes one-vs-rest: 3 scores, then argmax (3 loads, 2 compares)
    assert counts(load_workload("svm-linear", features=5, classes=3)) == {
        "loads": 33 + 3, "fp_mul": 15, "fp_add": 15, "fp_cmp": 2, "stores": 1, "reduction_steps": 2,
        "loop_iterations": 3 * 6 + 3}
    assert load_workload("svm-linear", features=5, classes=3).parameters == 3 * 6


def test_logistic_regression_adds_sigmoid():
    c = counts(load_workload("logistic-regression", features=4, classes=2))
    assert c == {"loads": 9, "fp_mul": 4, "fp_add": 4 + 1, "fp_exp": 1, "fp_div": 1, "fp_cmp": 1, "stores": 1,
                 "reduction_steps": 1, "loop_iterations": 5}


def test_svm_rbf_counts():
    # F=3, V=2 support vectors, binary (1 score): per SV 6 loads + 1 coefficient, 6 + 1 adds, 3 + 1 + 1 muls, 1 exp
    c = counts(load_workload("svm-rbf", features=3, support_vectors=2, classes=2))
    assert c == {"loads": 2 * 7 + 1, "fp_add": 2 * 7, "fp_mul": 2 * 5, "fp_exp": 2, "fp_cmp": 1, "stores": 1,
                 "reduction_steps": 1, "loop_iterations": 2 * (3 + 1 + 1)}
    assert load_workload("svm-rbf", features=3, support_vectors=2, classes=2).parameters == 6 + 2 + 1 + 1


def test_knn_counts():
    # F=2, N=5, k=2, C=3: distances 5 × (4 loads, 4 adds, 2 muls) + 5 stores; selection 2·5 - 3 = 7 compares
    c = counts(load_workload("knn", features=2, train_samples=5, k=2, classes=3))
    assert c == {"loads": 20 + 7 + 4 + 4 + 3, "fp_add": 20, "fp_mul": 10, "fp_cmp": 7, "int_add": 2, "int_cmp": 2,
                 "stores": 5 + 4 + 3 + 2 + 1, "reduction_steps": 7 + 2 + 2,
                 "loop_iterations": 5 * 3 + 7 + 2 * 2 + 2 * 3}


def test_naive_bayes_counts():
    # C=2, F=3: per class 13 loads, 3 adds, 9 muls, 3 divs, 3 exps; argmax over 2 (2 loads, 1 cmp) + store
    c = counts(load_workload("naive-bayes", features=3, classes=2))
    assert c == {"loads": 26 + 2, "fp_add": 6, "fp_mul": 18, "fp_div": 6, "fp_exp": 6, "fp_cmp": 1, "stores": 1,
                 "reduction_steps": 1, "loop_iterations": 2 * 4 + 2}


def test_kmeans_counts_per_iteration():
    # P=4 points, F=2, K=2, I=3 iterations
    wl = load_workload("kmeans", samples=4, features=2, clusters=2, iterations=3)
    assign, update = wl.ops
    assert assign.count == update.count == 3
    assert {k: v for k, v in assign.dims.items() if v} == {
        "loads": 4 * 8, "fp_add": 4 * 8, "fp_mul": 4 * 4, "fp_cmp": 4, "stores": 4, "params": 4,
        "loop_iterations": 4 * (4 + 2 + 1)}
    # update: per point 6 loads, 2 adds, 1 int add, 3 stores; centroids: 2·4 + 2 stores, 4 + 2 loads, 4 divs
    assert {k: v for k, v in update.dims.items() if v} == {
        "loads": 24 + 6, "fp_add": 8, "int_add": 4, "stores": 12 + 10, "fp_div": 4, "reduction_steps": 4,
        "loop_iterations": 4 * 3 + 2 * (4 + 2)}


# ---------------------------------------------------------------- properties

@pytest.mark.parametrize("name", NAMES)
def test_counts_scale_linearly_in_batch(name):
    # batch = inference queries (k-means: independent data windows)
    one, many = counts(load_workload(name, batch=1)), counts(load_workload(name, batch=3))
    assert many == {k: 3 * v for k, v in one.items()}
    assert load_workload(name, batch=3).items == 3


def test_kmeans_per_point_work_scales_with_points():
    one = counts(load_workload("kmeans", samples=7))
    many = counts(load_workload("kmeans", samples=21))
    for key in ("fp_add", "fp_mul", "fp_cmp", "int_add"):  # the centroid division does not grow with the points
        assert many[key] == 3 * one[key]
    assert many["fp_div"] == one["fp_div"]


@pytest.mark.parametrize("name", NAMES)
def test_fixed_point_has_no_fp_ops(name):
    wl = load_workload(name, dtype="int8")
    c = counts(wl)
    assert not any(c.get(k) for k in FP), c
    assert any(c.get(k) for k in ("int_add", "int_mul", "int_cmp"))
    ref = counts(load_workload(name))
    # the same arithmetic: multiplies map one to one (plus one per exp table interpolation)
    assert c.get("int_mul", 0) == ref.get("fp_mul", 0) + ref.get("fp_exp", 0)
    assert all(op.dtype == "int8" and op.act_bits == 8 for op in wl.ops)


@pytest.mark.parametrize("name", NAMES)
def test_parallel_fraction_in_unit_interval(name):
    for op in load_workload(name).ops:
        assert 0.0 <= op.tags["parallel_fraction"] <= 1.0


def test_parallel_fraction_lower_when_reductions_dominate():
    # k-NN: few features make the distance work small against the top-k selection
    small_f = load_workload("knn", features=1, k=20).ops[0].tags["parallel_fraction"]
    large_f = load_workload("knn", features=64, k=1).ops[0].tags["parallel_fraction"]
    assert small_f < 0.5 < large_f
    # random forest: many classes and shallow trees make the vote dominate
    assert (load_workload("random-forest", trees=2, depth=1, classes=64).ops[0].tags["parallel_fraction"]
            < load_workload("random-forest", trees=16, depth=10, classes=2).ops[0].tags["parallel_fraction"])
    assert load_workload("decision-tree").ops[0].tags["parallel_fraction"] == 1.0


@pytest.mark.parametrize("bad", [dict(batch=0), dict(depth=-1), dict(classes=1), dict(dtype="fp8"),
                                 dict(dtype="int16"), dict(features=2.5)])
def test_bad_parameters_name_parameter(bad):
    with pytest.raises(WorkloadParamError) as err:
        load_workload("random-forest", **bad)
    assert list(bad)[0] in str(err.value)


def test_knn_k_larger_than_training_set_rejected():
    with pytest.raises(WorkloadParamError, match="k=9"):
        load_workload("knn", train_samples=8, k=9)


@pytest.mark.parametrize("name", NAMES)
def test_simulates_on_h100(name):
    assert_simulates(load_workload(name))


@pytest.mark.parametrize("name, params, units", [
    ("decision-tree", dict(batch=3), 3),  # one walk per query
    ("random-forest", dict(batch=2, trees=10), 20),  # trees x queries
    ("svm-linear", dict(features=5, classes=3), 15),  # score-sum terms: 3 scores x 5 features
    ("logistic-regression", dict(features=5, classes=2), 5),  # one score of 5 terms
    ("svm-rbf", dict(support_vectors=40), 40),
    ("knn", dict(train_samples=100, k=3), 100),
    ("naive-bayes", dict(features=6, classes=4), 24),
    ("kmeans", dict(samples=50, clusters=4), 50),  # points, per assignment and per update
])
def test_parallel_units_by_hand(name, params, units):
    assert {op.tags["parallel_units"] for op in load_workload(name, **params).ops} == {units}
