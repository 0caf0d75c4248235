"""benchmarks/curves.py reads `LABEL=RUN_DIR` arguments one way for every learning-curve script."""

import json
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import curves  # noqa: E402


def _run(path, rows):
    os.makedirs(path)
    with open(os.path.join(path, "history.jsonl"), "w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    return str(path)


def test_runs_and_histories_read_labels_alike(tmp_path):
    first = _run(tmp_path / "a", [{"iteration": 10, "recon_mse": 0.5}, {"iteration": 20, "recon_mse": 0.25}])
    second = _run(tmp_path / "b=c", [{"iteration": 10, "loss": 1.0}])  # `=` in a folder's name.
    arguments = [f"abp={first}", second, f"li={second}"]
    assert curves.labelled_runs(arguments, "runs") == [("abp", first), (second, second), ("li", second)]
    histories = curves.labelled_histories(arguments)
    assert list(histories) == ["abp", second, "li"]
    assert curves.logged(histories["abp"], "recon_mse") == ([10, 20], [0.5, 0.25])
    assert curves.logged(histories[second], "recon_mse") == ([], [])


def test_bad_arguments_stop_with_one_line_naming_them(tmp_path):
    with pytest.raises(SystemExit, match="give LABEL=RUN_DIR for one or more trained runs"):
        curves.labelled_histories([])
    with pytest.raises(SystemExit, match=f"{tmp_path / 'nowhere'} is not a folder"):
        curves.labelled_histories([f"x={tmp_path / 'nowhere'}"])
    os.makedirs(tmp_path / "empty")
    with pytest.raises(SystemExit, match="history.jsonl is missing"):
        curves.labelled_histories([f"x={tmp_path / 'empty'}"])
