"""The Serving page: a model served request by request on the chosen systems over a range of rates: goodput and
SLO attainment against the rate, latency CDFs, the summary cosim's serving study computes, capacity under the SLO
and the serving config that reproduces it; the SLO sliders change the judgement, not the simulated requests."""

from app_checks import chart_data, exported_config_text, no_exceptions, open_page, table


def open_serving(app, requests=40, rates=(2.0, 8.0), points=2):
    at = open_page(app, "serving")
    at.number_input(key="serving_requests").set_value(requests)
    at.slider(key="serving_rates").set_range(*rates)
    at.slider(key="serving_rate_points").set_value(points).run()
    no_exceptions(at)
    return at


def test_goodput_cdfs_and_summary(app, tmp_path):
    at = open_serving(app)
    summary = table(at, "system", "rate_per_s", "goodput_slo_rps")
    assert list(summary["rate_per_s"]) == [2.0, 8.0] and set(summary["system"]) == {"H100-SXM5-80GB"}
    assert (summary["requests"] == 40).all()
    (goodput,) = chart_data(at, 0)
    assert list(goodput["goodput_slo_rps"]) == list(summary["goodput_slo_rps"])
    (cdf,) = chart_data(at, 2)
    assert len(cdf) == summary.set_index("rate_per_s").loc[8.0, "finished"]
    import yaml

    from cosim.api import load_serving_config

    exported = tmp_path / "serving.yaml"
    exported.write_text(exported_config_text(at))
    config = load_serving_config(exported)  # what `cosim serve` reads
    assert config.rates == [2.0, 8.0] and config.slos["slo"].ttft_s == 0.25 and config.traffic.requests == 40
    assert yaml.safe_load(exported.read_text())["systems"] == [{"label": "H100-SXM5-80GB",
                                                                  "hardware": {"preset": "H100-SXM5-80GB"}}]


def test_a_stricter_slo_lowers_attainment_on_the_same_requests(app):
    at = open_serving(app)
    before = table(at, "system", "rate_per_s", "attainment_slo")
    at.slider(key="serving_ttft").set_value(0.01)
    at.slider(key="serving_tpot").set_value(0.005).run()
    no_exceptions(at)
    after = table(at, "system", "rate_per_s", "attainment_slo")
    assert list(after["ttft_p50_s"]) == list(before["ttft_p50_s"])  # the same simulated requests
    assert (after["attainment_slo"] <= before["attainment_slo"]).all()
    assert after["attainment_slo"].sum() < before["attainment_slo"].sum()


def test_a_system_that_cannot_hold_the_model_shows_why(app):
    at = open_serving(app, requests=10, points=1)
    at.selectbox(key="serving_model").set_value("llama-2-70b")
    at.multiselect(key="serving_systems").set_value(["A100-SXM4-40GB"]).run()
    no_exceptions(at)
    assert at.error and "A100-SXM4-40GB" in at.error[0].value


def test_capacity_under_the_slo(app):
    at = open_serving(app, requests=20, points=1)
    at.checkbox(key="serving_capacity").check().run()
    no_exceptions(at)
    capacity = next(d.value for d in at.dataframe if "rate_per_s" not in d.value.columns and "system" in d.value)
    assert list(capacity["system"]) == ["H100-SXM5-80GB"]
    assert "capacity" in exported_config_text(at)
