"""The Presets page: a preset's every value with its source, its parameter space; a workload's parameters and
op table, which follow the parameter widgets; the exported config names both."""

from app_checks import exported_config, no_exceptions, table, open_page


def open_presets(app):
    open_page(app, "presets")
    no_exceptions(app)
    return app


def test_a_preset_shows_every_value_with_its_source(app):
    at = open_presets(app)
    at.selectbox(key="presets_kind").set_value("spatial").run()
    at.selectbox(key="presets_hw").set_value("TPU-like").run()
    no_exceptions(at)
    from cosim.api import describe

    shown = table(at, "path", "source", "expression")
    expected = describe("TPU-like").parameters
    assert list(shown["path"]) == list(expected["path"])
    assert list(shown["source"]) == [str(s) for s in expected["source"]]
    assert any("TPU-like" in m.value for m in at.markdown)
    assert at.warning.len == 0  # every value has a source


def test_a_workload_op_table_follows_its_parameters(app):
    at = open_presets(app)
    at.selectbox(key="presets_wl").set_value("llama-2-7b").run()
    ops = table(at, "op", "FLOPs")
    at.number_input(key="presets_wl:llama-2-7b:batch:fixed").set_value(8).run()
    no_exceptions(at)
    ops8 = table(at, "op", "FLOPs")
    assert list(ops8["op"]) == list(ops["op"])
    qkv, qkv8 = (frame.set_index("op").loc["qkv_proj"] for frame in (ops, ops8))
    assert qkv8["FLOPs"] == 8 * qkv["FLOPs"]
    config = exported_config(at)
    assert config["workloads"] == [{"model": "llama-2-7b", "params": {"batch": 8}}]
    assert config["hardware"] == [{"preset": at.selectbox(key="presets_hw").value}]
