"""`sciml bench`: the registry, the results history, the generated tables."""

import json
import subprocess
import sys

import pytest

from benchmarks import _bench, _report
from benchmarks._results import write_results
from sciml import cli


def test_every_benchmark_folder_is_registered():
    found = _bench.discover()
    folders = sorted(p.parent.name for p in _bench.ROOT.glob("*/run.py"))
    assert sorted(found) == folders
    assert {"convergence", "datasets", "demo"} <= set(found)
    for bench in found.values():
        assert bench.summary and bench.scales


def test_readme_and_docs_tables_equal_what_the_report_writes():
    # The guard of "no number in the README is typed by hand".
    tables = _bench.all_tables()
    marked = 0
    for path in _report.marked_files():
        text = path.read_text()
        marked += len(_report.MARKER.findall(text))
        assert _report.update_text(text, tables, str(path)) == text, (
            f"{path} is out of date: run `sciml bench report` and commit it"
        )
    assert marked >= 10


def test_every_table_is_shown_somewhere():
    shown = set()
    for path in _report.marked_files():
        shown |= {m["name"] for m in _report.MARKER.finditer(path.read_text())}
    assert set(_bench.all_tables()) <= shown


def test_update_text_rewrites_a_stale_table_and_refuses_unknown_names():
    text = "a\n<!-- bench: x/t -->\nold\n<!-- /bench -->\nb\n"
    new = _report.update_text(text, {"x/t": "| new |\n"})
    assert new == "a\n<!-- bench: x/t -->\n| new |\n<!-- /bench -->\nb\n"
    with pytest.raises(KeyError, match="names no table"):
        _report.update_text(text, {"y/t": ""})


def test_a_second_run_keeps_the_first(tmp_path):
    row = dict(task="t", param={}, split="s", model="m", variant="v", metric="err")
    first = write_results("toy", "quick", [{**row, "value": 1.0}], [], out_dir=tmp_path)
    second = write_results(
        "toy", "quick", [{**row, "value": 3.0}], [], out_dir=tmp_path
    )
    assert first != second and first.exists() and second.exists()
    assert first.parent == second.parent  # one folder: this scale on this device
    assert first.with_suffix(".md").exists()
    runs = tuple(json.loads(p.read_text()) for p in (first, second))
    latest = _report.Group(first.parent, runs)
    assert latest.cell(metric="err") == "3"
    spread = _report.Group(first.parent, runs, spread=True)
    assert spread.cell(metric="err") == "3 (1 to 3, 2 runs)"
    with pytest.raises(LookupError, match="0 rows"):
        latest.cell(metric="missing")


def _bench_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "sciml.cli", "bench", *args],
        capture_output=True,
        text=True,
    )


def test_sciml_bench_list_and_report_check():
    listed = _bench_cli("list")
    assert listed.returncode == 0, listed.stderr
    for name in ("convergence", "datasets", "demo"):
        assert name in listed.stdout
    checked = _bench_cli("report", "--check")
    assert checked.returncode == 0, checked.stderr


def test_sciml_bench_refuses_unknown_names_and_scales():
    unknown = _bench_cli("nosuch")
    assert unknown.returncode == 2 and "no benchmark 'nosuch'" in unknown.stderr
    scale = _bench_cli("demo", "--scale", "paper")
    assert scale.returncode == 2 and "has no scale 'paper'" in scale.stderr


def test_sciml_bench_outside_a_checkout(tmp_path, capsys):
    assert cli.main(["bench", "list", "--root", str(tmp_path)]) == 2
    assert "no benchmarks/ folder" in capsys.readouterr().err
