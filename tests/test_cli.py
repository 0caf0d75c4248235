"""The command line: bad input gives one clear line and exit code 2, and leaves no run directory behind."""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _main(*args):
    return subprocess.run([sys.executable, os.path.join(REPO, "main.py"), *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (["--data", "/no/such/clip.avi"], "no such file or folder"),
    (["--data", "synthetic:smoke"], "unknown synthetic texture"),
    (["--num_frames", "45"], "multiple of --chunk_length"),
    (["--preset", "huge"], "unknown preset"),
    (["--image_size", "100"], "no paper emission network for --image_size 100"),
    (["--mode", "sample"], "needs --workdir"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    workdir = tmp_path / "run"
    result = _main("--workdir", str(workdir), *args) if "--mode" not in args else _main(*args)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not workdir.exists()


@pytest.mark.slow
def test_train_then_sample_from_the_command_line(tmp_path):
    workdir = str(tmp_path / "run")
    result = _main("--preset", "tiny", "--workdir", workdir)
    assert result.returncode == 0, result.stderr
    assert "reconstruction MSE" in result.stdout
    result = _main("--mode", "sample", "--workdir", workdir, "--num_frames", "9", "--num_samples", "2")
    assert result.returncode == 0, result.stderr
    assert os.path.isfile(os.path.join(workdir, "samples", "sample_9f_seed0.gif"))
    # Resuming a finished run with a different architecture is refused; extending it is allowed.
    result = _main("--workdir", workdir, "--state_dim", "9")
    assert result.returncode == 2 and "another configuration" in result.stderr
    result = _main("--workdir", workdir, "--iterations", "4")
    assert result.returncode == 0 and "after 4 iterations" in result.stdout, result.stderr


@pytest.mark.slow
def test_spatial_temporal_experiments_from_the_command_line(tmp_path):
    workdir = str(tmp_path / "st")
    result = _main("--experiment", "st_synthesis", "--model", "1", "--preset", "tiny", "--workdir", workdir)
    assert result.returncode == 0, result.stderr
    assert "Model-1" in result.stdout and os.path.isfile(os.path.join(workdir, "samples", "synthesised.gif"))
    # A field of both config classes (--num_frames) is one flag; a bad value names the fix.
    result = _main("--experiment", "st_recover", "--preset", "tiny", "--num_frames", "6", "--workdir",
                   str(tmp_path / "bad"))
    assert result.returncode == 2 and "--num_frames is 6" in result.stderr, result.stderr
    result = _main("--experiment", "st_recover", "--preset", "tiny", "--init", "vae", "--workdir", str(tmp_path / "x"))
    assert result.returncode == 2 and "--init must be one of" in result.stderr, result.stderr
