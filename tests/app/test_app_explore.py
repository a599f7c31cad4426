"""The Explore page: presets, workloads and axes become a sweep config; the sweep's points are drawn as a scatter
with the Pareto front; widgets change the config, the plotted metrics and the colours; bad values show cosim's
message; a results folder feeds the scatter; the exported YAML reproduces the sweep."""

from app_checks import chart_data, charts, exported_config, no_exceptions

H100 = "H100-SXM5-80GB"
BW = "memory.hbm_bandwidth_gbps"


def caption_count(at) -> int:
    texts = [c.value for c in at.caption if c.value.endswith(" design points")]
    assert len(texts) == 1, [c.value for c in at.caption]
    return int(texts[0].split()[0])


def test_the_default_sweep_is_drawn_with_its_pareto_front(app):
    app.run()
    no_exceptions(app)
    assert caption_count(app) == 10  # two presets x batch 1, 2, 4, 8, 16
    spec = charts(app)[0]
    dots, front = spec["layer"]
    assert dots["encoding"]["x"]["field"] == "throughput" and dots["encoding"]["y"]["field"] == "energy_per_item_j"
    assert dots["encoding"]["x"]["scale"]["type"] == "log" and dots["encoding"]["y"]["scale"]["type"] == "log"
    tips = {t["title"] for t in dots["encoding"]["tooltip"]}
    assert {"hardware", "workload", "wl.batch", "throughput", "energy_per_item_j"} <= tips
    points, pareto = chart_data(app)
    assert len(points) == 10 and set(points["hardware"]) == {H100, "A100-SXM4-80GB"}
    assert 1 <= len(pareto) < 10 and pareto["pareto"].all()
    config = exported_config(app)
    assert [h["preset"] for h in config["hardware"]] == [H100, "A100-SXM4-80GB"]
    assert config["workloads"] == [{"model": "llama-2-7b", "grid": {"batch": [1, 2, 4, 8, 16]}}]


def test_a_hardware_axis_adds_points_and_goes_into_the_exported_config(app):
    app.run()
    app.multiselect(key=f"explore_hw_axes:{H100}").set_value([BW]).run()
    app.number_input(key=f"explore_hw:{H100}:{BW}:from").set_value(2000.0).run()
    app.number_input(key=f"explore_hw:{H100}:{BW}:to").set_value(8000.0).run()
    app.number_input(key=f"explore_hw:{H100}:{BW}:points").set_value(3).run()
    no_exceptions(app)
    assert caption_count(app) == (3 + 1) * 5
    points, _ = chart_data(app)
    h100 = points["hardware"] == H100
    assert sorted(points[h100][f"hw.{BW}"].unique()) == [2000.0, 4000.0, 8000.0]
    assert set(points[~h100][f"hw.{BW}"]) == {2039.0}  # the A100 preset's own value, beside the swept ones
    h100 = exported_config(app)["hardware"][0]
    assert h100 == {"preset": H100, "grid": {BW: [2000.0, 4000.0, 8000.0]}}
    # more bandwidth never slows a decode step down
    h100_points = points[points["hardware"] == H100].sort_values(f"hw.{BW}")
    for _, group in h100_points.groupby("wl.batch"):
        assert group["throughput"].is_monotonic_increasing


def test_metrics_colour_and_log_axes_follow_the_widgets(app):
    app.run()
    app.selectbox(key="explore_x").set_value("latency_s")
    app.selectbox(key="explore_y").set_value("power_w")
    app.selectbox(key="explore_colour").set_value("wl.batch")
    app.checkbox(key="explore_logx").uncheck()
    app.checkbox(key="explore_front").uncheck().run()
    no_exceptions(app)
    spec = charts(app)[0]
    assert "layer" not in spec  # no Pareto line
    enc = spec["encoding"]
    assert enc["x"]["field"] == "latency_s" and enc["x"]["scale"]["type"] == "linear"
    assert enc["y"]["field"] == "power_w" and enc["y"]["scale"]["type"] == "log"
    assert enc["color"]["field"] == "wl\\.batch"


