"""Reading an explorer page under test: its charts' specs and data, its tables, the config it exports."""

from pathlib import Path

MAIN = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
TIMEOUT = 600  # the first evaluation compiles cosim's kernels


def charts(at) -> list[dict]:
    """The Vega-Lite specs of the page's charts (data sets inlined under ``datasets``)."""
    import json

    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def chart_data(at, index: int = 0) -> list:
    """The data sets (DataFrames) of the page's ``index``-th chart, as Streamlit sends them to the browser."""
    import pyarrow as pa

    chart = at.get("vega_lite_chart")[index]
    return [pa.ipc.open_stream(ds.data.data).read_pandas() for ds in chart.proto.datasets]


def exported_config_text(at) -> str:
    """The YAML the page exports (shown under its download button)."""
    texts = [c.value for c in at.code if c.language == "yaml"]
    assert len(texts) == 1, texts
    return texts[0]


def exported_config(at) -> dict:
    """The sweep config the page exports (the YAML shown under its download button), read back by cosim."""
    from cosim.api import parse_config

    return parse_config(exported_config_text(at), "export").model_dump(exclude_defaults=True)


def no_exceptions(at) -> None:
    assert [e.value for e in at.exception] == []


def table(at, *columns: str):
    """The first table on the page that has all of ``columns``."""
    for frame in at.dataframe:
        value = frame.value
        if all(c in value.columns for c in columns):
            return value
    raise AssertionError(f"no table with columns {columns}")


def open_page(at, module: str):
    """Run the app (its navigation registers the pages), then open ``app/pages/<module>.py``."""
    at.run()
    at.switch_page(f"pages/{module}.py").run()
    no_exceptions(at)
    return at
