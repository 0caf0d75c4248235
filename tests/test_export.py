"""--mode export: a SavedModel that serves in a fresh process importing only TensorFlow, equal to the run's sampler."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import main as cli
from abp_video import runs
from abp_video.data import video_io
from dynamic_generator import animation, configs, restore
from dynamic_generator.experiments import texture
from dynamic_generator.train import synthesis_start
from st_generator import restore as st_restore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in a fresh interpreter: TensorFlow only, none of this repository's modules reachable.
SERVE = """
import json, sys
import numpy as np
import tensorflow as tf
sys.path = [p for p in sys.path if p not in ("", {repo!r})]
model = tf.saved_model.load({export!r})
out = {{}}
for frames, samples, seed in [(9, 2, 5), (5, 1, 7)]:
    out[f"generate_{{frames}}_{{samples}}_{{seed}}"] = model.generate(
        tf.constant(frames), tf.constant(samples), tf.constant(seed, tf.int64)).numpy()
out["burn_in"] = model.generate_after_burn_in(tf.constant(6), tf.constant(2), tf.constant(5, tf.int64),
                                              tf.constant(3)).numpy()
out["inferred"] = model.generate_from_inferred_state(tf.constant(6), tf.constant(2), tf.constant(5, tf.int64),
                                                     tf.constant(3)).numpy()
for name, state in [("chunks", model.random_start(tf.constant(2), tf.constant(5, tf.int64))["state"]),
                    ("inferred_chunks", model.start(tf.constant(2))["state"])]:
    chunks = []
    for k in range(3):
        result = model.next_chunk(state, tf.constant(5, tf.int64), tf.constant(k))
        chunks.append(result["frames"].numpy())
        state = result["state"]
    out[name] = np.concatenate(chunks, axis=1)
out["default_burn_in"] = model.burn_in.numpy()
serving = model.signatures["generate"](num_frames=tf.constant(4), num_samples=tf.constant(1),
                                       seed=tf.constant(3, tf.int64))
