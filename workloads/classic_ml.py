"""Classic (non-neural) ML kernels for microcontroller-class cores, as scalar ``kernel`` ops.

Each algorithm is one small function that counts, from first principles, the scalar operations of a plain C
implementation: arithmetic by class (``fp_add`` covers subtractions too; a negation is free), element ``loads`` of
model and input data in the inner loops (a loop-invariant scalar such as the query element in a register is loaded
once), and element ``stores``. Counts are per inference query (or per k-means iteration) and scale linearly in
``batch`` (queries per run, or k-means data windows; named like every family's batch so sweeps share the axis).

Parallel vs serial work. One query's work splits into *independent units* — trees, support vectors, training
samples, classes / score vectors, data points — which cores process in parallel. Plain sums over units (a dot
product, the weighted sum over support vectors, per-cluster sums) are split into per-core partial sums: their merge
(cores − 1 adds) depends on the core count and is left to the device model. *Selection and combination* steps —
argmax over classes, the majority vote over trees or neighbours, the top-k selection over distances, the centroid
division of k-means — run on one core; their arithmetic is ``reduction_steps`` and their share of the work (arithmetic
+ loads + stores) makes ``1 - parallel_fraction``. Tag ``parallel_units`` is the number of independent units the
parallel work splits into (a core takes whole units): queries for a tree, trees × queries for a forest, the terms of
the score sums (scores × features) for linear models and naive Bayes (the logistic sigmoids, one per score, are
counted with them), support vectors, training samples or data points.

Loops: ``loop_iterations`` counts the iterations of every loop of the plain C implementation (each costs loop
control on a core without hardware loops); an iteration's loads run back to back.

Fixed point (``dtype="int8"``): every ``fp_*`` count becomes the ``int_*`` count of the same class; ``exp`` becomes a
table lookup with linear interpolation (clamp compare, index, two table loads, one multiply, two adds).

Default sizes are illustrative microcontroller-scale settings (a few dozen features, a few classes, a few hundred
training samples), chosen to fit a PULP cluster's 64 kB L1; the 'DNN is not all you need' study (Tabanelli et al.,
ACM TECS 22(3), 2023, doi:10.1145/3571133) runs these algorithms on GAP8 / PULP-OPEN / Cortex-M4, but its datasets
were not available to us, so no default claims to be its setup.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from workloads.dtypes import dtype_bits
from workloads.ir import KERNEL_COUNTS, Op, Workload
from workloads.registry import WorkloadEntry
from workloads.transformer import WorkloadParamError

DTYPES = ("fp32", "fp16", "int8")  # floating point, or fixed point (int8 selects integer arithmetic)
_FP_TO_INT = {"fp_add": "int_add", "fp_mul": "int_mul", "fp_div": "int_div", "fp_cmp": "int_cmp"}
# exp(x) in fixed point: clamp, table index, two table entries, linear interpolation y0 + (y1 - y0) * frac.
_FIXED_EXP = {"int_cmp": 1, "int_add": 2, "int_mul": 1, "loads": 2}
# sqrt(x) in fixed point: 16 iterations of the digit-by-digit method (compare, two adds/shifts each).
_FIXED_SQRT = {"int_cmp": 16, "int_add": 32}
_SOURCES = ("Counts derived in workloads/classic_ml.py from the textbook algorithms (see each function's docstring)",
            "Tabanelli, Tagliavini, Benini, 'DNN is not all you need', ACM TECS 22(3) 2023, doi:10.1145/3571133 "
            "(algorithm set and target cores; default sizes are illustrative, not the paper's datasets)")


# ---------------------------------------------------------------- helpers

def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkloadParamError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_dtype(dtype) -> str:
    if dtype not in DTYPES:
        raise WorkloadParamError(f"dtype {dtype!r} is not supported by classic ML kernels; allowed: "
                                 f"{', '.join(DTYPES)}")
    return dtype


def _scale(counts: Counter, factor: int) -> Counter:
    return Counter({k: v * factor for k, v in counts.items()})


def to_fixed_point(counts: Counter) -> Counter:
    """Floating-point counts → integer counts: same class for add/mul/div/cmp, a table lookup for exp and a
    digit-by-digit routine for sqrt."""
    out = Counter()
    for key, value in counts.items():
        if key in _FP_TO_INT:
            out[_FP_TO_INT[key]] += value
        elif key == "fp_exp":
            for k, v in _FIXED_EXP.items():
                out[k] += v * value
        elif key == "fp_sqrt":
            for k, v in _FIXED_SQRT.items():
                out[k] += v * value
        else:
            out[key] += value
    return out


def _work(counts: Counter) -> int:
    """Instructions, roughly: arithmetic plus element loads and stores."""
    return sum(counts[k] for k in KERNEL_COUNTS) + counts["loads"] + counts["stores"]


def kernel_op(name: str, parallel: Counter, serial: Counter, dtype: str, params: int, count: int = 1,
              units: int = 0, **tags) -> Op:
    """One ``kernel`` op from its parallel and serial (reduction) counts; ``params`` = model elements it reads,
    ``units`` = the equal independent units the parallel counts split into (a core takes whole units; 0: finely
    divisible)."""
    if dtype.startswith("int"):
        parallel, serial = to_fixed_point(parallel), to_fixed_point(serial)
    total = parallel + serial
    work = _work(total)
    serial_arith = sum(serial[k] for k in KERNEL_COUNTS)
    dims = {k: int(total[k]) for k in (*KERNEL_COUNTS, "loads", "stores", "loop_iterations") if total[k]}
    dims["reduction_steps"] = int(serial_arith)
    dims["params"] = int(params)
    fraction = 1.0 - _work(serial) / work if work else 1.0
    bits = dtype_bits(dtype)
    return Op(name, "kernel", dims, act_bits=bits, weight_bits=bits, out_bits=bits, count=count, dtype=dtype,
              tags={"parallel_fraction": round(fraction, 12), "parallel_units": int(units), **tags})


def _argmax(n: int) -> Counter:
    """Select the largest of ``n`` values: n loads, n - 1 compares, n loop iterations."""
    return Counter(fp_cmp=n - 1, loads=n, loop_iterations=n)


def _decision(scores: int) -> Counter:
    """Class decision from ``scores`` score values: a sign test for one score, else argmax; one label store."""
    return Counter(fp_cmp=1, stores=1) if scores == 1 else _argmax(scores) + Counter(stores=1)


def _scores(classes: int) -> int:
    """Score vectors of a linear model: one for two classes, one per class (one-vs-rest) otherwise."""
    return 1 if classes == 2 else classes


def _tree_walk(depth: int) -> Counter:
    """One root-to-leaf walk of a complete binary tree stored as an array: per level load the node's feature index,
    its threshold and that feature of the query (3 loads), compare, and step to child 2i + 1 + right (2 int adds);
    then load the leaf's label; one loop iteration per level."""
    return Counter(loads=3 * depth + 1, fp_cmp=depth, int_add=2 * depth, loop_iterations=depth)


