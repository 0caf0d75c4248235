"""ABPTT on a tiny synthetic clip: truncation, end-to-end run directory, resume, synthesis."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from abp_video import runs
from abp_video.data import sources
from dynamic_generator import configs
from dynamic_generator.experiments import texture
from dynamic_generator.train import DynamicGeneratorTrainer, synthesis_start

TINY = configs.TEXTURE_TINY


def _observed(config=TINY):
    clip = sources.load_clips(config.data, config.num_frames, config.image_size, seed=0)[0]
    return clip.frames[None]


def test_truncation_carries_state_and_infers_s0_on_first_chunk_only():
    trainer = DynamicGeneratorTrainer(TINY, _observed())
    calls = []
    infer, learn = trainer._infer_step, trainer._learn_step

    def spy_infer(observed, noise, state, appearance, first, step_size):
        calls.append(("infer", first, state.numpy()))
        return infer(observed, noise, state, appearance, first, step_size)

    def spy_learn(observed, noise, state, appearance):
        result = learn(observed, noise, state, appearance)
        calls.append(("learn", state.numpy(), result[2].numpy()))
        return result

    trainer._infer_step, trainer._learn_step = spy_infer, spy_learn
    s0_before = trainer.latents.initial_state.numpy()
    trainer.train_iteration()
    kinds = [call[0] for call in calls]
    assert kinds == ["infer", "learn"] * TINY.num_chunks
    assert [call[1] for call in calls if call[0] == "infer"] == [True] + [False] * (TINY.num_chunks - 1)
    learns = [call for call in calls if call[0] == "learn"]
    # Chunk 1 starts from the freshly inferred s_0; chunk k+1 from chunk k's last state.
    np.testing.assert_allclose(learns[0][1], trainer.latents.initial_state.numpy())
    assert not np.allclose(s0_before, trainer.latents.initial_state.numpy())
    for previous, following in zip(learns, learns[1:]):
        np.testing.assert_allclose(following[1], previous[2])
    infers = [call for call in calls if call[0] == "infer"]
    np.testing.assert_allclose(infers[1][2], learns[0][2])


@pytest.mark.parametrize("mixed_precision", [False, True], ids=["float32", "mixed_bfloat16"])
def test_learning_reduces_reconstruction_error(mixed_precision):
    config = dataclasses.replace(TINY, num_iterations=40, mixed_precision=mixed_precision)
    trainer = DynamicGeneratorTrainer(config, _observed(config))
    first = trainer.train_iteration()["recon_mse"]
    for _ in range(39):
        last = trainer.train_iteration()["recon_mse"]
    assert last < 0.5 * first


def test_metropolis_option_reports_acceptance_rate():
    trainer = DynamicGeneratorTrainer(dataclasses.replace(TINY, metropolis=True), _observed())
    metrics = trainer.train_iteration()
    assert 0.0 <= metrics["acceptance_rate"] <= 1.0


def test_end_to_end_run_leaves_checkpoint_events_metrics_and_gif(tmp_path):
    workdir = str(tmp_path / "run")
    [(path, metrics)] = texture.train_texture(TINY, workdir)
    run = runs.RunDirectory(path)
    assert os.path.isfile(os.path.join(run.checkpoint_dir, "checkpoint"))
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(run.tensorboard_dir))
    for name in ("observed_vs_synthesised.gif", "observed_vs_synthesised.mp4", "observed_vs_synthesised_strip.png"):
        assert os.path.getsize(os.path.join(run.samples_dir, name)) > 0
    with open(run.metrics_path) as handle:
        stored = json.load(handle)
    assert stored["iterations"] == TINY.num_iterations
    assert 0.0 < stored["recon_mse"] < 4.0 and stored["seconds_per_iteration"] > 0
    assert json.load(open(run.config_path))["preset"] == "tiny"
    assert [row["iteration"] for row in run.read_history()] == [1, 2, 3]
    # The reported MSE is after REFRESH_SWEEPS sweeps with the final weights, from the checkpointed latents.
    clip = sources.load_clips(TINY.data, TINY.num_frames, TINY.image_size, TINY.seed)[0]
    restored = DynamicGeneratorTrainer(TINY, clip.frames[None])
    runs.Checkpointer(run.checkpoint_dir, **restored.trackables()).restore_or_initialize()
    assert stored["recon_mse_last_iteration"] == pytest.approx(restored.reconstruction_mse(), rel=1e-5)
    for _ in range(configs.REFRESH_SWEEPS):
        restored.infer_iteration()
    assert stored["recon_mse"] == pytest.approx(restored.reconstruction_mse(), rel=1e-5)
    assert stored["recon_mse"] != stored["recon_mse_last_iteration"]
    # Scalars reached TensorBoard under train/.
    tags = set()
    for event_file in os.listdir(run.tensorboard_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(run.tensorboard_dir, event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert {"train/loss", "train/recon_mse", "train/iterations_per_sec"} <= tags


@pytest.mark.slow
def test_resume_equals_uninterrupted_run(tmp_path):
    config = dataclasses.replace(TINY, num_iterations=4, checkpoint_every=2)
    straight = DynamicGeneratorTrainer(config, _observed(config))
    for _ in range(4):
        straight.train_iteration()

    run = runs.RunDirectory(str(tmp_path / "resumed"))
    run.prepare(dataclasses.replace(config, num_iterations=2))
    first = DynamicGeneratorTrainer(dataclasses.replace(config, num_iterations=2), _observed(config))
    from abp_video.loop import run_training
    run_training(first, run, "first half")
    del first
    second = DynamicGeneratorTrainer(config, _observed(config))  # A new process would build it afresh like this.
    run_training(second, run, "second half")
    assert int(second.iteration.numpy()) == 4
    np.testing.assert_allclose(second.latents.noise.numpy(), straight.latents.noise.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second.latents.initial_state.numpy(), straight.latents.initial_state.numpy(),
                               rtol=1e-5, atol=1e-6)
    for resumed, uninterrupted in zip(second.model.weights, straight.model.weights):
        np.testing.assert_allclose(resumed.numpy(), uninterrupted.numpy(), rtol=1e-5, atol=1e-6)
    assert [row["iteration"] for row in run.read_history()] == [1, 2, 3, 4]


def test_synthesis_any_length_streams_in_chunks_and_is_repeatable():
    trainer = DynamicGeneratorTrainer(TINY, _observed())
    for variable in trainer.model.transition.trainable_variables:  # A transition that listens to the noise.
        variable.assign(tf.random.stateless_normal(variable.shape, seed=[1, 2]) * 0.5)
    chunks = list(trainer.synthesize_chunks(num_samples=2, num_frames=11, seed=5, burn_in=3))
    assert all(chunk.shape[1] <= TINY.chunk_length for chunk in chunks)
    video = np.concatenate(chunks, axis=1)
    assert video.shape == (2, 11, 16, 16, 3)
    np.testing.assert_array_equal(video, trainer.synthesize(2, 11, seed=5, burn_in=3))
    other = trainer.synthesize(2, 11, seed=6, burn_in=3)
    assert np.abs(video - other).max() > 0.01 * np.abs(video).max()
    # Burn-in drops the first frames of the same stream.
    np.testing.assert_allclose(trainer.synthesize(2, 8, seed=5, burn_in=0)[:, 3:], video[:, :5], rtol=1e-5)


def test_synthesis_starts_from_a_random_initial_state_after_burn_in_by_default():
    """§4.1: s_0 ~ N(0, I) and a burn-in; the inferred s_0 (the authors' start) is the option."""
    assert synthesis_start() == dict(random_initial_state=True, burn_in=configs.SYNTHESIS_BURN_IN)
    assert synthesis_start("inferred") == dict(random_initial_state=False, burn_in=0)
    assert synthesis_start("random", 0) == dict(random_initial_state=True, burn_in=0)
    with pytest.raises(ValueError, match="--synthesis_start must be one of"):
        synthesis_start("first_frame")
    with pytest.raises(ValueError, match="--burn_in must not be negative"):
        synthesis_start("inferred", -2)
    trainer = DynamicGeneratorTrainer(TINY, _observed())
    inferred = trainer.synthesize(2, 4, seed=5, **synthesis_start("inferred"))
    random = trainer.synthesize(2, 4, seed=5, **synthesis_start("random", 0))
    # Every sample of the inferred start begins at the clip's s_0; random starts differ between samples and seeds.
    np.testing.assert_allclose(inferred[0, 0], inferred[1, 0], atol=0.05)
    assert np.abs(random[0, 0] - inferred[0, 0]).max() > 1e-3
    assert np.abs(random - trainer.synthesize(2, 4, seed=6, **synthesis_start("random", 0))).max() > 1e-3


def test_existing_run_of_other_configuration_is_refused(tmp_path):
    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(TINY)
    with pytest.raises(ValueError, match="another configuration.*state_dim"):
        run.prepare(dataclasses.replace(TINY, state_dim=7))
    assert run.prepare(dataclasses.replace(TINY, num_iterations=10)) is True  # Extending is resuming.


def test_transition_units_stay_alive_so_noise_drives_the_samples():
    """Regression: with the authors' N(0, 0.001²) MLP start, Adam's first steps killed most layer-2 ReLUs."""
    config = dataclasses.replace(TINY, num_iterations=60)
    trainer = DynamicGeneratorTrainer(config, _observed(config))
    for _ in range(60):
        trainer.train_iteration()
    inputs = tf.concat([tf.random.stateless_normal([2000, config.noise_dim], seed=[0, 1]),
                        tf.tanh(tf.random.stateless_normal([2000, config.state_dim], seed=[0, 2]))], axis=1)
    hidden = inputs
    for layer in trainer.model.transition.hidden:
        hidden = layer(hidden)
        alive = int(np.sum(np.max(hidden.numpy(), axis=0) > 0))
        assert alive >= 0.75 * hidden.shape[1], f"only {alive} of {hidden.shape[1]} units of {layer.name} alive"
    first, second = trainer.synthesize(1, 16, seed=0), trainer.synthesize(1, 16, seed=1)
    assert np.abs(first - second).mean() > 1e-3


@pytest.mark.parametrize("flags, has_gpu, warns", [
    ("fpu avx2 fma", False, True),                    # AVX2 only: bfloat16 emulated.
    ("fpu avx512f avx512_bf16", False, False),        # Native bfloat16 dot products.
    ("fpu avx512f amx_bf16 amx_tile", False, False),  # AMX.
    ("fpu avx2 fma", True, False),                    # A GPU computes the convolutions.
])
def test_mixed_precision_warns_only_where_bfloat16_is_emulated(flags, has_gpu, warns):
    cpuinfo = f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n"
    warning = runs.bfloat16_warning(cpuinfo, has_gpu)
    assert (warning is not None) == warns
    if warns:
        assert "--mixed_precision" in warning and "slower than float32" in warning
    assert runs.bfloat16_warning("", has_gpu) is None  # Nothing known about the CPU: no warning.