out["signature"] = list(serving.values())[0].numpy()
np.savez({result!r}, **out)
ours = sorted(name for name in sys.modules if name.split(".")[0] in ("common", "data", "dynamic_generator", "main"))
print(json.dumps(ours))
"""


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("export") / "run")
    texture.train_texture(dataclasses.replace(configs.TEXTURE_TINY, num_iterations=4), workdir)
    return workdir


def _export(workdir, export_dir, *extra):
    with pytest.raises(SystemExit) as exit_info:
        cli.entry(["main.py", "--mode", "export", "--workdir", workdir, "--export_dir", export_dir, *extra])
        raise SystemExit(0)
    return exit_info.value.code


def _serve_in_fresh_process(script, tmp_path, **fields):
    """Runs a serving `script` (formatted with `fields`) in a fresh interpreter; checks that it imported none of our
    modules and returns the arrays it saved."""
    result = str(tmp_path / "served.npz")
    completed = subprocess.run([sys.executable, "-c", script.format(repo=REPO, result=result, **fields)],
                               capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []  # Served without our code.
    return np.load(result)


@pytest.mark.slow
def test_export_serves_in_a_fresh_process_and_equals_the_run_sampler(trained_run, tmp_path):
    export_dir = str(tmp_path / "saved")
    assert _export(trained_run, export_dir) == 0
    assert json.load(open(os.path.join(export_dir, "assets.extra", "config.json")))["preset"] == "tiny"
    served = _serve_in_fresh_process(SERVE, tmp_path, export=export_dir)

    _, trainer = restore.restore_trainer(trained_run)
    assert served["default_burn_in"] == configs.SYNTHESIS_BURN_IN
    for frames, samples, seed in [(9, 2, 5), (5, 1, 7)]:
        # §4.1: s_0 ~ N(0, I), the default burn-in dropped, as --mode sample does.
        expected = video_io.to_uint8(trainer.synthesize(samples, frames, seed=seed, **synthesis_start()))
        got = served[f"generate_{frames}_{samples}_{seed}"]
        assert got.dtype == np.uint8 and got.shape == (samples, frames, 16, 16, 3)
        # Same seed semantics (stateless noise from (seed, chunk)) and the same ops: equal to the last bit.
        np.testing.assert_array_equal(got, expected)
    random_after_3 = video_io.to_uint8(trainer.synthesize(2, 6, seed=5, **synthesis_start("random", 3)))
    inferred_after_3 = video_io.to_uint8(trainer.synthesize(2, 6, seed=5, **synthesis_start("inferred", 3)))
    np.testing.assert_array_equal(served["burn_in"], random_after_3)
    np.testing.assert_array_equal(served["inferred"], inferred_after_3)
    assert not np.array_equal(random_after_3, inferred_after_3)
    # random_start (or start) + next_chunk is the same stream, chunk by chunk.
    np.testing.assert_array_equal(served["chunks"][:, 3:9], served["burn_in"])
    np.testing.assert_array_equal(served["inferred_chunks"][:, 3:9], served["inferred"])
    np.testing.assert_array_equal(served["signature"].shape, (1, 4, 16, 16, 3))
    # Different seeds give different clips.
    assert not np.array_equal(served["generate_9_2_5"][:, :5], served["generate_5_1_7"].repeat(2, axis=0))


def test_exported_weights_equal_the_trained_ones(trained_run, tmp_path):
    """Regression: the weights are reached through the optimizer; restoring the model alone loads nothing."""
    export_dir = str(tmp_path / "saved")
    assert _export(trained_run, export_dir) == 0
    loaded = tf.saved_model.load(export_dir)
    reader = tf.train.load_checkpoint(runs.RunDirectory(trained_run).checkpoint_dir)
    stored = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
    _, trainer = restore.restore_trainer(trained_run)
    assert len(loaded.weights) == len(trainer.model.weights) >= 10
    for variable in loaded.weights:
        value = variable.numpy()
        matches = [key for key, array in stored.items()
                   if "optimizer" in key and array.shape == value.shape and np.array_equal(array, value)]
        assert matches, f"exported {variable.name} is not a trained weight of the checkpoint"
    fresh = configs.TEXTURE_TINY
    from dynamic_generator.train import DynamicGeneratorTrainer
    initial = DynamicGeneratorTrainer(dataclasses.replace(fresh, num_iterations=4), num_clips=1)
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(initial.model.weights, loaded.weights))
    np.testing.assert_array_equal(loaded.initial_state.numpy(), stored["latents/initial_state/.ATTRIBUTES/VARIABLE_VALUE"])


def test_export_refuses_an_existing_folder_and_leaves_no_partial_export(trained_run, tmp_path, capsys):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    assert _export(trained_run, str(occupied)) == 2
    assert "already exists" in capsys.readouterr().err
    assert os.listdir(occupied) == ["keep.txt"]
    assert not [name for name in os.listdir(tmp_path) if ".partial" in name]


def test_streamed_sampling_writes_the_same_frames_to_one_mp4(trained_run):
    with pytest.raises(SystemExit) as exit_info:
        cli.entry(["main.py", "--mode", "sample", "--workdir", trained_run, "--num_frames", "13", "--num_samples",
                   "2", "--sample_seed", "4", "--stream"])
        raise SystemExit(0)
    assert exit_info.value.code == 0
    path = os.path.join(trained_run, "samples", "stream_13f_seed4.mp4")
    decoded = video_io.read_video(path)
    assert decoded.shape == (13, 16, 34, 3)  # Two 16x16 clips, 2 white pixels apart.
    assert not [name for name in os.listdir(os.path.dirname(path)) if "partial" in name]
    _, trainer = restore.restore_trainer(trained_run)
    expected = video_io.to_uint8(trainer.synthesize(2, 13, seed=4))
    # H.264 is lossy (measured 2.1 levels on average here; a grey clip is 31 away).
    assert np.abs(decoded[:, :, :16].astype(float) - expected[0].astype(float)).mean() < 4
    assert np.abs(decoded[:, :, 18:].astype(float) - expected[1].astype(float)).mean() < 4


SERVE_OTHERS = """
import json, sys
import numpy as np
import tensorflow as tf
sys.path = [p for p in sys.path if p not in ("", {repo!r})]
action = tf.saved_model.load({action!r})
appearance = action.appearances.numpy()[:3]
motion = action.motions.numpy()[:3]
out = {{"action": action.generate(tf.constant(7), tf.constant(2, tf.int64), tf.constant(appearance),
                                  tf.constant(motion)).numpy(), "appearance": appearance, "motion": motion}}
animate = tf.saved_model.load({animate!r})
out["animate"] = animate.animate(tf.constant(np.load({images!r})), tf.constant(6), tf.constant(3, tf.int64)).numpy()
np.savez({result!r}, **out)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in ("common", "data", "dynamic_generator"))))
"""


@pytest.mark.slow
def test_action_and_animate_exports_equal_their_runs_samplers(tmp_path):
    runs_dir = {}
    for experiment in ("action", "animate"):
        runs_dir[experiment] = str(tmp_path / experiment)
        with pytest.raises(SystemExit) as exit_info:
            cli.entry(["main.py", "--experiment", experiment, "--preset", "tiny", "--iterations", "2", "--workdir",
                       runs_dir[experiment]])
            raise SystemExit(0)
        assert exit_info.value.code == 0
        assert _export(runs_dir[experiment], str(tmp_path / f"{experiment}_saved")) == 0
    assert os.path.isfile(tmp_path / "action_saved" / "assets.extra" / "clips.json")
    images = (np.arange(2 * 16 * 16 * 3) % 251).reshape(2, 16, 16, 3).astype(np.uint8)
    np.save(tmp_path / "images.npy", images)
    served = _serve_in_fresh_process(SERVE_OTHERS, tmp_path, action=str(tmp_path / "action_saved"),
                                     animate=str(tmp_path / "animate_saved"), images=str(tmp_path / "images.npy"))

    _, trainer = restore.restore_trainer(runs_dir["action"])
    expected = trainer.synthesize(3, 7, seed=2, random_initial_state=True, appearance=served["appearance"],
                                  motion=served["motion"], num_groups=1)
    np.testing.assert_array_equal(served["action"], video_io.to_uint8(expected))
    np.testing.assert_array_equal(served["appearance"], trainer.latents.appearance.numpy()[:3])

    _, trainer = restore.restore_trainer(runs_dir["animate"])
    reference = np.load(os.path.join(runs_dir["animate"], animation.REFERENCE_FILE))
    expected = trainer.animate(video_io.normalize_frames(images), 6, 1, 3, reference)[:, 0]
    assert served["animate"].shape == (2, 6, 16, 16, 3)
    np.testing.assert_array_equal(served["animate"], video_io.to_uint8(expected))


# ---- spatial-temporal runs (st_generator/export.py) ---------------------------------------------------------------

SERVE_ST = """
import json, sys
import numpy as np
import tensorflow as tf
sys.path = [p for p in sys.path if p not in ("", {repo!r})]
out = {{}}
for name, path in {exports!r}.items():
    model = tf.saved_model.load(path)
    for samples, seed in [(2, 5), (1, 7), (3, 5)]:
        out[f"{{name}}_{{samples}}_{{seed}}"] = model.generate(tf.constant(samples), tf.constant(seed, tf.int64)).numpy()
    serving = model.signatures["generate"](num_samples=tf.constant(1), seed=tf.constant(3, tf.int64))
    out[f"{{name}}_signature"] = list(serving.values())[0].numpy()
