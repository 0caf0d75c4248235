"""Many clips, one motion model (AAAI'19 §4.2): appearance/motion vectors, mini-batches, action runs, Figure 4."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from abp_video.data import sources, synthetic
from abp_video import runs
from abp_video.configs import with_settings
from dynamic_generator import configs, restore
from dynamic_generator.experiments import action
from dynamic_generator.models import DynamicGenerator
from dynamic_generator.train import DynamicGeneratorTrainer

TINY = configs.ACTION_TINY
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _clips(num_clips=4, config=TINY):
    clips = sources.load_clips("synthetic:actions", config.num_frames, config.image_size, seed=0)[:num_clips]
    return np.stack([clip.frames for clip in clips])


def test_appearance_and_motion_enter_emission_and_transition():
    model = DynamicGenerator(TINY)
    model.build_all(batch_size=3)
    first_deconvolution = model.emission.deconvolutions[0].kernel
    # Conv2DTranspose kernel [k, k, out, in]: the emission reads [a, s_t].
    assert first_deconvolution.shape[-1] == TINY.appearance_dim + TINY.state_dim
    # The transition's first layer reads [m, ξ_t, s_{t-1}].
    assert model.transition.hidden[0].kernel.shape[0] == TINY.motion_dim + TINY.noise_dim + TINY.state_dim
    noise = tf.random.normal([2, 3, TINY.noise_dim])
    state = tf.random.normal([2, TINY.state_dim])
    appearance = tf.random.normal([2, TINY.appearance_dim])
    motion = tf.random.normal([2, TINY.motion_dim])
    frames, _ = model(noise, state, appearance, motion)
    assert frames.shape == (2, 3, TINY.image_size, TINY.image_size, 3)
    # Each vector changes the frames.
    assert not np.allclose(frames, model(noise, state, appearance + 1.0, motion)[0])
    assert not np.allclose(model(noise, state, appearance, motion)[1], model(noise, state, appearance, motion + 1.0)[1])


def test_mini_batches_cover_every_clip_once_and_infer_every_latent():
    observed = _clips(5)
    trainer = DynamicGeneratorTrainer(TINY, observed)  # batch_size 2: clips [0, 1], [2, 3], [4].
    assert trainer.batches == [slice(0, 2), slice(2, 4), slice(4, 5)]
    sizes = []
    infer = trainer._infer_step

    def spy(observed, noise, state, vectors, first, step_size, **mask):
        sizes.append(int(observed.shape[0]))
        return infer(observed, noise, state, vectors, first, step_size, **mask)

    trainer._infer_step = spy
    before = {name: getattr(trainer.latents, name).numpy()
              for name in ("noise", "initial_state", "appearance", "motion")}
    trainer.train_iteration()
    assert sizes == [2, 2, 2, 2, 1, 1]  # Two chunks per batch, vectorised over the batch's clips.
    for name, value in before.items():
        after = getattr(trainer.latents, name).numpy()
        # Every clip's latents moved (Langevin on ξ, s_0, a and m of every clip).
        assert all(not np.allclose(value[i], after[i]) for i in range(len(observed))), name


@pytest.mark.slow
def test_action_run_writes_figure3_and_held_out_mse_and_resumes(tmp_path):
    config = with_settings(TINY, dict(num_held_out=2, num_iterations=2))
    path, result = action.train_action(config, str(tmp_path / "run"), inference_iterations=2)
    with open(os.path.join(path, "clips.json")) as handle:
        names = json.load(handle)
    assert len(names["training"]) == 10 and len(names["held_out"]) == 2
    assert not set(names["training"]) & set(names["held_out"])
    assert set(result["recon_mse_per_clip"]) == set(names["training"])
    assert set(result["held_out_recon_mse_per_clip"]) == set(names["held_out"])
    for name in ("figure3.gif", "figure3_strip.png", "figure3_held_out.gif"):
        assert os.path.isfile(os.path.join(path, "samples", name))
    assert os.listdir(os.path.join(path, "ckpt")) and os.listdir(os.path.join(path, "tb"))
    # Resuming restores the latents of every training clip (appearance included) and goes on.
    _, trainer = restore.restore_trainer(path)
    appearance = trainer.latents.appearance.numpy()
    assert appearance.shape == (10, TINY.appearance_dim)
    _, resumed = action.train_action(dataclasses.replace(config, num_iterations=3), path, 2)
    assert resumed["iterations"] == 3


@pytest.mark.slow
def test_inference_on_new_clips_keeps_weights_and_explains_the_clips(tmp_path):
    config = dataclasses.replace(TINY, num_iterations=4)
    path, _ = action.train_action(config, str(tmp_path / "run"))
    run = runs.RunDirectory(path)
    new_clips = sources.load_clips("synthetic:actions", TINY.num_frames, TINY.image_size, seed=7)[:3]
    prior = action._frozen_trainer(config, run, np.stack([clip.frames for clip in new_clips]))
    prior_mse = np.mean(list(action.mse_per_clip(prior.reconstruct(), new_clips).values()))
    trainer, mse, _ = action.infer_clips(config, run, new_clips, num_iterations=4)
    _, trained = restore.restore_trainer(path)
    for weight, trained_weight in zip(trainer.model.weights, trained.model.weights):
        np.testing.assert_array_equal(weight.numpy(), trained_weight.numpy())
    # The weights are the trained ones, not a fresh initialisation (restoring the model alone loads nothing).
    fresh = DynamicGeneratorTrainer(config, num_clips=1)
    assert any(not np.allclose(a.numpy(), b.numpy()) for a, b in zip(fresh.model.weights, trainer.model.weights))
    assert np.mean(list(mse.values())) < prior_mse


def test_interpolation_shares_noise_and_state_and_moves_between_appearances(tmp_path):
    config = dataclasses.replace(TINY, num_iterations=2)
    path, _ = action.train_action(config, str(tmp_path / "run"))
    names = json.load(open(os.path.join(path, "clips.json")))["training"]
    captured = []
    original = DynamicGeneratorTrainer.synthesize

    def spy(self, *args, **kwargs):
        videos = original(self, *args, **kwargs)
        captured.append((kwargs["appearance"], videos))
        return videos

    DynamicGeneratorTrainer.synthesize = spy
    try:
        action.interpolate(path, [names[0], names[0]], steps=3)
        action.interpolate(path, [names[0], names[1]], steps=3)
    finally:
        DynamicGeneratorTrainer.synthesize = original
    (_, same), (appearance, videos) = captured
    # One ξ and s_0 for all steps: the same appearance at every step gives the same video.
    np.testing.assert_allclose(same[0], same[2], atol=1e-6)
    _, trainer = restore.restore_trainer(path)
    np.testing.assert_allclose(appearance[0], trainer.latents.appearance.numpy()[0], rtol=1e-6)
    np.testing.assert_allclose(appearance[2], trainer.latents.appearance.numpy()[1], rtol=1e-6)
    np.testing.assert_allclose(appearance[1], appearance[[0, 2]].mean(axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(videos[0], videos[2])
    assert os.path.isfile(os.path.join(path, "samples", f"interpolate_{names[0]}_{names[1]}.gif"))


def test_synthetic_actions_are_deterministic_periodic_and_varied():
    first = synthetic.action_dataset(24, 16, seed=3)
    again = synthetic.action_dataset(24, 16, seed=3)
    other = synthetic.action_dataset(24, 16, seed=4)
    assert [name for name, _ in first] == [name for name, _ in again]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(first, again))
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, other))
    clip = synthetic.action_clip("disc", (255, 0, 0), (0, 0, 0), "circle", 20, 16, period=10)
    np.testing.assert_array_equal(clip[0], clip[10])  # One period later, the same frame.
    assert not np.array_equal(clip[0], clip[5])
    assert len({name.split("_")[-1] for name, _ in first}) > 1  # Several motions among the clips.


def test_action_needs_several_clips_and_an_appearance(tmp_path):
    workdir = tmp_path / "run"
    result = subprocess.run([sys.executable, os.path.join(REPO, "main.py"), "--experiment", "action", "--preset",
                             "tiny", "--data", "synthetic:fire", "--workdir", str(workdir)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 2 and "holds one clip" in result.stderr, result.stderr
    assert not workdir.exists()
    with pytest.raises(ValueError, match="appearance_dim"):
        action.load_action_clips(dataclasses.replace(TINY, appearance_dim=0))
    with pytest.raises(ValueError, match="leaves no training clip"):
        action.load_action_clips(with_settings(TINY, dict(num_held_out=12)))
