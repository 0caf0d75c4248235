"""Shared test fixtures: the repo on sys.path, quiet TensorFlow, the shared data folder (skipped when absent), a
command-line run that is resumed."""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
SHARED_VIDEO = os.path.join(os.path.dirname(REPO), "shared", "data", "trainingVideo")


@pytest.fixture
def shared_video():
    """Path of ../shared/data/trainingVideo, or skip: the authors' clips are never committed here."""
    if not os.path.isdir(SHARED_VIDEO):
        pytest.skip(f"shared clips not found at {SHARED_VIDEO} (CI places ../shared beside the clone)")
    return SHARED_VIDEO


@pytest.fixture
def resumed_cli_run(tmp_path):
    """Runs `python main.py --preset tiny ARGS` in-process for 2 iterations, checks its checkpoint, GIF and metrics,
    then resumes it to 3; returns the run directory (abp_video.runs.RunDirectory)."""
    import json

    import main
    from abp_video import runs

    def run(args, gif, method):
        workdir = str(tmp_path / method)
        argv = ["main.py", *args, "--preset", "tiny", "--method", method, "--workdir", workdir]
        main.entry(argv + ["--iterations", "2"])
        directory = runs.RunDirectory(workdir)
        assert runs.Checkpointer(directory.checkpoint_dir).manager.latest_checkpoint.endswith("ckpt-2")
        assert os.path.getsize(os.path.join(directory.samples_dir, gif)) > 0
        first = json.load(open(directory.metrics_path))
        assert first["method"] == method and first["iterations"] == 2
        main.entry(argv + ["--iterations", "3"])
        assert [row["iteration"] for row in directory.read_history()] == [1, 2, 3]
        assert json.load(open(directory.metrics_path))["iterations"] == 3
        return directory

    return run