def _tree_params(depth: int) -> int:
    """Elements of a complete tree: 2^D - 1 internal nodes (feature index, threshold) and 2^D leaf labels."""
    return 2 * (2 ** depth - 1) + 2 ** depth


# ---------------------------------------------------------------- algorithms (per query)

def decision_tree_counts(depth: int) -> tuple[Counter, Counter]:
    """Decision tree, per query: loads = 3D + 1, fp_cmp = D, int_add = 2D, stores = 1, D + 1 loop iterations (levels
    and the query loop). All parallel (queries are independent; there is nothing to combine)."""
    return _tree_walk(depth) + Counter(stores=1, loop_iterations=1), Counter()


def random_forest_counts(trees: int, depth: int, classes: int) -> tuple[Counter, Counter]:
    """Random forest, per query. Parallel: T tree walks (loads 3D + 1, fp_cmp D, int_add 2D, D + 1 loop iterations
    each with the tree loop). Serial majority vote: clear C counters (C stores), T increments (T loads, T int_add,
    T stores), argmax over the C counters (C loads, C - 1 int_cmp), one label store; 2C + T loop iterations."""
    parallel = _scale(_tree_walk(depth) + Counter(loop_iterations=1), trees)
    serial = Counter(stores=classes + trees + 1, loads=trees + classes, int_add=trees, int_cmp=classes - 1,
                     loop_iterations=2 * classes + trees)
    return parallel, serial


