"""Normalisation statistics over what is observed: the occluded positions have no say in the visible fit."""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from abp_video import configs as common_configs, runs
from abp_video.layers import FrameNormalization, visibility_weights
from abp_video.data import masks
from dynamic_generator import configs as dg_configs
from dynamic_generator.models import DynamicGenerator, EmissionModel
from dynamic_generator.train import RecoveryTrainer
from st_generator import configs as st_configs
from st_generator.models import SpatialTemporalGenerator, normalize_videos
from st_generator.experiments.base import load_segments, segment_masks
from st_generator.train import STGeneratorTrainer as STTrainer


def _activations(seed=0):
    return tf.random.stateless_normal([6, 4, 4, 3], seed=[seed, 0]) * 3.0 + tf.constant([1.0, -5.0, 2.0])


def test_weighted_statistics_ignore_positions_of_weight_zero():
    layer = FrameNormalization()
    inputs = _activations()
    layer(inputs)
    layer.beta.assign([0.1, -0.2, 0.3])
    weights = np.ones([6, 4, 4, 1], np.float32)
    weights[2:4] = 0.0  # Two whole frames unobserved...
    weights[0, :2, :, :] = 0.0  # ... and the top half of another.
    hidden = weights[..., 0] == 0
    changed = inputs.numpy().copy()
    changed[hidden] = np.random.default_rng(0).normal(size=changed[hidden].shape) * 50.0 + 20.0
    before = layer(inputs, weights=tf.constant(weights)).numpy()
    after = layer(tf.constant(changed), weights=tf.constant(weights)).numpy()
    np.testing.assert_allclose(after[~hidden], before[~hidden], rtol=1e-5, atol=1e-5)
    # The plain statistics do move with them: the test above can fail.
    plain_before, plain_after = layer(inputs).numpy(), layer(tf.constant(changed)).numpy()
    assert np.abs(plain_after[~hidden] - plain_before[~hidden]).max() > 0.1
    # Over the visible positions the result has mean β and unit variance.
    visible = before[~hidden] - layer.beta.numpy()
    np.testing.assert_allclose(visible.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(visible.var(axis=0), 1.0, rtol=1e-2)


@pytest.mark.parametrize("num_groups", [1, 2])
def test_all_visible_weights_equal_the_plain_layer(num_groups):
    layer = FrameNormalization()
    inputs = _activations(1)
    layer(inputs)
    layer.beta.assign([0.5, 0.0, -1.0])
    ones = tf.ones([6, 4, 4, 1])
    np.testing.assert_allclose(layer(inputs, num_groups=num_groups, weights=ones).numpy(),
                               layer(inputs, num_groups=num_groups).numpy(), rtol=1e-4, atol=1e-4)
    # A group with nothing observed falls back on its plain statistics instead of dividing by zero.
    np.testing.assert_allclose(layer(inputs, num_groups=num_groups, weights=0.0 * ones).numpy(),
                               layer(inputs, num_groups=num_groups).numpy(), rtol=1e-4, atol=1e-4)


def test_weighted_statistics_keep_bfloat16_activations():
    layer = FrameNormalization()
    inputs = _activations(2)
    layer(inputs)
    weights = tf.constant(np.random.default_rng(1).uniform(size=[6, 4, 4, 1]), tf.float32)
    outputs = layer(tf.cast(inputs, tf.bfloat16), weights=weights)
    assert outputs.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(outputs, tf.float32).numpy(), layer(inputs, weights=weights).numpy(),
                               atol=0.05)


def test_visibility_weights_pool_the_mask_to_each_grid():
    visible = np.ones([1, 8, 8, 8, 3], np.float32)
    visible[0, 2:4] = 0.0  # Frames 2-3 blocked.
    visible[0, :, :4, :4] = 0.0  # And a quarter of every frame.
    weights = visibility_weights(tf.constant(visible), (2, 2, 2)).numpy()
    assert weights.shape == (1, 2, 2, 2, 1)
    # Time cell 0 holds frames 0-3 (half blocked); its top-left spatial cell is blocked in every frame.
    np.testing.assert_allclose(weights[0, :, :, :, 0], [[[0.0, 0.5], [0.5, 0.5]], [[0.0, 1.0], [1.0, 1.0]]])
    # A grid as fine as the output is the mask itself; sizes need not divide (144 cells of a 150 output).
    np.testing.assert_allclose(visibility_weights(tf.constant(visible), (8, 8, 8)).numpy()[..., 0],
                               visible[..., 0])
    uneven = visibility_weights(tf.ones([2, 150, 150, 3]), (144, 144)).numpy()
    np.testing.assert_allclose(uneven, 1.0)


