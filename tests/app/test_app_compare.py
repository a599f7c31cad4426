"""The Compare page: two to four points side by side (parameters that differ, totals, energy by component), no
more than four, and the config of the points compared."""

from app_checks import chart_data, exported_config, no_exceptions, table, open_page


def open_compare(app, results_folder, monkeypatch):
    monkeypatch.setenv("COSIM_APP_RESULTS", str(results_folder))
    open_page(app, "compare")
    no_exceptions(app)
    return app


def test_points_side_by_side(app, results_folder, monkeypatch):
    at = open_compare(app, results_folder, monkeypatch)
    pick = at.multiselect(key="compare_points")
    a100 = next(o for o in pick.options if o.startswith("A100-SXM4-40GB · llama-2-7b · batch=8"))
    h100 = next(o for o in pick.options if o.startswith("H100-SXM5-80GB · llama-2-7b · batch=8"))
    pick.set_value([a100, h100]).run()
    no_exceptions(at)
    shown = table(at, "1: " + a100, "2: " + h100)
    from cosim.api import read_results

    results = read_results(results_folder)[0].set_index("hardware")
    rows = results[(results["workload"] == "llama-2-7b") & (results["wl.batch"] == 8)]
    assert shown.loc["latency_s"].tolist() == [str(rows.loc["A100-SXM4-40GB", "latency_s"]),
                                               str(rows.loc["H100-SXM5-80GB", "latency_s"])]
    assert "wl.batch" not in shown.index  # the same in both
    (energy,) = chart_data(at, 0)
    assert set(energy["point"]) == {"1", "2"} and "dram" in set(energy["component"])
    assert energy[energy["point"] == "2"]["energy_j"].sum() == rows.loc["H100-SXM5-80GB", "energy_j"]
    config = exported_config(at)
    assert [h["preset"] for h in config["hardware"]] == ["A100-SXM4-40GB", "H100-SXM5-80GB"]


def test_one_point_is_not_a_comparison(app, results_folder, monkeypatch):
    at = open_compare(app, results_folder, monkeypatch)
    pick = at.multiselect(key="compare_points")
    pick.set_value(pick.options[:1]).run()
    assert "at least 2" in at.warning[0].value