def linear_counts(features: int, classes: int, sigmoid: bool = False) -> tuple[Counter, Counter]:
    """Linear SVM / logistic regression, per query, with S = 1 score for two classes else C (one-vs-rest).
    Parallel per score: bias load, F weight loads, F feature loads, F fp_mul, F fp_add; with the logistic
    sigmoid 1 / (1 + exp(-z)) add fp_exp, fp_add, fp_div per score; F + 1 loop iterations per score (features and
    the score loop). Serial: sign test (1 fp_cmp) for S = 1, else argmax (S loads, S - 1 fp_cmp, S loop
    iterations); one label store."""
    s = _scores(classes)
    per_score = Counter(loads=2 * features + 1, fp_mul=features, fp_add=features, loop_iterations=features + 1)
    if sigmoid:
        per_score += Counter(fp_exp=1, fp_add=1, fp_div=1)
    return _scale(per_score, s), _decision(s)


def svm_rbf_counts(features: int, support_vectors: int, classes: int) -> tuple[Counter, Counter]:
    """RBF-kernel SVM, per query, with S scores as for the linear SVM. Parallel per support vector: the squared
    distance (2F loads, F fp_add for the differences, F fp_mul, F fp_add to accumulate), the kernel
    exp(-gamma·d²) (1 fp_mul, 1 fp_exp), and for each score a weighted accumulate (1 coefficient load, 1 fp_mul,
    1 fp_add); plus S bias loads; F + S + 1 loop iterations per support vector (features, scores and the support
    vector loop). Serial: the class decision as for the linear SVM."""
    s = _scores(classes)
    per_sv = Counter(loads=2 * features + s, fp_add=2 * features + s, fp_mul=features + 1 + s, fp_exp=1,
                     loop_iterations=features + s + 1)
    return _scale(per_sv, support_vectors) + Counter(loads=s), _decision(s)


def knn_counts(features: int, train_samples: int, k: int, classes: int) -> tuple[Counter, Counter]:
    """k-nearest neighbours, per query, over N training samples. Parallel: N squared distances (2F loads, 2F fp_add,
    F fp_mul each) stored to a distance array (N stores), N (F + 1) loop iterations. Serial: partial selection sort
    of the k smallest — k passes, kN - k(k+1)/2 distance loads and fp_cmp, k swaps (4k loads/stores) — then the
    vote: clear C counters, k label loads and counter increments (2k loads, k int_add, k stores), argmax over C
    counters (C loads, C - 1 int_cmp), one label store; scan + 2k + 2C loop iterations."""
    n = train_samples
    parallel = Counter(loads=2 * features * n, fp_add=2 * features * n, fp_mul=features * n, stores=n,
                       loop_iterations=n * (features + 1))
    scan = k * n - k * (k + 1) // 2
    serial = Counter(loads=scan + 2 * k + 2 * k + classes, fp_cmp=scan, stores=2 * k + classes + k + 1,
                     int_add=k, int_cmp=classes - 1, loop_iterations=scan + 2 * k + 2 * classes)
    return parallel, serial


def naive_bayes_counts(features: int, classes: int) -> tuple[Counter, Counter]:
    """Gaussian naive Bayes, per query: for each class the prior times the product over features of
    norm · exp(-(x - mu)² / (2 var)), with norm = 1/sqrt(2 pi var) precomputed. Parallel per class: 1 prior load and
    per feature 4 loads (x, mu, 2 var, norm), 1 fp_add (x - mu), 3 fp_mul (square, norm · e, product), 1 fp_div,
    1 fp_exp; F + 1 loop iterations. Serial: argmax over the C likelihoods (C loads, C - 1 fp_cmp, C loop
    iterations) and one label store."""
    per_class = Counter(loads=4 * features + 1, fp_add=features, fp_mul=3 * features, fp_div=features,
                        fp_exp=features, loop_iterations=features + 1)
    return _scale(per_class, classes), _decision(classes)


def kmeans_assign_counts(samples: int, features: int, clusters: int) -> tuple[Counter, Counter]:
    """k-means assignment step over P points and K centroids. Parallel per point: K squared distances
    (2F loads, 2F fp_add, F fp_mul each), argmin over them (K - 1 fp_cmp), one label store; KF + K + 1 loop
    iterations (features, centroids, the point loop). No serial part."""
    per_point = Counter(loads=2 * features * clusters, fp_add=2 * features * clusters, fp_mul=features * clusters,
                        fp_cmp=clusters - 1, stores=1, loop_iterations=clusters * features + clusters + 1)
    return _scale(per_point, samples), Counter()


