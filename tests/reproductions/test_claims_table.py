"""The reproduction table: every claim has its pair of tests with the tolerance of ``claims.yaml``, the tolerance
rules, ``cosim reproduce`` (table, --claim, --output, errors) and the README's generated table."""

import importlib
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from cosim.cli import main
from cosim.errors import CosimInputError
from cosim.reproduce import claim, claims, reproduce, select, to_markdown
from cosim.reproduce.table import PAPER_MODULES, computation, row

TEST_MODULES = ("test_neupims", "test_duplex", "test_m3vit", "test_pulp", "test_iir_snn",
                "test_lmuformer", "test_diffusion_papers", "test_sarathi", "test_distserve", "test_nanoflow_paper")
README = Path(__file__).resolve().parents[2] / "README.md"
FAST = ["m3vit-02/naive", "dnn-01", "iir-03"]  # claims that compute in seconds


def test_every_claim_has_a_paper_test_and_a_model_pin_with_the_stated_tolerance():
    paper_cases, pins = {}, {}
    for name in TEST_MODULES:
        module = importlib.import_module(name)
        for case in module.PAPER:
            claim_id, value, tol = case.values
            assert claim_id not in paper_cases, claim_id
            paper_cases[claim_id] = (value, tol)
        pins.update(module.MODEL)
    assert set(paper_cases) == set(claims()) == set(pins)
    for claim_id, (value, tol) in paper_cases.items():
        c = claim(claim_id)
        stated = {k: tuple(v) if k == "range" else v for k, v in c.tolerance.items() if k != "why"}
        assert (value, tol) == (c.value, stated), claim_id


@pytest.mark.parametrize("tolerance, inside, outside", [
    ({"rel": 0.1}, (9.0, 11.0), (8.9, 11.1)),
    ({"abs": 0.5}, (9.5, 10.5), (9.4, 10.6)),
    ({"range": [8.0, 10.0]}, (8.0, 10.0), (7.9, 10.1)),
])
def test_tolerance_rules(tolerance, inside, outside):
    c = replace(claim("dnn-01"), value=10.0, tolerance=tolerance)
    assert all(c.within(v) for v in inside) and not any(c.within(v) for v in outside)
    assert not c.within(float("nan"))


def test_select_by_record_or_reference_id_and_unknown_ids():
    assert [c.id for c in select(["m3vit-03"])] == [i for i in claims() if i.startswith("m3vit-03/")]
    assert [c.id for c in select(["dnn-01", "dnn-01"])] == ["dnn-01"]
    with pytest.raises(CosimInputError, match="unknown claim 'nope'.*neupims-01"):
        select(["nope"])


def test_table_columns_and_verdicts():
    table = reproduce(FAST)
    assert list(table["id"]) == FAST
    assert {"paper_value", "model_value", "error", "within_tolerance", "reason", "tolerance"} <= set(table.columns)
    assert table["error"].tolist() == pytest.approx(((table["model_value"] - table["paper_value"])
                                                     / table["paper_value"]).tolist())
    assert table.set_index("id")["within_tolerance"].to_dict() == {"m3vit-02/naive": True, "dnn-01": True,
                                                                   "iir-03": True}
    assert table.set_index("id")["reason"].tolist() == ["", "", ""]
    missed = row(replace(claim("iir-03"), tolerance={"range": [1.0, 2.0]}))  # a miss shows the claim's gap
    assert not missed["within_tolerance"] and missed["reason"] == claim("iir-03").gap


def test_cli_prints_and_writes_csv_and_markdown(tmp_path, capsys):
    assert main(["reproduce", "--claim", "dnn-01", "--claim", "iir-03", "--output", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    assert "dnn-01" in out and "iir-03" in out and "2 of 2 claims within tolerance" in out
    written = pd.read_csv(tmp_path / "t.csv")
    assert list(written["id"]) == ["dnn-01", "iir-03"] and written["within_tolerance"].tolist() == [True, True]
    assert main(["reproduce", "--claim", "dnn-01", "-o", str(tmp_path / "t.md")]) == 0
    assert (tmp_path / "t.md").read_text() == to_markdown(reproduce(["dnn-01"]))


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "--claim", "neupims-99"], "unknown claim 'neupims-99'; known claims: neupims-01"),
    (["reproduce", "--claim", "dnn-01", "-o", "table.txt"], "unknown table format '.txt'; allowed: .csv, .md"),
])
def test_cli_bad_input_exits_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.heavy  # the whole table: the serving claims' simulations take minutes
def test_readme_table_is_the_generated_one():
    block = re.search(r"<!-- reproduce:start -->\n(.*?)<!-- reproduce:end -->", README.read_text(), flags=re.S)
    assert block, "README has no reproduce block"
    assert block.group(1) == to_markdown(reproduce()), "regenerate it: cosim reproduce --output (see the README)"


def test_markdown_output_replaces_only_the_marked_block(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- reproduce:start -->\nstale\n<!-- reproduce:end -->\nafter\n")
    assert main(["reproduce", "--claim", "dnn-01", "--output", str(doc)]) == 0
    table = to_markdown(reproduce(["dnn-01"]))
    assert doc.read_text() == f"intro\n<!-- reproduce:start -->\n{table}<!-- reproduce:end -->\nafter\n"


def test_every_claim_has_a_computation_and_every_computation_a_claim():
    for c in claims().values():
        assert callable(computation(c.id)), c.id
    modules = {importlib.import_module(f"cosim.reproduce.{m}") for m in PAPER_MODULES.values()}
    assert {i for m in modules for i in m.MODEL_VALUES} == set(claims())


def test_public_api_returns_the_table():
    import cosim

    pd.testing.assert_frame_equal(cosim.reproduction_table(["dnn-01"]), reproduce(["dnn-01"]))
