"""Every registered experiment with a `tiny` preset builds, validates and runs in a temp dir, leaving a run there."""

import os

import pytest

import main
from dynamic_generator.experiments import EXPERIMENTS

TRAINABLE = sorted(name for name, experiment in EXPERIMENTS.items() if "tiny" in experiment.presets)


def _options():
    options = {name: main.FLAGS[name].default for name in main.OPTION_FLAGS}
    options["more_data"] = ()
    return options


def test_every_experiment_is_covered():
    # An experiment without a tiny preset must be one that works on a trained run (no preset at all).
    assert all("tiny" in experiment.presets or not experiment.presets for experiment in EXPERIMENTS.values())
    assert {"texture", "recover", "inpaint", "action"} <= set(TRAINABLE)


@pytest.mark.parametrize("name", [name for name in TRAINABLE if name != "texture_eval"])
def test_tiny_run_leaves_config_checkpoint_events_and_metrics(tmp_path, name):
    experiment = EXPERIMENTS[name]
    config = experiment.presets["tiny"].validate()
    workdir = str(tmp_path / name)
    experiment.modes["train"](config, workdir, _options())
    for entry in ("config.json", "metrics.json"):
        assert os.path.isfile(os.path.join(workdir, entry)), entry
    if config.method == "dg":
        assert os.listdir(os.path.join(workdir, "ckpt")) and os.listdir(os.path.join(workdir, "tb"))