def kmeans_update_counts(samples: int, features: int, clusters: int) -> tuple[Counter, Counter]:
    """k-means update step. Parallel per point: load its label, add it into its cluster's sum (2F loads, F fp_add,
    F stores) and bump the cluster's size (1 load, 1 int_add, 1 store); F + 1 loop iterations. Serial centroid
    reduction: clear the K·F sums and K sizes before (K·F + K stores), then K·F divisions (K·F + K loads, K·F fp_div,
    K·F stores); 2(K·F + K) loop iterations."""
    per_point = Counter(loads=2 * features + 2, fp_add=features, int_add=1, stores=features + 1,
                        loop_iterations=features + 1)
    kf = clusters * features
    serial = Counter(stores=2 * kf + clusters, loads=kf + clusters, fp_div=kf, loop_iterations=2 * (kf + clusters))
    return _scale(per_point, samples), serial


# ---------------------------------------------------------------- builders

def _inference(algorithm: str, counts: tuple[Counter, Counter], batch: int, features: int, dtype: str,
               params: int, units: int, build_params: dict) -> Workload:
    """One inference op over ``batch`` queries; ``units`` = independent parallel units of one query."""
    parallel, serial = counts
    bits = dtype_bits(dtype)
    wl = Workload(algorithm, items=float(batch), item_unit="query", params=build_params)
    wl.add(kernel_op(f"{algorithm}.inference", _scale(parallel, batch), _scale(serial, batch), dtype, params,
                     units=units * batch, algorithm=algorithm, phase="inference"))
    wl.memory_bytes = {"weights": params * bits / 8.0, "kv_cache": 0.0,
                       "activations": batch * (features + 1) * bits / 8.0}
    return wl


def _common(batch: int, features: int, classes: int, dtype: str) -> None:
    _check_int("batch", batch)
    _check_int("features", features)
    _check_int("classes", classes, 2)
    _check_dtype(dtype)


def build_decision_tree(batch: int = 1, features: int = 16, classes: int = 4, depth: int = 8,
                        dtype: str = "fp32") -> Workload:
    """Decision-tree inference over ``batch`` queries (a complete tree of ``depth`` levels)."""
    _common(batch, features, classes, dtype)
    _check_int("depth", depth)
    return _inference("decision-tree", decision_tree_counts(depth), batch, features, dtype, _tree_params(depth), 1,
                      dict(batch=batch, features=features, classes=classes, depth=depth, dtype=dtype))


def build_random_forest(batch: int = 1, features: int = 16, classes: int = 4, trees: int = 10, depth: int = 8,
                        dtype: str = "fp32") -> Workload:
    """Random-forest inference: ``trees`` trees of ``depth`` levels and a majority vote."""
    _common(batch, features, classes, dtype)
    _check_int("trees", trees)
    _check_int("depth", depth)
    return _inference("random-forest", random_forest_counts(trees, depth, classes), batch, features, dtype,
                      trees * _tree_params(depth), trees,
                      dict(batch=batch, features=features, classes=classes, trees=trees, depth=depth,
                           dtype=dtype))


def build_svm_linear(batch: int = 1, features: int = 16, classes: int = 4, dtype: str = "fp32") -> Workload:
    """Linear SVM inference (one-vs-rest for more than two classes)."""
    _common(batch, features, classes, dtype)
    return _inference("svm-linear", linear_counts(features, classes), batch, features, dtype,
                      _scores(classes) * (features + 1), _scores(classes) * features,
                      dict(batch=batch, features=features, classes=classes, dtype=dtype))


def build_svm_rbf(batch: int = 1, features: int = 16, classes: int = 4, support_vectors: int = 64,
                  dtype: str = "fp32") -> Workload:
    """RBF-kernel SVM inference with ``support_vectors`` support vectors shared by the one-vs-rest scores."""
    _common(batch, features, classes, dtype)
    _check_int("support_vectors", support_vectors)
    s = _scores(classes)
    params = support_vectors * features + s * support_vectors + s + 1  # vectors, dual coefficients, biases, gamma
    return _inference("svm-rbf", svm_rbf_counts(features, support_vectors, classes), batch, features, dtype,
                      params, support_vectors, dict(batch=batch, features=features, classes=classes,
                                                    support_vectors=support_vectors, dtype=dtype))


