"""`twolayer claims`: list, run with stored cells and reports, reproduce, one-line errors (issue 13)."""

from __future__ import annotations

import json

import pytest

from conjecture.command_line import main


def test_list_json(capsys):
    assert main(["claims", "list", "--json"]) == 0
    names = {c["name"] for c in json.loads(capsys.readouterr().out)["claims"]}
    assert names == {"memorization", "ntk-memorization", "condensation"}
    assert main(["claims"]) == 0
    assert "arXiv:2006.02855" in capsys.readouterr().out


def test_run_memorization_store_report_reproduce(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["claims", "run", "memorization", "--n", "12,30", "--d", "2,3", "--store", "st", "--workers", "0",
                 "--quiet", "--out", "out", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells"] == 8 and out["verdicts"].get("fails") is None
    assert all(r["values"]["labels_reproduced"] == r["n"] for r in out["rows"])
    assert (tmp_path / "out" / "latest" / "report.html").exists()
    assert main(["reproduce", "out/latest/report.json", "--store", "st"]) == 0
    assert "MATCH" in capsys.readouterr().out


def test_run_condensation_small(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["claims", "run", "condensation", "--activation", "tanh", "--d", "2", "--init-scale", "0.005",
                 "--seeds", "2", "--steps", "200", "--store", "st", "--workers", "0", "--quiet", "--out", "o",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cells"] == 2 and len(out["findings"]) == 1
    assert out["findings"][0]["verdict"] in ("SUPPORTED", "NOT SUPPORTED")
    assert main(["reproduce", "o/latest/report.json", "--store", "st"]) == 0


@pytest.mark.parametrize("argv,name", [
    (["claims", "run", "nosuch"], "name"),
    (["claims", "run", "memorization", "--n", "0"], "n"),
    (["claims", "run", "memorization", "--n", "x"], "n"),
    (["claims", "run", "memorization", "--d", "1000"], "d"),
    (["claims", "run", "memorization", "--construction", "sigmoid"], "construction"),
    (["claims", "run", "memorization", "--steps", "10"], "steps"),
    (["claims", "run", "condensation", "--activation", "relu"], "activation"),
    (["claims", "run", "condensation", "--init-scale", "nan"], "init-scale"),
    (["claims", "run", "condensation", "--seeds", "1000"], "seeds"),
    (["claims", "run", "condensation", "--optimizer", "sgd"], "optimizer"),
    (["claims", "run", "condensation", "--construction", "relu"], "construction"),
])
def test_bad_input_one_line_exit_2(argv, name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--store", "st"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"argument {name}" in err
    assert not (tmp_path / "claims_out").exists()


def test_each_claim_report_cites_its_own_paper(tmp_path):
    """The citation block names the paper whose claim the kind checks, not the compression paper."""
    from numerics.claims_api import run_claim

    run = run_claim("memorization", construction="relu", n="10,20", d=2, out=tmp_path / "out",
                    store=tmp_path / "store", workers=0)
    cite = run.cite()
    assert "Checks the claims of: Bubeck, Eldan, Lee, Mikulincer, NeurIPS 2020" in cite
    assert "\\cite{bubeck2020network}" in cite and "@inproceedings{bubeck2020network," in cite
    assert "amani2022sharp" not in cite


@pytest.mark.parametrize("argv,name,needle", [
    (["claims", "run", "memorization", "--n", "20000", "--d", "1"], "n", "of memory"),
    (["claims", "run", "ntk-memorization", "--n", "4000", "--seeds", "64"], "seeds", "--allow-large"),
    (["claims", "run", "condensation", "--steps", "100000", "--seeds", "20"], "seeds", "--allow-large"),
])
def test_job_over_budget_refused_before_anything_is_written(argv, name, needle, tmp_path, capsys, monkeypatch):
    """The claims estimate (numerics.claims_cost) refuses a runaway job: one line, no store, no report folder."""
    from tests.cli_checks import assert_refused

    monkeypatch.chdir(tmp_path)
    code = main(argv + ["--store", "st", "--out", "o"])
    captured = capsys.readouterr()
    assert_refused(code, captured.out, captured.err, name, needle)
    assert not (tmp_path / "st").exists() and not (tmp_path / "o").exists()


def test_estimate_json_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["claims", "run", "ntk-memorization", "--n", "4000", "--seeds", "64", "--estimate", "--json",
                 "--store", "st"]) == 0
    est = json.loads(capsys.readouterr().out)["estimate"]
    assert est["command"] == "claims" and est["seconds"] > est["budget"]["seconds"]
    assert {p["argument"] for p in est["parts"]} == {"n", "seeds"}
    assert not (tmp_path / "st").exists() and not (tmp_path / "claims_out").exists()
