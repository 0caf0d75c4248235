"""Animating a static image (AAAI'19 §4.5): the encoder, ABPTT on ξ only with α, β, γ learned, and the runs."""

import os

import numpy as np
import pytest
from PIL import Image

from abp_video.data import sources
from abp_video.configs import with_settings
from dynamic_generator import configs, restore
from dynamic_generator.experiments import animate
from dynamic_generator.models import ImageEncoder
from dynamic_generator.animation import AnimationTrainer

TINY = configs.ANIMATE_TINY


def _clips(num_clips=4, config=TINY):
    clips = sources.load_clips("synthetic:actions", config.num_frames + 1, config.image_size, seed=0)[:num_clips]
    return np.stack([clip.frames for clip in clips])


def test_paper_encoder_shapes_and_parameter_count():
    paper = configs.ANIMATE_PAPER
    encoder = ImageEncoder(paper.state_dim, paper.appearance_dim, paper.encoder.encoder_filters,
                           paper.encoder.encoder_kernels, paper.encoder.encoder_strides)
    state, appearance = encoder(np.zeros([2, 64, 64, 3], np.float32))
    assert state.shape == (2, 80) and appearance.shape == (2, 100)
    convolutions = (5 * 5 * 3 * 64 + 64) + (3 * 3 * 64 * 128 + 128) + (3 * 3 * 128 * 256 + 256)
    dense = 16 * 16 * 256 * 180 + 180  # Strides 2, 2, 1: 64 -> 16.
    assert encoder.count_params() == convolutions + dense
    assert paper.noise_dim == 20 and paper.state_dim == 80


def test_langevin_moves_only_noise_and_learning_updates_encoder_and_generator():
    trainer = AnimationTrainer(TINY, _clips())
    flags = []
    learn = trainer._learn_step

    def spy(observed, noise, first_frames, state, first_chunk):
        flags.append(first_chunk)
        return learn(observed, noise, first_frames, state, first_chunk)

    trainer._learn_step = spy
    encoder = [weight.numpy() for weight in trainer.encoder.weights]
    generator = [weight.numpy() for weight in trainer.model.weights]
    noise = trainer.latents.noise.numpy()
    unused = trainer.latents.initial_state.numpy()
    trainer.train_iteration()
    # Chunks in order per mini-batch: the encoder's s_0 starts the first chunk only.
    assert flags == [True, False] * len(trainer.batches)
    assert not np.allclose(noise, trainer.latents.noise.numpy())
    np.testing.assert_array_equal(unused, trainer.latents.initial_state.numpy())  # s_0 is not a latent here.
    assert all(not np.allclose(a, b.numpy()) for a, b in zip(encoder, trainer.encoder.weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(generator, trainer.model.weights))


def test_animation_is_repeatable_by_seed_and_varies_with_the_noise():
    observed = _clips()
    trainer = AnimationTrainer(TINY, observed)
    first = trainer.animate(observed[:1, 0], 6, 2, seed=3, reference_images=observed[1:, 0])
    again = trainer.animate(observed[:1, 0], 6, 2, seed=3, reference_images=observed[1:, 0])
    assert first.shape == (1, 2, 6, TINY.image_size, TINY.image_size, 3)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first[0, 0], first[0, 1])


def test_prediction_errors_against_truth_and_copy_baseline():
    frames = np.random.default_rng(0).uniform(-1, 1, (8, 4, 4, 3)).astype(np.float32)
    clip = sources.Clip("c", frames, "x")
    perfect = np.stack([frames[1:], frames[1:] + 0.5])[None]
    row = animate.prediction_errors(perfect, [clip])["c"]
    assert row["best_of_k"] == 0.0
    assert row["mean_over_k"] == pytest.approx(0.125)
    assert row["copy_first_frame"] == pytest.approx(np.mean(np.square(frames[1:] - frames[0])))


@pytest.mark.slow
def test_animate_run_and_animating_an_image_file(tmp_path):
    config = with_settings(TINY, dict(num_held_out=2, num_iterations=2))
    path, result = animate.train_animate(config, str(tmp_path / "run"))
    assert result["evaluated_on"] == "held_out" and len(result["prediction_mse_per_clip"]) == 2
    assert {"best_of_k", "mean_over_k", "copy_first_frame"} <= set(result["prediction_mse"])
    assert result["prediction_mse"]["best_of_k"] <= result["prediction_mse"]["mean_over_k"]
    assert os.path.isfile(os.path.join(path, "samples", "figure7_held_out_strip.png"))
    image = tmp_path / "still.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 30, 3), np.uint8)).save(image)
    paths = animate.animate_image(path, str(image), num_frames=5, num_samples=2)
    assert all(os.path.isfile(p) for p in paths)
    with pytest.raises(FileNotFoundError, match="no/such.png"):
        animate.animate_image(path, "/no/such.png")
    # The restored run animates with its trained encoder (the checkpoint holds it).
    _, restored = restore.restore_trainer(path)
    fresh = AnimationTrainer(config, num_clips=1)
    assert any(not np.allclose(a.numpy(), b.numpy()) for a, b in zip(fresh.encoder.weights, restored.encoder.weights))