def _st_config(**settings):
    return dataclasses.replace(st_configs.INTERPOLATE_TINY, **settings).validate()


def test_st_generator_first_layer_ignores_steps_under_blocked_frames():
    """Model-2's first layer makes each latent step's activations alone (a 4x4x1 kernel): change the steps whose
    frames are all blocked and, with masked statistics, the normalised activations of every other step stay put
    (with plain statistics they move). Later layers mix neighbouring steps, so that a change there also reaches
    visible frames through the convolutions themselves, as it should."""
    config = _st_config(num_frames=32, latent_grid=(16, 1, 1))
    keras.utils.set_random_seed(0)
    model = SpatialTemporalGenerator(config.model, config.generator_filters, config.first_kernel_time)
    latents = tf.random.normal([1, *config.latent_grid, config.latent_channels])
    model(latents)
    visible = masks.generate_mask("middle_frames", config.num_frames, config.image_size, seed=0)[None]
    assert np.array_equal(np.flatnonzero(visible[0, :, 0, 0, 0] == 0), np.arange(12, 20))  # Steps 6-9 whole.
    changed = latents.numpy().copy()
    changed[0, 6:10] += 5.0

    def first_layer(z, mask):
        return normalize_videos(model.normalizations[0], model.deconvolutions[0](z), visible=mask).numpy()

    others = np.r_[0:6, 10:16]
    masked = [first_layer(z, tf.constant(visible)) for z in (latents, tf.constant(changed))]
    np.testing.assert_allclose(masked[1][0, others], masked[0][0, others], atol=1e-5)
    plain = [first_layer(z, None) for z in (latents, tf.constant(changed))]
    assert np.abs(plain[1][0, others] - plain[0][0, others]).max() > 1e-2
    # With every frame visible the masked model is the plain one.
    ones = tf.ones_like(tf.constant(visible))
    np.testing.assert_allclose(model(latents, visible=ones).numpy(), model(latents).numpy(), atol=1e-5)


def test_dg_emission_ignores_missing_frames_in_its_statistics():
    keras.utils.set_random_seed(0)
    model = EmissionModel((16, 8, 3), (4, 4, 4), (2, 2, 2))
    states = tf.random.normal([1, 6, 5])
    visible = np.ones([1, 6, 8, 8, 3], np.float32)
    visible[0, 2:4] = 0.0
    visible[0, :, :4] = 0.0  # And the top half of every frame.
    changed = states.numpy().copy()
    changed[0, 2:4] = 10.0  # The states of the missing frames.
    masked = [model(s, visible=tf.constant(visible)).numpy() for s in (states, tf.constant(changed))]
    np.testing.assert_allclose(masked[1][0, [0, 1, 4, 5]], masked[0][0, [0, 1, 4, 5]], atol=1e-5)
    plain = [model(s).numpy() for s in (states, tf.constant(changed))]
    assert np.abs(plain[1][0, [0, 1, 4, 5]] - plain[0][0, [0, 1, 4, 5]]).max() > 1e-3
    np.testing.assert_allclose(model(states, visible=tf.ones([1, 6, 8, 8, 3])).numpy(), plain[0], atol=1e-5)


def test_st_training_fit_does_not_move_with_occluded_values(tmp_path):
    """A tiny st_interpolate fit: the occluded pixel values, whatever they are, change nothing of the run."""
    config = _st_config(num_iterations=2)
    clip = np.random.default_rng(0).uniform(-1, 1, [1, config.num_frames, config.image_size, config.image_size, 3])
    visible = masks.generate_mask("middle_frames", config.num_frames, config.image_size, seed=0)[None]
    noise = np.random.default_rng(1).uniform(-1, 1, clip.shape)
    results = []
    for observed in (clip, np.where(visible > 0, clip, noise)):
        trainer = STTrainer(config, observed.astype(np.float32), visible)
        assert trainer.masked_statistics
        for _ in range(2):
            trainer.train_iteration()
        results.append((trainer.latents.numpy(), trainer.reconstruct()))
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=1e-6)