def build_knn(batch: int = 1, features: int = 16, classes: int = 4, train_samples: int = 256, k: int = 5,
              dtype: str = "fp32") -> Workload:
    """k-NN classification of ``batch`` queries against ``train_samples`` stored samples."""
    _common(batch, features, classes, dtype)
    _check_int("train_samples", train_samples)
    _check_int("k", k)
    if k > train_samples:
        raise WorkloadParamError(f"k={k} must not exceed train_samples={train_samples}")
    return _inference("knn", knn_counts(features, train_samples, k, classes), batch, features, dtype,
                      train_samples * (features + 1), train_samples,
                      dict(batch=batch, features=features, classes=classes, train_samples=train_samples, k=k,
                           dtype=dtype))


def build_naive_bayes(batch: int = 1, features: int = 16, classes: int = 4, dtype: str = "fp32") -> Workload:
    """Gaussian naive Bayes inference."""
    _common(batch, features, classes, dtype)
    return _inference("naive-bayes", naive_bayes_counts(features, classes), batch, features, dtype,
                      classes * (3 * features + 1), classes * features,
                      dict(batch=batch, features=features, classes=classes, dtype=dtype))


def build_logistic_regression(batch: int = 1, features: int = 16, classes: int = 4,
                              dtype: str = "fp32") -> Workload:
    """Logistic-regression inference (one-vs-rest sigmoids for more than two classes)."""
    _common(batch, features, classes, dtype)
    return _inference("logistic-regression", linear_counts(features, classes, sigmoid=True), batch, features,
                      dtype, _scores(classes) * (features + 1), _scores(classes) * features,
                      dict(batch=batch, features=features, classes=classes, dtype=dtype))


def build_kmeans(batch: int = 1, samples: int = 256, features: int = 16, clusters: int = 4, iterations: int = 10,
                 dtype: str = "fp32") -> Workload:
    """k-means clustering (training) of ``batch`` independent data windows of ``samples`` points each:
    ``iterations`` rounds of assignment and update per window."""
    _check_int("batch", batch)
    _check_int("samples", samples)
    _check_int("features", features)
    _check_int("clusters", clusters)
    _check_int("iterations", iterations)
    _check_dtype(dtype)
    if clusters > samples:
        raise WorkloadParamError(f"clusters={clusters} must not exceed samples={samples}")
    bits = dtype_bits(dtype)
    centroids = clusters * features
    wl = Workload("kmeans", items=float(batch), item_unit="window",
                  params=dict(batch=batch, samples=samples, features=features, clusters=clusters,
                              iterations=iterations, dtype=dtype))
    rounds = batch * iterations
    wl.add(kernel_op("kmeans.assign", *kmeans_assign_counts(samples, features, clusters), dtype, centroids,
                     count=rounds, units=samples, algorithm="kmeans", phase="assign", weight_copies=batch))
    wl.add(kernel_op("kmeans.update", *kmeans_update_counts(samples, features, clusters), dtype, 0,
                     count=rounds, units=samples, algorithm="kmeans", phase="update"))
    wl.memory_bytes = {"weights": centroids * bits / 8.0, "kv_cache": 0.0,
                       "activations": (samples * (features + 1) + centroids + clusters) * bits / 8.0}
    return wl


_ENTRIES: dict[str, tuple[Callable[..., Workload], str]] = {
    "decision-tree": (build_decision_tree, "decision-tree inference (complete tree, array layout)"),
    "random-forest": (build_random_forest, "random-forest inference with majority vote"),
    "svm-linear": (build_svm_linear, "linear SVM inference (one-vs-rest)"),
    "svm-rbf": (build_svm_rbf, "RBF-kernel SVM inference"),
    "knn": (build_knn, "k-nearest-neighbour classification (partial selection sort, vote)"),
    "kmeans": (build_kmeans, "k-means clustering: assignment and centroid update iterations"),
    "naive-bayes": (build_naive_bayes, "Gaussian naive Bayes inference"),
    "logistic-regression": (build_logistic_regression, "logistic-regression inference (sigmoid scores)"),
}


def catalog() -> dict[str, WorkloadEntry]:
    return {name: WorkloadEntry(name=name, family="classic-ml", builder=builder, description=text,
                                sources=_SOURCES)
            for name, (builder, text) in _ENTRIES.items()}
