"""Request generation: arrival processes, length distributions, dataset profiles, trace replay and bad input.

Statistical checks draw enough samples that a correct generator misses its target by more than the stated number
of standard errors with negligible probability; the seeds are fixed, so every run checks the same draws.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cosim.errors import CosimInputError
from cosim.serving.arrivals import gaps, read_trace, synthetic_arrivals
from cosim.serving.datasets import capped_marginals, names, profile, sigma_from_p90
from cosim.serving.lengths import draw_lengths, read_samples, zipf_pmf
from cosim.serving.spec import Arrivals, Lengths, Traffic
from cosim.serving.traffic import generate_requests

Z = 5.0  # tolerance in standard errors for every sampling check
FIXED = {"prompt": Lengths(value=128), "output": Lengths(value=32)}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def as_tuples(requests):
    return [(r.id, r.arrival_s, r.prompt_tokens, r.output_tokens) for r in requests]


# --- determinism ----------------------------------------------------------------------------------------------------

def test_same_config_same_requests_bit_for_bit():
    traffic = Traffic(dataset="sharegpt", requests=2000, arrivals=Arrivals(process="gamma", rate_per_s=3.0, cv=2.0),
                      seed=7)
    first, second = generate_requests(traffic), generate_requests(traffic)
    assert as_tuples(first) == as_tuples(second)
    assert [r.id for r in first] == list(range(2000))
    assert as_tuples(first) != as_tuples(generate_requests(traffic.model_copy(update={"seed": 8})))


def test_rate_moves_arrivals_but_not_lengths():
    traffic = Traffic(dataset="lmsys-chat", requests=500, arrivals=Arrivals(rate_per_s=1.0))
    slow, fast = generate_requests(traffic), generate_requests(traffic, rate_per_s=4.0)
    assert [(r.prompt_tokens, r.output_tokens) for r in slow] == [(r.prompt_tokens, r.output_tokens) for r in fast]
    # same random stream, a quarter of the gaps: arrival times scale exactly with 1/rate (up to rounding)
    np.testing.assert_allclose([r.arrival_s for r in fast], [r.arrival_s / 4 for r in slow], rtol=1e-12)


# --- arrival processes ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("process,cv", [("poisson", 1.0), ("gamma", 1.0), ("gamma", 0.5), ("gamma", 3.0)])
def test_gap_mean_and_cv_within_sampling_error(process, cv):
    n, rate = 200_000, 4.0
    g = gaps(process, rate, cv, rng(1), n)
    shape = 1 / cv**2
    # SE of the mean: sd / sqrt(n); SE of the sample cv (delta method, gamma excess kurtosis 6/shape):
    # cv * sqrt((2 + 6/shape) / n) / 2. At n = 200,000 and cv = 3 that is 1.7% of cv, so Z SE is 8%.
    se_mean = (cv / rate) / math.sqrt(n)
    se_cv = cv * math.sqrt((2 + 6 / shape) / n) / 2
    assert abs(g.mean() - 1 / rate) < Z * se_mean
    assert abs(g.std() / g.mean() - cv) < Z * se_cv


def test_fixed_arrivals_are_exact():
    times = synthetic_arrivals("fixed", 8.0, 1.0, rng(), count=1000)
    assert times.tolist() == [k / 8.0 for k in range(1, 1001)]
    in_window = synthetic_arrivals("fixed", 8.0, 1.0, rng(), duration_s=10.0)
    assert in_window.tolist() == [k / 8.0 for k in range(1, 80)]  # 80/8 = 10 s is not before 10 s


def test_duration_counts_poisson_arrivals_within_sampling_error():
    rate, duration = 50.0, 400.0
    times = synthetic_arrivals("poisson", rate, 1.0, rng(2), duration_s=duration)
    assert times.max() < duration and np.all(np.diff(times) >= 0)
    assert abs(times.size - rate * duration) < Z * math.sqrt(rate * duration)  # Poisson count: sd sqrt(mean)
    capped = generate_requests(Traffic(requests=100, duration_s=duration, arrivals=Arrivals(rate_per_s=rate), **FIXED))
    assert len(capped) == 100  # an explicit count caps the requests arriving in the window


# --- length distributions -------------------------------------------------------------------------------------------

def test_fixed_and_uniform_lengths():
    assert draw_lengths(Lengths(value=77), rng(), 50).tolist() == [77] * 50
    drawn = draw_lengths(Lengths(dist="uniform", low=3, high=9), rng(), 20_000)
    assert set(drawn.tolist()) == set(range(3, 10))
    counts = np.bincount(drawn)[3:]
    p = 1 / 7
    assert np.all(np.abs(counts / drawn.size - p) < Z * math.sqrt(p * (1 - p) / drawn.size))


def test_lognormal_median_and_p90_and_clipping():
    spec = Lengths(dist="lognormal", median=500, sigma=0.7, low=10, high=4000)
    drawn = draw_lengths(spec, rng(3), 100_000)
    assert drawn.min() >= 10 and drawn.max() <= 4000 and drawn.dtype == np.int64
    assert_quantile(drawn, 500, 0.5)
    assert_quantile(drawn, 500 * math.exp(0.7 * 1.2815515655446004), 0.9)


def test_zipf_pmf_is_normalised_and_ordered():
    pmf = zipf_pmf(1.2, 4, 500)
    assert pmf.size == 497 and math.isclose(pmf.sum(), 1.0, rel_tol=1e-12)
    assert np.all(np.diff(pmf) < 0)
    np.testing.assert_allclose(pmf[:-1] / pmf[1:], (np.arange(5, 501) / np.arange(4, 500)) ** 1.2, rtol=1e-12)
    drawn = draw_lengths(Lengths(dist="zipf", a=1.2, low=4, high=500), rng(4), 50_000)
    assert drawn.min() >= 4 and drawn.max() <= 500
    freq = np.bincount(drawn, minlength=501)[4:] / drawn.size
    assert np.all(np.abs(freq - pmf) < Z * np.sqrt(pmf * (1 - pmf) / drawn.size) + 1e-12)


def test_empirical_lengths_resample_the_file(tmp_path):
    (tmp_path / "plain.txt").write_text("5\n9\n\n12\n")
    (tmp_path / "named.csv").write_text("tokens\n5\n9\n12\n")
    (tmp_path / "two.csv").write_text("a,tokens\n1,40\n2,41\n")
    (tmp_path / "rows.jsonl").write_text('{"tokens": 40}\n{"tokens": 41}\n')
    assert read_samples(tmp_path / "plain.txt").tolist() == [5, 9, 12]
    assert read_samples(tmp_path / "named.csv").tolist() == [5, 9, 12]
    assert read_samples(tmp_path / "two.csv", "tokens").tolist() == [40, 41]
    assert read_samples(tmp_path / "rows.jsonl", "tokens").tolist() == [40, 41]
    drawn = draw_lengths(Lengths(dist="empirical", path="plain.txt"), rng(), 3000, base_dir=tmp_path)
    assert set(drawn.tolist()) == {5, 9, 12}


# --- dataset profiles -----------------------------------------------------------------------------------------------

def assert_quantile(values: np.ndarray, published: float, q: float) -> None:
    """The fraction of draws below a published q-quantile is q within Z binomial standard errors."""
    below = (np.mean(values < published) + np.mean(values <= published)) / 2
    assert abs(below - q) < Z * math.sqrt(q * (1 - q) / values.size), (published, q, below)


# (profile, side, statistic, published value) as in cosim/serving/data/datasets.yaml
PUBLISHED = [
    ("sharegpt", "prompt", 0.5, 1730), ("sharegpt", "prompt", 0.9, 5696),
    ("sharegpt", "output", 0.5, 415), ("sharegpt", "output", 0.9, 834),
    ("arxiv-summarization", "prompt", 0.5, 7059), ("arxiv-summarization", "prompt", 0.9, 12985),
    ("arxiv-summarization", "output", 0.5, 208),
    ("sharegpt-vllm", "prompt", "mean", 161), ("sharegpt-vllm", "output", "mean", 338),
    ("alpaca", "prompt", "mean", 19), ("alpaca", "output", "mean", 58),
    ("lmsys-chat", "prompt", "mean", 69.5), ("lmsys-chat", "output", "mean", 214.5),
]


@pytest.fixture(scope="module")
def profile_draws():
    return {name: generate_requests(Traffic(dataset=name, requests=40_000, arrivals=Arrivals(rate_per_s=1.0)))
            for name in names()}


@pytest.mark.parametrize("name,side,stat,published", PUBLISHED)
def test_profiles_reproduce_published_figures(profile_draws, name, side, stat, published):
    values = np.array([getattr(r, f"{side}_tokens") for r in profile_draws[name]])
    if stat == "mean":
        assert abs(values.mean() - published) < Z * values.std() / math.sqrt(values.size)
    else:
        assert_quantile(values, published, stat)
    cap = profile(name).max_total_tokens
    if cap is not None:
        assert max(r.prompt_tokens + r.output_tokens for r in profile_draws[name]) <= cap


def test_profile_fit_without_cap_is_closed_form():
    lmsys = profile("lmsys-chat")
    sharegpt_prompt_sigma = sigma_from_p90(1730, 5696)  # the spread lmsys-chat borrows (labelled assumption)
    assert math.isclose(lmsys.prompt.sigma, sharegpt_prompt_sigma)
    assert math.isclose(lmsys.prompt.median, 69.5 * math.exp(-sharegpt_prompt_sigma**2 / 2))
    assert "assumption" not in lmsys.source and lmsys.assumption


def test_capped_marginals_are_normalised():
    pmf = capped_marginals({"prompt": (1000.0, 1.0, None), "output": (300.0, 0.5, 1024)}, 4096)
    for side in pmf.values():
        assert math.isclose(side.sum(), 1.0, rel_tol=1e-12) and side[0] == 0.0
    assert pmf["output"][1025:].sum() == 0.0


def test_explicit_lengths_override_a_dataset_and_samples_honour_the_cap(tmp_path):
    (tmp_path / "out.csv").write_text("tokens\n10\n5000\n20\n")
    traffic = Traffic(dataset="sharegpt", requests=3000, max_total_tokens=6000,
                      output=Lengths(dist="empirical", path="out.csv", column="tokens"))
    requests = generate_requests(traffic, base_dir=tmp_path)
    assert {r.output_tokens for r in requests} == {10, 5000, 20}
    assert all(r.prompt_tokens + r.output_tokens <= 6000 for r in requests)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(CosimInputError, match="unknown dataset 'sharegtp'.*alpaca.*lmsys-chat.*sharegpt"):
        generate_requests(Traffic(dataset="sharegtp"))


def test_unreachable_cap_is_an_error():
    with pytest.raises(CosimInputError, match="max_total_tokens.*exceed 100 prompt \\+ output"):
        generate_requests(Traffic(max_total_tokens=100, prompt=Lengths(value=90), output=Lengths(value=20)))


# --- trace replay ---------------------------------------------------------------------------------------------------

TRACE = [(1003.5, 200, 10), (1000.0, 100, 20), (1001.25, 300, 30)]  # unsorted, starting at 1000 s


def write_trace(path, rows, columns=("timestamp", "prompt_tokens", "output_tokens")):
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(dict(zip(columns, row))) + "\n" for row in rows))
    else:
        path.write_text(",".join(columns) + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_trace_round_trip_with_lengths(tmp_path, suffix):
    path = write_trace(tmp_path / f"trace{suffix}", TRACE)
    trace = read_trace(path, time_scale=2.0)
    assert trace.arrival_s.tolist() == [0.0, 2.5, 7.0]
    assert trace.prompt_tokens.tolist() == [100, 300, 200] and trace.output_tokens.tolist() == [20, 30, 10]
    requests = generate_requests(Traffic(arrivals=Arrivals(process="trace", path=path.name)), base_dir=tmp_path)
    assert as_tuples(requests) == [(0, 0.0, 100, 20), (1, 1.25, 300, 30), (2, 3.5, 200, 10)]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_trace_without_lengths_draws_them(tmp_path, suffix):
    path = write_trace(tmp_path / f"times{suffix}", [(t,) for t, _, _ in TRACE], columns=("arrival_s",))
    traffic = Traffic(arrivals=Arrivals(process="trace", path=str(path)), **FIXED)
    assert as_tuples(generate_requests(traffic)) == [(0, 0.0, 128, 32), (1, 1.25, 128, 32), (2, 3.5, 128, 32)]
    # a rate rescales the trace to that mean rate: 2 gaps over 3.5 s -> 2 gaps over 2 / 4 = 0.5 s
    assert [r.arrival_s for r in generate_requests(traffic, rate_per_s=4.0)] == pytest.approx([0.0, 0.5 * 1.25 / 3.5, 0.5])
    window = traffic.model_copy(update={"duration_s": 3.0})
    assert [r.arrival_s for r in generate_requests(window)] == [0.0, 1.25]
    assert len(generate_requests(Traffic(requests=1, arrivals=traffic.arrivals, **FIXED))) == 1  # an explicit count


def test_long_trace_replays_every_row_unless_a_count_is_given(tmp_path):
    path = write_trace(tmp_path / "long.csv", [(t,) for t in range(1500)], columns=("arrival_s",))
    arrivals = Arrivals(process="trace", path=str(path))
    assert len(generate_requests(Traffic(arrivals=arrivals, **FIXED))) == 1500  # the default 1000 does not cut it
    assert len(generate_requests(Traffic(arrivals=arrivals, requests=1000, **FIXED))) == 1000
    with pytest.raises(CosimInputError, match="no 'prompt_tokens' column"):
        generate_requests(Traffic(arrivals=Arrivals(process="trace", path=str(path))))


@pytest.mark.parametrize("content,message", [
    ("time,prompt_tokens\n1,5\n", r"needs a column 'arrival_s' or 'timestamp'; the file has \['prompt_tokens', 'time'\]"),
    ("arrival_s\n0\n-1\n", r"row 2, column 'arrival_s': -1 is not allowed; arrival_s must be a finite time"),
    ("arrival_s\n0\nnan\n", r"row 2, column 'arrival_s': (an empty, missing or NaN value|'nan') is not allowed"),
    ("arrival_s\n0\nsoon\n", r"row 2, column 'arrival_s': 'soon' is not allowed"),
    ("arrival_s\n0\n\"\"\n", r"row 2, column 'arrival_s': an empty, missing or NaN value is not allowed"),
    ("arrival_s,prompt_tokens\n0,12\n1,-3\n", r"row 2, column 'prompt_tokens': -3 is not allowed; .*integer .* >= 1"),
    ("arrival_s,output_tokens\n0,2.5\n", r"row 1, column 'output_tokens': 2.5 is not allowed"),
    ("arrival_s\n", r"no data rows"),
    ("", r"the file is empty"),
    ("arrival_s,prompt_tokens\n0\n", r"row 1, column 'prompt_tokens': an empty, missing or NaN value is not allowed"),
    ("arrival_s\n0,1,2\n", r"not a valid CSV table"),
])
def test_bad_trace_errors_name_file_row_column_value(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CosimInputError, match=message) as err:
        read_trace(path)
    assert str(err.value).startswith(str(path))


@pytest.mark.parametrize("name,content,reader,message", [
    ("missing.csv", None, read_trace, "missing.csv: file not found"),
    ("t.parquet", "x", read_trace, r"unknown table format '.parquet'; allowed: .csv, .jsonl, .txt"),
    ("t.jsonl", '{"arrival_s": 0}\n{"arrival_s": 1,\n', read_trace, "row 2 is not valid JSON"),
    ("t.jsonl", '{"arrival_s": 0}\n{"arrival_s": null}\n', read_trace,
     "row 2, column 'arrival_s': an empty, missing or NaN value is not allowed"),
    ("multi.csv", "a,b\n1,2\n", read_samples, r"columns \['a', 'b'\]; name one as 'column'"),
    ("pairs.txt", "1,2\n3,4\n", read_samples, "without a header row must have one column, this one has 2"),
])
def test_bad_files(tmp_path, name, content, reader, message):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(CosimInputError, match=message):
        reader(tmp_path / name)