np.savez({result!r}, **out)
print(json.dumps(sorted(name for name in sys.modules
                        if name.split(".")[0] in ("common", "data", "dynamic_generator", "st_generator", "main"))))
"""

# (name, argv): Model-1 (larger, longer grid; one segment: per-sample normalisation), Model-2 (longer), Model-3
# (4 segments in one batch: normalisation over the samples together), Model-2 of st_interpolate (masked training),
# and the 3D GAN baseline of st_recover (restored through its own trainer, its generator exported).
ST_RUNS = (("model1", ["--experiment", "st_synthesis", "--model", "1"], (8, 16, 16)),
           ("model2", ["--experiment", "st_synthesis", "--model", "2"], (32, 8, 8)),
           ("model3", ["--experiment", "st_recover", "--init", "li"], (4, 8, 8)),
           ("interpolate", ["--experiment", "st_interpolate"], (16, 8, 8)),
           ("gan", ["--experiment", "st_recover", "--method", "gan"], (4, 8, 8)))  # A baseline's generator too.


@pytest.mark.slow
def test_spatial_temporal_exports_serve_in_a_fresh_process_and_equal_the_run_sampler(tmp_path):
    exports = {}
    for name, argv, _ in ST_RUNS:
        workdir = str(tmp_path / name)
        with pytest.raises(SystemExit) as exit_info:
            cli.entry(["main.py", *argv, "--preset", "tiny", "--iterations", "2", "--workdir", workdir])
            raise SystemExit(0)
        assert exit_info.value.code == 0
        exports[name] = str(tmp_path / f"{name}_saved")
        assert _export(workdir, exports[name]) == 0
    served = _serve_in_fresh_process(SERVE_ST, tmp_path, exports=exports)

    for name, _, shape in ST_RUNS:
        _, trainer = st_restore.restore_trainer(str(tmp_path / name))
        grid = trainer.config.synthesis_grid or None
        for samples, seed in [(2, 5), (1, 7), (3, 5)]:
            got = served[f"{name}_{samples}_{seed}"]
            assert got.dtype == np.uint8 and got.shape == (samples, *shape, 3), (name, got.shape)
            # Z from the stateless stream (seed, 0) in both, the same ops: equal to the last bit.
            np.testing.assert_array_equal(got, video_io.to_uint8(trainer.synthesize(samples, seed, grid)), name)
        assert served[f"{name}_signature"].shape == (1, *shape, 3)
        assert not np.array_equal(served[f"{name}_1_7"][0], served[f"{name}_2_5"][0])  # Seeds differ.
        if trainer.per_sample_normalization:  # Each sample alone: the first of 3 is the first of 2.
            np.testing.assert_array_equal(served[f"{name}_3_5"][:2], served[f"{name}_2_5"])
    _, trainer = st_restore.restore_trainer(str(tmp_path / "model3"))
    assert not trainer.per_sample_normalization
    # The restored (and exported) weights are the trained ones, not a fresh initialisation.
    reader = tf.train.load_checkpoint(runs.RunDirectory(str(tmp_path / "model3")).checkpoint_dir)
    stored = [reader.get_tensor(name) for name in reader.get_variable_to_shape_map()]
    loaded = tf.saved_model.load(exports["model3"])
    assert len(loaded.weights) == len(trainer.model.weights)
    for variable in loaded.weights:
        assert any(np.shape(array) == tuple(variable.shape) and np.array_equal(array, variable.numpy())
                   for array in stored), variable.name
    from st_generator.train import STGeneratorTrainer as STTrainer
    fresh = STTrainer(trainer.config, np.zeros([4, *trainer.config.video_shape, 3], np.float32))
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(fresh.model.weights, loaded.weights))
    config = json.load(open(os.path.join(exports["model1"], "assets.extra", "config.json")))
    assert config["experiment"] == "st_synthesis" and config["model"] == 1
