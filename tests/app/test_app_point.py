"""The Point page: one design point's totals, its latency and energy by component and by op, the per-op roofline,
the mapping of a chosen op with its runners-up, why an infeasible point is infeasible, and its exported config."""

import pytest

from app_checks import chart_data, charts, exported_config, no_exceptions, open_page


def open_point(app, label_part: str):
    app.run()
    picker = app.selectbox(key="point_pick")
    label = next(o for o in picker.options if label_part in o)
    picker.set_value(label).run()
    no_exceptions(app)
    return app


@pytest.fixture
def folder_app(app, results_folder, monkeypatch):
    monkeypatch.setenv("COSIM_APP_RESULTS", str(results_folder))
    app.run().switch_page("pages/point.py")
    return app


def results_row(folder, hardware: str, model: str, batch: int):
    from cosim.api import read_results

    results = read_results(folder)[0]
    return results[(results["hardware"] == hardware) & (results["workload"] == model)
                   & (results["wl.batch"] == batch)].iloc[0]


def test_without_results_the_page_says_where_to_get_them(app, tmp_path, monkeypatch):
    monkeypatch.setenv("COSIM_APP_RESULTS", str(tmp_path))  # a folder without results: Explore evaluates nothing
    open_page(app, "point")
    assert "Explore" in app.info[0].value


def test_breakdowns_and_roofline_of_a_point(folder_app, results_folder):
    at = open_point(folder_app, "H100-SXM5-80GB · llama-2-7b · batch=8")
    row = results_row(results_folder, "H100-SXM5-80GB", "llama-2-7b", 8)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["latency"] == f"{row['latency_s'] * 1e3:.4g} ms"
    assert metrics["energy per token"] == f"{row['energy_per_item_j'] * 1e3:.4g} mJ"
    assert len(charts(at)) == 4
    (components,) = chart_data(at, 0)
    assert set(components["component"]) == {"compute", "onchip", "dram", "interconnect", "static"}
    assert components["energy_j"].sum() == pytest.approx(row["energy_j"], rel=1e-9)
    (times,) = chart_data(at, 1)
    (energy,) = chart_data(at, 2)
    from cosim.api import read_results

    ops = read_results(results_folder)[1]
    ops = ops[ops["point_id"] == row["point_id"]]
    assert times["time_s"].sum() == pytest.approx(ops["time_s"].sum(), rel=1e-9)
    assert energy["energy_j"].sum() == pytest.approx(ops["energy_j"].sum(), rel=1e-9)
    assert times["op"].nunique() == 12 + 1  # the 12 largest, the rest summed
    (roof,) = chart_data(at, 3)
    assert (roof["achieved_flops_per_s"] > 0).all() and (roof["intensity"] > 0).all()
    assert "qkv_proj" in set(roof["op"])


def test_fewer_ops_shown_sums_the_rest(folder_app):
    at = open_point(folder_app, "H100-SXM5-80GB · llama-2-7b · batch=8")
    total = chart_data(at, 1)[0]["time_s"].sum()
    at.slider(key="point_top_ops").set_value(3).run()
    times = chart_data(at, 1)[0]
    assert times["op"].nunique() == 4 and "other ops" in set(times["op"])
    assert times["time_s"].sum() == pytest.approx(total, rel=1e-12)


def test_the_mapping_of_a_chosen_op_with_runners_up(folder_app):
    at = open_point(folder_app, "H100-SXM5-80GB · llama-2-7b · batch=8")
    op = at.selectbox(key="point_op")
    qkv = next(o for o in op.options if "qkv_proj" in o)
    op.set_value(qkv)
    at.number_input(key="point_top").set_value(3).run()
    no_exceptions(at)
    report = [c.value for c in at.code if "qkv_proj" in c.value and "op 2" in c.value.lower()]
    assert report, [c.value[:200] for c in at.code]
    runners = at.dataframe[-1].value
    assert 1 <= len(runners) <= 3


def test_an_infeasible_point_shows_why(folder_app, results_folder):
    at = open_point(folder_app, "infeasible: A100-SXM4-40GB · llama-2-70b")
    row = results_row(results_folder, "A100-SXM4-40GB", "llama-2-70b", 1)
    errors = [e.value for e in at.error]
    assert errors == [f"infeasible: {row['reason']}"] and "> capacity 42.95 GB" in errors[0]
    assert charts(at) == []


def test_the_exported_config_reproduces_the_point(folder_app, results_folder, tmp_path):
    at = open_point(folder_app, "H100-SXM5-80GB · llama-2-7b · batch=8")
    config = exported_config(at)
    assert config["hardware"] == [{"preset": "H100-SXM5-80GB"}]
    from cosim.api import sweep

    again = sweep(config, tmp_path / "again").results
    row = results_row(results_folder, "H100-SXM5-80GB", "llama-2-7b", 8)
    assert len(again) == 1 and again["latency_s"].iloc[0] == row["latency_s"]
    assert again["point_id"].iloc[0] == row["point_id"]