def test_a_value_outside_the_schema_shows_cosims_message_and_no_traceback(app):
    app.run()
    app.multiselect(key=f"explore_hw_axes:{H100}").set_value([BW]).run()
    app.number_input(key=f"explore_hw:{H100}:{BW}:from").set_value(-100.0).run()
    no_exceptions(app)
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "memory.hbm_bandwidth_gbps" in errors[0] and "greater than 0" in errors[0]
    assert charts(app) == []


def test_stop_holds_the_sweep_until_run_is_pressed(app):
    app.run()
    app.button(key="explore_stop").click().run()
    assert any("Stopped" in i.value for i in app.info) and charts(app) == []
    app.button(key="explore_run").click().run()
    no_exceptions(app)
    assert len(chart_data(app)[0]) == 10


def test_a_workload_parameter_is_fixed_or_swept(app):
    app.run()
    with_prefill = app.selectbox(key="explore_wl:llama-2-7b:phase:fixed").set_value("prefill").run()
    no_exceptions(with_prefill)
    assert set(chart_data(app)[0]["task"]) == {"llama-2-7b/prefill"}
    assert exported_config(app)["workloads"][0]["params"] == {"phase": "prefill"}


def test_a_results_folder_feeds_the_scatter(app, results_folder, monkeypatch):
    monkeypatch.setenv("COSIM_APP_RESULTS", str(results_folder))
    app.run()
    no_exceptions(app)
    assert app.radio(key="explore_source").value == "Results folder"
    from cosim.api import read_results

    results = read_results(results_folder)[0]
    points, _ = chart_data(app)
    assert sorted(points["point_id"]) == sorted(results[results["feasible"]]["point_id"])
    assert any("infeasible" in e.label for e in app.expander)


def test_a_folder_without_results_is_refused_with_the_reason(app, tmp_path):
    app.run()
    app.radio(key="explore_source").set_value("Results folder").run()
    app.text_input(key="explore_folder").input(str(tmp_path)).run()
    no_exceptions(app)
    assert "no results.parquet" in app.error[0].value


def test_open_on_the_point_page(app):
    app.run()
    app.selectbox(key="explore_point").select_index(3).run()
    app.button(key="explore_open_point").click().run()
    no_exceptions(app)
    assert app.title[0].value == "Point"


def test_an_uploaded_config_is_checked_like_the_cli_checks_a_file(app):
    app.run()
    app.radio(key="explore_source").set_value("Config file").run()
    upload = app.file_uploader(key="explore_upload")
    upload.set_value(("bad.yaml", b"hardware: [{preset: H100-SXM9}]\nworkloads: [{model: llama-2-7b}]",
                      "application/x-yaml")).run()
    no_exceptions(app)
    assert app.error[0].value.startswith("bad.yaml: hardware[0].preset:") and "H100-SXM9" in app.error[0].value
    app.file_uploader(key="explore_upload").set_value(
        ("evil.yaml", b"!!python/object/apply:os.system ['touch /tmp/owned']", "application/x-yaml")).run()
    no_exceptions(app)
    assert "evil.yaml" in app.error[0].value and "constructor" in app.error[0].value
    good = b"hardware: [{preset: A100-SXM4-80GB}]\nworkloads: [{model: llama-2-7b, grid: {batch: [1, 4]}}]\n"
    app.file_uploader(key="explore_upload").set_value(("good.yaml", good, "application/x-yaml")).run()
    no_exceptions(app)
    assert len(chart_data(app)[0]) == 2
    assert exported_config(app)["workloads"] == [{"model": "llama-2-7b", "grid": {"batch": [1, 4]}}]


def test_settings_outlive_a_visit_to_another_page(app):
    app.run()
    app.multiselect(key=f"explore_hw_axes:{H100}").set_value([BW]).run()
    app.number_input(key=f"explore_hw:{H100}:{BW}:points").set_value(2)
    app.selectbox(key="explore_x").set_value("latency_s").run()
    assert caption_count(app) == (2 + 1) * 5
    app.switch_page("pages/presets.py").run()
    app.switch_page("pages/explore.py").run()
    no_exceptions(app)
    assert caption_count(app) == (2 + 1) * 5
    assert app.selectbox(key="explore_x").value == "latency_s"
    assert charts(app)[0]["layer"][0]["encoding"]["x"]["field"] == "latency_s"
