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


# ---- help, --dry_run and the data line -----------------------------------------------------------------------------

def _entry(capsys, *args):
    import main as cli

    with pytest.raises(SystemExit) as exit_info:
        cli.parse_flags(["main.py", *args])
    return exit_info.value.code, capsys.readouterr()


def test_help_lists_the_experiments_and_exits_0(capsys):
    code, out = _entry(capsys, "--help")
    assert code == 0 and "st_interpolate" in out.out and "WACV'19 §4.2, Table 1" in out.out
    assert "--latent_grid" not in out.out  # Settings come per experiment.


def test_experiment_help_shows_its_modes_and_settings_only(capsys):
    code, out = _entry(capsys, "--experiment", "st_interpolate", "--help")
    assert code == 0
    assert "--latent_grid" in out.out and "--chunk_length" not in out.out and "--table_methods" not in out.out
    assert "table " in out.out and "[default paper 64, quick 32, tiny 8]" in out.out  # --image_size per preset.
    code, out = _entry(capsys, "--experiment=recover", "-h")
    assert code == 0 and "--table_methods" in out.out and "region, missing_frames" in out.out
    code, out = _entry(capsys, "--experiment", "nosuch", "--help")
    assert code == 2 and "unknown experiment 'nosuch'" in out.err


def test_every_setting_of_every_experiment_says_what_it_is():
    from abp_video import api, configs

    for experiment in api.EXPERIMENTS.values():
        for name in configs.setting_fields(experiment.config_class):
            if name not in ("experiment", "preset"):
                assert len(api.setting_help(experiment, name)) > 12, (experiment.name, name)
    import main as cli
    bare = [name for name in api.SETTINGS if cli.FLAGS[name].help.startswith("Override")]
    assert not bare, bare


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    import json

    import main as cli

    workdir = tmp_path / "run"
    cli.entry(["main.py", "--experiment", "st_interpolate", "--preset", "tiny", "--workdir", str(workdir),
               "--mask_type", "frame_blocks", "--dry_run"])
    out = capsys.readouterr().out
    first, rest = out.split("\n", 1)
    assert first == "synthetic:fire (built in, made at 8x8): up to 1 16-frame segment, tiny preset, 4 iterations" \
        or first.startswith("synthetic:fire (built in, made at 8x8)"), first
    assert json.loads(rest)["mask_type"] == "frame_blocks"
    assert not workdir.exists()


def test_a_training_run_starts_with_the_data_line(tmp_path, capsys):
    import main as cli
    from abp_video.data import synthetic, writers

    clip = tmp_path / "clip.mp4"
    writers.write_mp4(str(clip), synthetic.make_texture("fire", 24, 40, seed=0), fps=12)
    cli.entry(["main.py", "--preset", "tiny", "--workdir", str(tmp_path / "run"), "--data", str(clip)])
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "clip.mp4: frames 0-7 of 24, 40x40 -> 16x16, tiny preset, 3 iterations", first


def test_an_options_earlier_name_still_works_with_a_warning(tmp_path, capsys):
    import main as cli

    cli.FLAGS.unparse_flags()
    cli.parse_flags(["main.py", "--experiment", "st_recover", "--mode", "table", "--preset", "tiny", "--stages", "test",
                     "--methods", "abp", "--workdir", str(tmp_path / "table")])
    plan = cli.resolve()
    assert plan.options["table_stages"] == ["test"] and plan.options["table_methods"] == ["abp"]
    err = capsys.readouterr().err
    assert "warning: --stages is now --table_stages" in err and "warning: --methods is now --table_methods" in err
    cli.FLAGS.unparse_flags()


def test_a_runs_stderr_has_no_tensorflow_start_up_lines(tmp_path):
    result = _main("--preset", "tiny", "--iterations", "1", "--workdir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-2000:]
    for noise in ("absl::InitializeLog", "cudart_stub", "port.cc", "oneDNN custom operations", "cpu_feature_guard"):
        assert noise not in result.stderr, result.stderr[:2000]
    assert result.stdout.splitlines()[0].startswith("synthetic:fire (built in, made at 16x16)"), result.stdout
