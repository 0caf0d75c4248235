"""The spatial-temporal generator (WACV'19): networks, masked energy, LI-ABP's initialiser, experiments, resume."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from abp_video import runs
from abp_video.loop import run_training
from abp_video.data import masks, sources
from st_generator import configs
from st_generator.experiments import base, interpolate as st_interpolate, recover as st_recover, synthesis
from st_generator.models import CroppedConv3DTranspose, InitializationNetwork, SpatialTemporalGenerator, layer_specs
from st_generator.train import STGeneratorTrainer

TINY = configs.RECOVER_TINY


def _parameters(config):
    """Hand count: transposed-convolution weights + biases, one β per normalised channel (no γ, as the authors)."""
    generator, initializer, channels = 0, 0, config.latent_channels
    for filters, kernel, _, _ in layer_specs(config.model, config.generator_filters, config.first_kernel_time):
        size = int(np.prod(kernel))
        generator += size * channels * filters + filters
        initializer += size * filters * channels + channels  # The mirrored convolution: filters -> channels.
        channels = filters
    return generator + sum(config.generator_filters[:-1]), initializer


@pytest.mark.parametrize("name,config,video", [
    ("Model-1", configs.model_variant(configs.SYNTHESIS_PAPER, 1), (64, 128, 128)),
    ("Model-2", configs.INTERPOLATE_PAPER, (64, 64, 64)),
    ("Model-3", configs.RECOVER_PAPER, (32, 64, 64)),
])
def test_paper_networks_shapes_and_parameter_counts(name, config, video):
    config.validate()
    assert config.video_shape == video
    generator = SpatialTemporalGenerator(config.model, config.generator_filters, config.first_kernel_time)
    latents = tf.random.normal([1, *config.latent_grid, config.latent_channels])
    videos = generator(latents)
    assert videos.shape == (1, *video, 3)
    assert np.all(np.abs(videos.numpy()) < 1.0)
    network = InitializationNetwork(config.model, config.generator_filters, config.first_kernel_time,
                                    config.latent_channels)
    assert network(videos).shape == latents.shape
    assert (generator.count_params(), network.count_params()) == _parameters(config)


@pytest.mark.parametrize("grid", [(2, 4, 4), (1, 2, 3), (4, 4, 4)])
def test_cropped_kernel_equals_the_full_transposed_convolution(grid):
    # Model-3's layer 2 (7x7x7 'same' on a 2x4x4 grid) convolves with the taps that meet the input only: output,
    # input gradient and kernel gradient must equal the full Keras layer's (unused taps get zero gradient in both).
    inputs = tf.random.stateless_normal([3, *grid, 6], seed=(1, 2))
    full = tf.keras.layers.Conv3DTranspose(5, 7, 1, padding="same", bias_initializer="random_normal")
    cropped = CroppedConv3DTranspose(5, 7, 1, padding="same")
    full(inputs), cropped(inputs)
    cropped.set_weights(full.get_weights())
    results = []
    for layer in (full, cropped):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs)
            loss = tf.reduce_sum(tf.sin(outputs))
        results.append([outputs, *tape.gradient(loss, [inputs, layer.kernel])])
    for expected, actual in zip(*results):
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
    if grid[0] == 2:  # The time taps beyond ±1 never meet an input value.
        assert not np.any(results[1][2].numpy()[[0, 1, 5, 6]])


def test_model_1_and_2_synthesise_larger_and_longer():
    model1 = configs.model_variant(configs.SYNTHESIS_PAPER, 1)
    assert model1.latent_grid == (4, 8, 8) and model1.latent_channels == 2
    assert model1.synthesis_grid == (8, 16, 16)  # -> 128 frames of 256x256.
    model2 = configs.model_variant(configs.SYNTHESIS_PAPER, 2)
    assert model2.latent_grid == (4, 1, 1) and model2.synthesis_grid == (8, 1, 1)  # T0 = 8: twice the length.
    tiny = configs.model_variant(configs.SYNTHESIS_TINY, 1)
    trainer = STGeneratorTrainer(tiny, np.zeros((1, *tiny.video_shape, 3), np.float32))
    assert trainer.synthesize(2, seed=0, grid=tiny.synthesis_grid).shape == (2, 8, 16, 16, 3)


def test_masked_energy_ignores_occluded_pixels():
    clip, segments = base.load_segments(TINY)
    visible = base.segment_masks("m50", segments.shape, seed=0)
    scrambled = np.where(visible > 0, segments, np.random.default_rng(1).uniform(-1, 1, segments.shape))
    trainer = STGeneratorTrainer(TINY, segments, visible)
    latents = tf.Variable(trainer.latents)

    def energy_and_gradients(clip, mask):
        with tf.GradientTape() as tape:
            energy = tf.reduce_sum(trainer.energy(latents, tf.constant(clip, tf.float32), tf.constant(mask)))
        return energy.numpy(), [g.numpy() for g in tape.gradient(energy, [latents] + trainer.model.trainable_variables)]

    energy_a, gradients_a = energy_and_gradients(segments, visible)
    energy_b, gradients_b = energy_and_gradients(scrambled, visible)
    np.testing.assert_allclose(energy_a, energy_b, rtol=1e-6)
    for a, b in zip(gradients_a, gradients_b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Without the mask the scrambled pixels change the energy and the gradient: the test can fail.
    full = np.ones_like(visible)
    energy_c, gradients_c = energy_and_gradients(segments, full)
    energy_d, gradients_d = energy_and_gradients(scrambled, full)
    assert abs(energy_c - energy_d) > 1e-3 * abs(energy_c)
    assert np.abs(gradients_c[0] - gradients_d[0]).max() > 1e-3
    # Training never sees the occluded values at all.
    assert np.array_equal(STGeneratorTrainer(TINY, scrambled, visible).observed, trainer.observed)


def test_initialization_network_learns_on_model_samples():
    config = dataclasses.replace(TINY, init="li", learning_rate=0.002)
    trainer = STGeneratorTrainer(config, base.load_segments(config)[1])
    visible = tf.ones([16, *config.video_shape, 3])
    losses = [float(trainer._learn_init_step(visible)[0]) for _ in range(150)]
    assert np.mean(losses[-20:]) < 0.6 * np.mean(losses[:20]), (np.mean(losses[:20]), np.mean(losses[-20:]))


def test_li_abp_chains_start_from_the_initialization_network():
    config = dataclasses.replace(TINY, init="li", li_langevin_steps=1, langevin_step_size=1e-4)
    segments = base.load_segments(config)[1]
    trainer = STGeneratorTrainer(config, segments)
    expected = trainer.init_network(tf.constant(segments)).numpy()
    trainer.train_iteration()
    # One tiny Langevin step away from f_V(I): the chains were not warm-started from their prior draw.
    np.testing.assert_allclose(trainer.latents.numpy(), expected, atol=1e-3)


@pytest.mark.parametrize("stage", ["test", "train"])
def test_li_occluded_samples_mask_what_f_v_learns_from_at_the_test_stage(stage):
    config = dataclasses.replace(TINY, init="li", method="li_abp", stage=stage, test_masks="m50,b35",
                                 li_occluded_samples=True)
    segments = base.load_segments(config)[1]
    trainer = STGeneratorTrainer(config, segments)
    batch, own = trainer.batches[0], tf.ones([len(segments), *config.video_shape, 3])
    drawn = trainer._sample_masks(batch, own).numpy()
    if stage == "train":  # Training segments are occluded already: f_V reads their masks.
        assert np.array_equal(drawn, own.numpy())
        return
    assert drawn.shape == own.shape and set(np.unique(drawn)) == {0.0, 1.0}
    assert all(0.0 < sample.mean() < 1.0 for sample in drawn)  # Every sample occluded, none blank.
    np.testing.assert_array_equal(trainer._sample_masks(batch, own).numpy(), drawn)  # Same iteration: same masks.
    trainer.train_iteration()
    assert not np.array_equal(trainer._sample_masks(batch, own).numpy(), drawn)  # A new draw each iteration.
    plain = STGeneratorTrainer(dataclasses.replace(config, li_occluded_samples=False), segments)
    assert plain._sample_masks(batch, own) is own


def test_paper_masks_scaled_to_the_frame():
    rng = np.random.default_rng(0)
    visible = masks.generate_mask("m50", 32, 64, seed=0)
    assert 0.45 < np.mean(visible == 0) < 0.55
    patch = masks.generate_mask("p20", 32, 64, seed=0)
    assert all(np.sum(frame[..., 0] == 0) == 400 for frame in patch)
    assert np.sum(masks.generate_mask("p20", 16, 32, seed=0)[0, ..., 0] == 0) == 100  # 10x10 at 32x32.
    block = masks.generate_mask("b35", 32, 64, seed=0)
    frames = np.flatnonzero((block == 0).any(axis=(1, 2, 3)))
    assert len(frames) == 20 and np.all(np.diff(frames) == 1) and np.sum(block[frames[0], ..., 0] == 0) == 35 * 35
    assert np.sum(masks.generate_mask("b25", 32, 64, seed=0)[..., 0] == 0) == 25 * 25 * 15
    middle = masks.middle_frames_mask(32, 8, rng)
    assert list(np.flatnonzero((middle == 0).all(axis=(1, 2, 3)))) == list(range(12, 20))
    for seed in range(20):
        blocks = masks.generate_mask("frame_blocks", 32, 8, seed=seed)
        hidden = (blocks == 0).all(axis=(1, 2, 3)).astype(int)
        starts = np.flatnonzero(np.diff(np.concatenate([[0], hidden])) == 1)
        assert hidden.sum() == 9 and len(starts) == 3  # Three separate blocks of three frames.


@pytest.mark.parametrize("model", [1, 2])
def test_synthesis_of_model_1_and_2(model, tmp_path):
    config = configs.model_variant(configs.SYNTHESIS_TINY, model).validate()
    _, result = synthesis.run_synthesis(config, str(tmp_path / "run"))
    expected = (8, 16, 16) if model == 1 else (32, 8, 8)  # Model-1 larger and longer, Model-2 twice as long.
    assert tuple(result["synthesised_shape"]) == expected


@pytest.mark.slow
def test_tables_in_one_command(tmp_path):
    clips = [("synthetic_fire", "synthetic:fire")]
    rows = st_recover.recovery_table(configs.RECOVER_TINY, str(tmp_path / "recover"), clips, ("abp", "li_abp"))
    assert [(row["stage"], row["mask"]) for row in rows] == [
        ("test", "m50"), ("test", "p20"), ("test", "b35"), ("train", "m50"), ("train", "p20"), ("train", "b25")]
    assert all(np.isfinite([row["abp"], row["li_abp"], row["lhd"]]).all() for row in rows)
    assert os.path.isfile(tmp_path / "recover" / "table.json")
    rows = st_interpolate.interpolation_table(configs.INTERPOLATE_TINY, str(tmp_path / "interpolate"), clips)
    assert [row["mask"] for row in rows] == ["middle_frames", "frame_blocks"]
    assert os.path.isfile(tmp_path / "interpolate" / "table.json")
    # Both tables are on the paper's scale ([-1, 1]: a 127.5th of [0, 255]) and print the paper's rows under ours.
    stored = json.load(open(tmp_path / "recover" / "table.json"))
    assert "pixels in [-1, 1]" in stored["title"]
    assert "| paper: flag | test | m50 | 0.1370 | 0.1179 | – |" in stored["markdown"]  # Table 2, ABP and LI-ABP.
    assert "| paper: flag1 | train | m50 | 0.0283 | 0.0279 | – |" in stored["markdown"]  # Table 3.
    # The training stage logs the error over the occluded values as it learns; its last entry is the table's.
    trained = os.path.join(tmp_path, "recover", "synthetic_fire", "train_abp_b25")
    logged = runs.RunDirectory(trained).read_history()[-1]
    final = json.load(open(os.path.join(trained, "metrics.json")))
    assert logged["recovery_error_unit"] == pytest.approx(final["b25_recovery_error_unit"], rel=1e-5)
    interpolation = json.load(open(tmp_path / "interpolate" / "table.json"))["markdown"]
    assert "| paper: light | middle_frames | 0.0725 | – | 0.0728 |" in interpolation
    run = json.load(open(tmp_path / "interpolate" / "synthetic_fire" / "middle_frames_abp" / "metrics.json"))
    assert run["recovery_error_unit"] == pytest.approx(run["recovery_error_255"] / 127.5)
    assert "recovery_error" not in run  # Every error key names its scale.


@pytest.mark.parametrize("init", ["abp", "li"])
def test_resume_equals_uninterrupted_run(init, tmp_path):
    config = dataclasses.replace(TINY, init=init, num_iterations=4, checkpoint_every=2)
    segments = base.load_segments(config)[1]
    straight = STGeneratorTrainer(config, segments)
    for _ in range(4):
        straight.train_iteration()
    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(dataclasses.replace(config, num_iterations=2))
    run_training(STGeneratorTrainer(dataclasses.replace(config, num_iterations=2), segments), run, "first half")
    resumed = STGeneratorTrainer(config, segments)  # A new process would build it afresh like this.
    fresh = [weight.numpy() for weight in resumed.model.weights]
    run_training(resumed, run, "second half")
    assert int(resumed.iteration.numpy()) == 4
    np.testing.assert_allclose(resumed.latents.numpy(), straight.latents.numpy(), rtol=1e-4, atol=1e-5)
    networks = [(resumed.model, straight.model)]
    if init == "li":
        networks.append((resumed.init_network, straight.init_network))
    for ours, theirs in networks:
        for a, b in zip(ours.weights, theirs.weights):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(fresh, resumed.model.weights))
    assert [row["iteration"] for row in run.read_history()] == [1, 2, 3, 4]


@pytest.mark.slow
def test_finished_test_stage_run_recovers_with_its_restored_weights(tmp_path):
    """Re-running a finished run restores the whole checkpoint; the frozen model's recovery is the same."""
    workdir = str(tmp_path / "run")
    _, first = st_recover.run_recovery(TINY, workdir, quiet=True)
    _, again = st_recover.run_recovery(TINY, workdir, quiet=True)
    for mask in TINY.test_mask_types:
        assert again[f"{mask}_recovery_error_unit"] == pytest.approx(first[f"{mask}_recovery_error_unit"], rel=1e-5)
    other = st_recover.run_recovery(dataclasses.replace(TINY, num_iterations=1), str(tmp_path / "other"),
                                     quiet=True)[1]
    assert other["m50_recovery_error_unit"] != pytest.approx(first["m50_recovery_error_unit"], rel=1e-5)


def test_segments_and_split():
    clip, segments = sources.load_segments("synthetic:water", 4, 8, max_segments=5)[0]
    assert segments.shape == (5, 4, 8, 8, 3)
    np.testing.assert_array_equal(segments[1], clip.frames[4:8])
    train, test = base.split_segments(segments, 0.2)
    assert (len(train), len(test)) == (4, 1)
    with pytest.raises(ValueError, match="at least 2"):
        base.split_segments(segments[:1], 0.2)


def test_shared_clips_have_several_32_frame_segments(shared_video):
    for name, path in base.TABLE_CLIPS:
        clip, segments = sources.load_segments(os.path.join(shared_video, path), 32, 8)[0]
        assert len(segments) >= 7, name


def test_table_clips_are_picked_by_name():
    assert [name for name, _ in base.selected_clips("synthetic_fire")] == ["synthetic_fire"]
    assert base.selected_clips(None)[-1] == ("synthetic_fire", "synthetic:fire")
    with pytest.raises(ValueError, match="not one of"):
        base.selected_clips("smoke")
