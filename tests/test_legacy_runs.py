"""Runs stored before the shared package was renamed (tests/data/legacy_runs, made at b44854f) still load.

Each fixture is a tiny run of the built-in synthetic clip (config.json, metrics.json and its last checkpoint): it
must restore into today's networks, sample, and export, with the weights it was saved with.
"""

import json
import os
import shutil

import numpy as np
import pytest

import main as cli

LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "legacy_runs")


@pytest.fixture
def legacy_run(tmp_path):
    def copy(name):
        destination = tmp_path / name
        shutil.copytree(os.path.join(LEGACY, name), destination)
        return str(destination)
    return copy


def test_texture_run_samples_and_exports(legacy_run):
    run = legacy_run("texture_tiny")
    cli.entry(["main.py", "--mode", "sample", "--workdir", run, "--num_samples", "1"])
    assert any(name.endswith(".gif") for name in os.listdir(os.path.join(run, "samples")))
    export_dir = os.path.join(os.path.dirname(run), "exported")
    cli.entry(["main.py", "--mode", "export", "--workdir", run, "--export_dir", export_dir])
    assert os.path.isfile(os.path.join(export_dir, "saved_model.pb"))


def test_texture_run_restores_its_weights(legacy_run):
    import tensorflow as tf

    from abp_video import api

    run = legacy_run("texture_tiny")
    trainer = api.load_run(run)
    assert int(trainer.iteration.numpy()) == json.load(open(os.path.join(run, "metrics.json")))["iterations"]
    reader = tf.train.load_checkpoint(os.path.join(run, "ckpt", "ckpt-3"))
    stored = sorted(float(np.sum(np.abs(reader.get_tensor(name)))) for name in reader.get_variable_to_shape_map()
                    if name.startswith("optimizer/_trainable_variables/"))
    assert stored, "the fixture's checkpoint holds no network weights"
    restored = sorted(float(np.sum(np.abs(variable.numpy()))) for variable in trainer.model.trainable_variables)
    assert restored == pytest.approx(stored)


def test_st_run_exports(legacy_run):
    run = legacy_run("st_tiny")
    export_dir = os.path.join(os.path.dirname(run), "exported")
    cli.entry(["main.py", "--mode", "export", "--workdir", run, "--export_dir", export_dir])
    assert os.path.isfile(os.path.join(export_dir, "saved_model.pb"))
