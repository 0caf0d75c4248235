"""main.py's one registry: every experiment of both models builds, validates and runs a tiny run in a temp dir."""

import os

import pytest
import tensorflow as tf

import main
from abp_video import api, configs, registry, runs

PAPER_EXPERIMENTS = {"texture", "texture_eval", "recover", "inpaint", "action", "interpolate", "animate",
                     "st_synthesis", "st_interpolate", "st_recover", "st_multimodal"}
TRAINABLE = sorted(name for name, experiment in registry.EXPERIMENTS.items() if "tiny" in experiment.presets)
# Settings that take a tiny run down a path its preset does not (LI-ABP on occluded training segments).
TINY_SETTINGS = {"st_recover": dict(stage="train", init="li", mask_type="b25")}


def _options(mode):
    options = {name: api.OPTIONS[name].default if name in api.OPTIONS else None for name in mode.options}
    options["more_data"] = ()
    return options


def test_the_registry_holds_every_paper_experiment_of_both_models():
    assert set(registry.EXPERIMENTS) == PAPER_EXPERIMENTS
    # An experiment without a tiny preset must be one that works on a trained run (no preset at all).
    assert all("tiny" in experiment.presets or not experiment.presets for experiment in registry.EXPERIMENTS.values())
    for experiment in registry.EXPERIMENTS.values():
        assert experiment.paper and os.path.isfile(os.path.join(os.path.dirname(main.__file__), experiment.docs))


def test_every_mode_reads_flags_that_main_defines():
    for experiment in registry.EXPERIMENTS.values():
        for name in experiment.mode_names():
            mode = registry.mode(experiment, name)
            for flag in (*mode.options, *mode.settings, *mode.required):
                assert flag in api.OPTIONS or flag in api.SETTINGS, (experiment.name, name, flag)
                assert flag in main.FLAGS, flag
            assert set(mode.settings) <= set(api.SETTINGS), (experiment.name, name)


@pytest.mark.parametrize("name", [name for name in TRAINABLE if name != "texture_eval"])
def test_tiny_run_leaves_config_checkpoint_events_and_metrics(tmp_path, name):
    experiment = registry.EXPERIMENTS[name]
    config = configs.with_settings(experiment.presets["tiny"], TINY_SETTINGS.get(name, {})).validate()
    workdir = str(tmp_path / name)
    experiment.modes["train"].run(config, workdir, _options(experiment.modes["train"]))
    run = runs.RunDirectory(workdir)
    assert run.read_config(experiment.config_class) == config
    metrics = run.read_metrics()
    assert metrics["iterations"] == config.num_iterations
    machine = metrics["machine"]  # Where the figures were measured: commit, CPU, cores, load.
    assert machine["cpus"] == os.cpu_count() and len(machine["load_average"]) == 3 and machine["tensorflow"]
    assert machine["commit"] is None or len(machine["commit"].split("+")[0]) >= 7
    assert machine["onednn_opts"] == os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "1"  # Set by conftest, as main.py.
    assert any(key.endswith(("recovery_error_255", "recovery_error_unit")) or key == "recon_mse" for key in metrics)
    assert runs.Checkpointer(run.checkpoint_dir).manager.latest_checkpoint and os.listdir(run.samples_dir)
    tags = set()
    for event_file in os.listdir(run.tensorboard_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(run.tensorboard_dir, event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert {"train/loss", "train/recon_mse", "train/iterations_per_sec"} <= tags


def test_the_flags_are_known_without_tensorflow():
    """main.py defines and checks its flags before TensorFlow is imported: a bad flag fails in a fraction of a
    second; api_flags lists the config class of every registered experiment."""
    import subprocess
    import sys

    from abp_video import api_flags

    assert {experiment.config_class for experiment in registry.EXPERIMENTS.values()} == set(api_flags.CONFIG_CLASSES)
    check = ("import sys; sys.argv = ['main.py']; import main; "
             "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; print(len(main.FLAGS))")
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) > len(api_flags.SETTINGS) + len(api_flags.OPTIONS)
