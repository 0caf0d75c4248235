"""Learning from incomplete videos (AAAI'19 §4.3): the masked energy ignores occluded pixels."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from data import sources
from dynamic_generator import configs
from dynamic_generator.train import Trainer, reconstruction_weight

TINY = configs.TEXTURE_TINY


def _observed(config=TINY):
    return sources.load_clips(config.data, config.num_frames, config.image_size, seed=0)[0].frames[None]


def _visible(shape, seed=0):
    """Random occlusion: a block in some frames and scattered pixels, 1 = visible."""
    rng = np.random.default_rng(seed)
    visible = (rng.random(shape[:-1] + (1,)) > 0.3).repeat(3, axis=-1).astype(np.float32)
    visible[:, 2:5, 4:12, 3:9] = 0.0
    return visible


def _scrambled(observed, visible, seed=1):
    """The same clip with every occluded value replaced by noise."""
    noise = np.random.default_rng(seed).uniform(-1, 1, observed.shape).astype(np.float32)
    return np.where(visible > 0, observed, noise)


@pytest.mark.parametrize("energy_scale", ["authors", "sum"])
def test_masked_energy_and_gradients_ignore_occluded_pixels(energy_scale):
    config = dataclasses.replace(TINY, energy_scale=energy_scale)
    observed = _observed(config)
    visible = _visible(observed.shape)
    other = _scrambled(observed, visible)
    trainer = Trainer(config, observed, visible=visible)
    chunk = slice(0, config.chunk_length)
    noise = tf.Variable(trainer.latents.noise[:, chunk])
    state = tf.Variable(trainer.latents.initial_state)

    def energy_and_gradients(clip):
        with tf.GradientTape() as tape:
            frames, _ = trainer.model(noise, state)
            energy = tf.reduce_sum(trainer.reconstruction_energy(tf.constant(clip[:, chunk]), frames,
                                                                 trainer.visible[:, chunk]))
        return energy, tape.gradient(energy, [noise, state] + trainer.model.trainable_variables)

    energy_a, gradients_a = energy_and_gradients(observed)
    energy_b, gradients_b = energy_and_gradients(other)
    np.testing.assert_allclose(energy_a.numpy(), energy_b.numpy(), rtol=1e-6)
    for a, b in zip(gradients_a, gradients_b):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
    # Without the mask the scrambled pixels do change the energy: the test can fail.
    frames, _ = trainer.model(noise, state)
    unmasked_a = trainer.reconstruction_energy(tf.constant(observed[:, chunk]), frames)
    unmasked_b = trainer.reconstruction_energy(tf.constant(other[:, chunk]), frames)
    assert abs(float(unmasked_a[0]) - float(unmasked_b[0])) > 1e-3 * abs(float(unmasked_a[0]))
    # The masked energy is the weighted sum over visible values, with the documented weight.
    residual = np.square(observed[:, chunk] - frames.numpy()) * visible[:, chunk]
    count = visible[:, chunk].sum()
    weight = 1 / (2 * config.sigma ** 2) / (count if energy_scale == "authors" else 1.0)
    np.testing.assert_allclose(energy_a.numpy(), weight * residual.sum(), rtol=1e-5)


def test_masked_weight_conventions():
    paper = dataclasses.replace(TINY, sigma=0.5)
    assert float(reconstruction_weight(paper, 1, num_visible=1000)) == pytest.approx(2.0 / 1000)
    assert float(reconstruction_weight(dataclasses.replace(paper, energy_scale="sum"), 1, num_visible=1000)) == 2.0
    assert float(reconstruction_weight(paper, 1, num_visible=0)) == 2.0  # No visible value: no division by zero.


def test_training_on_incomplete_clip_does_not_see_occluded_pixels():
    """Two runs whose clips differ only where occluded end with identical latents and weights."""
    config = dataclasses.replace(TINY, num_iterations=2)
    observed = _observed(config)
    visible = _visible(observed.shape)
    runs = []
    for clip in (observed, _scrambled(observed, visible)):
        trainer = Trainer(config, clip, visible=visible)
        for _ in range(2):
            metrics = trainer.train_iteration()
        runs.append((trainer, metrics))
    (a, metrics_a), (b, metrics_b) = runs
    np.testing.assert_allclose(a.latents.noise.numpy(), b.latents.noise.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.latents.initial_state.numpy(), b.latents.initial_state.numpy(), rtol=1e-5, atol=1e-6)
    for wa, wb in zip(a.model.weights, b.model.weights):
        np.testing.assert_allclose(wa.numpy(), wb.numpy(), rtol=1e-5, atol=1e-6)
    assert metrics_a["loss"] == pytest.approx(metrics_b["loss"], rel=1e-5)
    assert metrics_a["recon_mse"] == pytest.approx(metrics_b["recon_mse"], rel=1e-5)
    # An unmasked trainer on the scrambled clip learns something else.
    c = Trainer(config, _scrambled(observed, visible))
    for _ in range(2):
        c.train_iteration()
    assert max(np.abs(wa.numpy() - wc.numpy()).max() for wa, wc in zip(a.model.weights, c.model.weights)) > 1e-4


def test_mask_of_wrong_shape_names_both_shapes():
    observed = _observed()
    with pytest.raises(ValueError, match=r"\(1, 8, 16, 16, 3\).*\(1, 8, 8, 8, 3\)|\(1, 8, 8, 8, 3\).*\(1, 8, 16, 16, 3\)"):
        Trainer(TINY, observed, visible=np.ones((1, 8, 8, 8, 3), np.float32))
