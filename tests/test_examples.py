"""Every example sweep a newcomer might run validates, runs to the end, and produces its table, plot and summary
(serving studies, configs with ``systems:``, run in tests/serving/test_study_sweep.py)."""

from pathlib import Path

import pytest

import cosim

EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[1] / "examples").glob("*.yaml")
                  if "\nsystems:" not in p.read_text())


@pytest.mark.parametrize("config", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_sweep_runs(config, tmp_path):
    outcome = cosim.sweep(config, output=tmp_path / config.stem)
    results = outcome.results
    assert len(results) > 0 and results["feasible"].any()
    failed = results[results["reason"].fillna("").str.startswith("error")]
    assert failed.empty, failed["reason"].tolist()[:3]
    for name in ("results.parquet", "pareto.png", "summary.md"):
        assert (tmp_path / config.stem / name).exists()