def test_dg_recovery_fit_does_not_move_with_occluded_values():
    """A tiny recover fit on a clip with missing frames: the occluded values change nothing of the run."""
    config = dg_configs.RECOVER_TINY
    assert config.incomplete.normalization_statistics == "visible"
    shape = (config.num_frames, config.image_size, config.image_size, 3)
    clip = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    visible = np.ones(shape, np.float32)
    visible[2:4] = 0.0  # Two missing frames, and the top rows of every frame.
    visible[:, :3] = 0.0
    noise = np.random.default_rng(1).uniform(-1, 1, shape).astype(np.float32)
    results = []
    for original in (clip, np.where(visible > 0, clip, noise)):
        trainer = RecoveryTrainer(config, original, visible)
        assert trainer.masked_statistics
        for _ in range(2):
            trainer.train_iteration()
        results.append((trainer.latents.noise.numpy(), trainer.reconstruct()))
    np.testing.assert_allclose(results[1][0], results[0][0], atol=1e-6)
    np.testing.assert_allclose(results[1][1], results[0][1], atol=1e-6)


@pytest.mark.parametrize("model", ["st", "dg"])
def test_stored_configs_without_the_setting_read_as_all(tmp_path, model):
    if model == "st":
        config, config_class = _st_config(), st_configs.STConfig
        read = lambda stored: stored.normalization_statistics  # noqa: E731
    else:
        config, config_class = dg_configs.RECOVER_TINY, dg_configs.DynamicGeneratorConfig
        read = lambda stored: stored.incomplete.normalization_statistics  # noqa: E731

    def drop_setting(values):
        values.get("incomplete", values).pop("normalization_statistics")
        return values

    assert read(config) == "visible"
    path = tmp_path / "old"
    path.mkdir()
    (path / "config.json").write_text(json.dumps(drop_setting(common_configs.to_dict(config))))
    run = runs.RunDirectory(str(path))
    assert read(run.read_config(config_class)) == "all"
    # The flat form of older versions too.
    flat = drop_setting({key: value for key, value in common_configs.flatten(common_configs.to_dict(config)).items()
                         if key not in ("incomplete", "clips", "encoder")})
    (path / "config.json").write_text(json.dumps(flat))
    assert read(run.read_config(config_class)) == "all"
    # A directory made before (a table's cell) refuses the new default by name.
    with pytest.raises(ValueError, match="normalization_statistics: 'all' there, 'visible' now"):
        run.prepare(config)


@pytest.mark.slow
def test_blocked_frames_of_a_small_st_interpolate_fit_are_not_grey():
    """Model-2 on 32 frames of 8x8 with 8 blocked in the middle, 100 iterations: with masked statistics the
    recovered blocked frames have the visible frames' contrast; with the authors' statistics over every position
    they come out grey (measured: contrast 0.22 against 0.16 visible, and 0.03; error 0.26 against 0.82)."""
    contrast = {}
    for statistics in ("visible", "all"):
        config = _st_config(num_iterations=100, num_langevin_steps=10, num_frames=32, latent_grid=(16, 1, 1),
                            generator_filters=(16, 8, 3), normalization_statistics=statistics)
        _, segments = load_segments(dataclasses.replace(config, max_segments=1))
        visible = segment_masks(config.mask_type, segments.shape, config.seed)
        trainer = STTrainer(config, segments, visible)
        trainer.original = segments
        for _ in range(config.num_iterations):
            result = trainer.train_iteration()
        recovered = trainer.recover()[0]
        blocked = visible[0, :, 0, 0, 0] == 0

        def frame_contrast(frames):  # Mean absolute deviation from each frame's mean colour.
            return float(np.abs(frames - frames.mean(axis=(1, 2), keepdims=True)).mean())

        contrast[statistics] = (frame_contrast(recovered[blocked]), frame_contrast(recovered[~blocked]),
                                result["recovery_error_unit"])
    blocked, seen, error = contrast["visible"]
    assert blocked > 0.5 * seen, contrast
    blocked_all, seen_all, error_all = contrast["all"]
    assert blocked_all < 0.5 * seen_all and error < 0.6 * error_all, contrast
