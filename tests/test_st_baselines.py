"""Tables 2-3's baselines with the same generator: 3D VAE, wake-sleep, 3D GAN; networks, losses, runs."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import main as cli
from abp_video import configs as config_dicts, runs
from abp_video.loop import run_training
from st_generator import baselines, configs, restore
from st_generator.experiments import base, recover as st_recover
from st_generator.models import LOG_VARIANCE_RANGE, GaussianInferenceNetwork, VideoDiscriminator, layer_specs

TINY = configs.RECOVER_TINY


def _tiny(method, **fields):
    return dataclasses.replace(TINY, method=method, **fields).validate()


def _data(config, mask="m50"):
    segments = base.load_segments(config)[1]
    return segments, base.segment_masks(mask, segments.shape, seed=0)


# ---- networks ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", [TINY, configs.RECOVER_QUICK], ids=["tiny", "quick"])
def test_inference_network_and_discriminator_shapes_and_parameter_counts(config):
    videos = tf.random.normal([3, *config.video_shape, 3])
    encoder = GaussianInferenceNetwork(config.model, config.generator_filters, config.first_kernel_time,
                                       config.latent_channels)
    mean, log_variance = encoder(videos)
    assert mean.shape == log_variance.shape == (3, *config.latent_grid, config.latent_channels)
    discriminator = VideoDiscriminator(config.model, config.generator_filters, config.first_kernel_time)
    assert discriminator(videos).shape == (3,)
    # Hand count: the generator's layers mirrored; the encoder's last layer gives 2x Z's channels, the critic's one
    # logit; the critic normalises (β only) every hidden layer but the first.
    encoder_count, critic_count = 0, 0
    specs = layer_specs(config.model, config.generator_filters, config.first_kernel_time)
    inputs = [config.latent_channels] + list(config.generator_filters[:-1])
    for index, ((filters, kernel, _, _), into) in enumerate(zip(specs, inputs)):
        size = int(np.prod(kernel))
        encoder_count += size * filters * (2 * into if index == 0 else into) + (2 * into if index == 0 else into)
        critic_count += size * filters * (1 if index == 0 else into) + (1 if index == 0 else into)
    critic_count += sum(inputs[1:-1])
    assert (encoder.count_params(), discriminator.count_params()) == (encoder_count, critic_count)


def test_log_variance_is_bounded_for_any_input():
    config = TINY
    encoder = GaussianInferenceNetwork(config.model, config.generator_filters, config.first_kernel_time,
                                       config.latent_channels, init_std=5.0)  # Wild outputs.
    _, log_variance = encoder(tf.random.normal([4, *config.video_shape, 3], stddev=100.0))
    low, high = LOG_VARIANCE_RANGE
    assert np.all(log_variance.numpy() >= low) and np.all(log_variance.numpy() <= high)
    assert np.ptp(log_variance.numpy()) > 1.0  # Still a function of the input.


# ---- the losses see visible values only ------------------------------------------------------------------------

def _loss_and_gradients(loss_fn, variables):
    with tf.GradientTape() as tape:
        loss = loss_fn()
    return float(loss), [g.numpy() for g in tape.gradient(loss, variables)]


def test_elbo_and_wake_losses_ignore_occluded_values():
    config = _tiny("vae")
    segments, visible = _data(config)
    scrambled = np.where(visible > 0, segments, np.random.default_rng(1).uniform(-1, 1, segments.shape))
    vae = baselines.VAETrainer(config, segments, visible)
    ws = baselines.WakeSleepTrainer(dataclasses.replace(config, method="ws"), segments, visible)
    noise = tf.random.stateless_normal([len(segments), *config.latent_grid, config.latent_channels], seed=(1, 2))
    filled = tf.constant(vae.imputed)

    def results(clip, mask):
        clip, mask = tf.constant(clip, tf.float32), tf.constant(mask, tf.float32)
        elbo = _loss_and_gradients(lambda: tf.reduce_sum(vae.negative_elbo(clip, mask, filled, noise)[0]),
                                   vae.model.trainable_variables + vae.encoder.trainable_variables)
        wake = _loss_and_gradients(lambda: ws.wake_loss(clip, mask, noise)[0], ws.model.trainable_variables)
        return [elbo, wake]

    for (loss_a, gradients_a), (loss_b, gradients_b) in zip(results(segments, visible), results(scrambled, visible)):
        assert loss_a == pytest.approx(loss_b, rel=1e-6)
        for a, b in zip(gradients_a, gradients_b):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    full = np.ones_like(visible)  # Without the mask the scrambled values count: the test can fail.
    for (loss_a, _), (loss_b, _) in zip(results(segments, full), results(scrambled, full)):
        assert abs(loss_a - loss_b) > 1e-3 * abs(loss_a)


@pytest.mark.parametrize("method", ["vae", "ws"])
def test_training_on_occluded_segments_never_sees_the_occluded_values(method):
    config = _tiny(method, baseline_updates=2)
    segments, visible = _data(config, "b25")
    scrambled = np.where(visible > 0, segments, np.random.default_rng(2).uniform(-1, 1, segments.shape))
    first, second = (restore.build_trainer(config, clip, visible) for clip in (segments, scrambled))
    first.train_iteration(), second.train_iteration()
    for a, b in zip(first.model.weights + first.encoder.weights, second.model.weights + second.encoder.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(first.imputed.numpy() * visible, segments * visible)  # Visible values as given.


# ---- imputation ----------------------------------------------------------------------------------------------

def test_imputation_keeps_visible_values_and_fills_in_a_known_generator():
    # The data come from the trainer's own generator, so the true generator is known; the encoder learns it by sleep
    # steps. Imputation must then beat the initial fill (0) on the occluded values and keep every visible one.
    config = _tiny("ws", sigma=0.05, learning_rate=0.003, recovery_langevin_steps=20)
    trainer = baselines.WakeSleepTrainer(config, np.zeros((8, *config.video_shape, 3), np.float32))
    truth = trainer.model(tf.random.stateless_normal([8, *config.latent_grid, config.latent_channels],
                                                     seed=(3, 4))).numpy()
    for _ in range(400):
        trainer._sleep_step(32)
    visible = base.segment_masks("m50", truth.shape, seed=5)
    recovered = trainer.recover_frozen(truth, visible, seed=0)
    np.testing.assert_array_equal(recovered[visible > 0], truth[visible > 0])
    hidden = visible == 0
    before, after = np.abs(truth[hidden]).mean(), np.abs(recovered[hidden] - truth[hidden]).mean()
    assert after < 0.5 * before, (before, after)


def test_sleep_step_lowers_the_encoder_loss_on_model_samples():
    config = _tiny("ws")
    trainer = baselines.WakeSleepTrainer(config, _data(config)[0])
    latents, videos = trainer.dream(16)
    before = float(trainer.sleep_on(latents, videos))
    assert float(trainer.sleep_loss(latents, videos)) < before


def test_discriminator_step_raises_its_accuracy_on_a_fixed_batch():
    config = _tiny("gan", gan_learning_rate=0.002)
    segments = _data(config)[0]
    trainer = baselines.GANTrainer(config, segments)
    real, fake = tf.constant(segments), trainer._fakes(tf.ones_like(segments))
    loss_before, accuracy_before = (float(value) for value in trainer.discriminator_loss(real, fake))
    for _ in range(10):
        trainer.discriminator_on(real, fake)
    loss_after, accuracy_after = (float(value) for value in trainer.discriminator_loss(real, fake))
    assert loss_after < loss_before and accuracy_after > accuracy_before, (accuracy_before, accuracy_after)


def test_ambient_gan_shows_the_discriminator_fakes_through_the_masks():
    config = _tiny("gan", stage="train", mask_type="b25")
    segments, visible = _data(config, "b25")
    fakes = baselines.GANTrainer(config, segments, visible)._fakes(tf.constant(visible)).numpy()
    assert np.all(fakes[visible == 0] == 0) and np.any(fakes[visible > 0] != 0)


# ---- configuration ----------------------------------------------------------------------------------------------

def test_init_li_and_method_li_abp_are_one_method():
    assert dataclasses.replace(TINY, init="li").method == "li_abp"
    assert dataclasses.replace(TINY, method="li_abp").init == "li"
    # A run written before `method` existed reads back as the method it was.
    stored = {key: value for key, value in config_dicts.to_dict(dataclasses.replace(TINY, init="li")).items()
              if key not in ("method", "baseline_updates", "gan_learning_rate")}
    assert config_dicts.from_dict(configs.STConfig, stored) == dataclasses.replace(TINY, method="li_abp")
    with pytest.raises(ValueError, match="--init li means --method li_abp"):
        dataclasses.replace(TINY, init="li", method="vae").validate()
    with pytest.raises(ValueError, match="--method must be one of"):
        dataclasses.replace(TINY, method="pca").validate()
    # One update per iteration by default, as the baselines are normally trained; 0 = ABP's l + 1 passes.
    assert TINY.updates_per_iteration == 1
    assert dataclasses.replace(TINY, baseline_updates=0).updates_per_iteration == TINY.num_langevin_steps + 1


# ---- runs -------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("method,stage", [("vae", "test"), ("ws", "train"), ("gan", "train")])
def test_method_runs_from_the_command_line_and_resumes(method, stage, tmp_path, capsys):
    workdir = str(tmp_path / method)
    common = ["main.py", "--experiment", "st_recover", "--preset", "tiny", "--method", method, "--stage", stage,
              "--mask_type", "b25", "--baseline_updates", "2", "--workdir", workdir]
    for iterations in ("1", "2"):
        with pytest.raises(SystemExit) as exit_info:
            cli.entry(common + ["--iterations", iterations])
            raise SystemExit(0)
        assert exit_info.value.code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Resuming" in out and f"{stage} stage, {method}" in out
    run = runs.RunDirectory(workdir)
    metrics = run.read_metrics()
    assert metrics["method"] == method and metrics["iterations"] == 2
    assert metrics["generator_updates_per_iteration"] == 2
    assert [row["iteration"] for row in run.read_history()] == [1, 2]
    assert runs.Checkpointer(run.checkpoint_dir).manager.latest_checkpoint and os.listdir(run.tensorboard_dir)
    mask = "b25" if stage == "train" else "m50"
    assert np.isfinite(metrics[f"{mask}_recovery_error_unit"])
    assert os.path.isfile(run.sample_path(f"{mask}_occluded_recovered_lhd_original.gif"))


@pytest.mark.parametrize("method", ["vae", "ws", "gan"])
def test_resume_equals_uninterrupted_run(method, tmp_path):
    config = _tiny(method, stage="train", baseline_updates=2, num_iterations=2)
    segments, visible = _data(config, "b25")
    straight = restore.build_trainer(config, segments, visible)
    for _ in range(2):
        straight.train_iteration()
    run = runs.RunDirectory(str(tmp_path / "run"))
    half = dataclasses.replace(config, num_iterations=1)
    run.prepare(half)
    run_training(restore.build_trainer(half, segments, visible), run, "first half")
    resumed = restore.build_trainer(config, segments, visible)
    run_training(resumed, run, "second half")
    assert int(resumed.iteration.numpy()) == 2
    for group, trackable in straight.trackables().items():
        if group in ("model", "encoder", "discriminator"):
            for a, b in zip(trackable.weights, resumed.trackables()[group].weights):
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    if method != "gan":
        np.testing.assert_allclose(straight.imputed.numpy(), resumed.imputed.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_table_puts_every_method_side_by_side_and_reads_finished_runs_back(tmp_path):
    clips = [("synthetic_fire", "synthetic:fire")]
    config = dataclasses.replace(TINY, num_iterations=1, baseline_updates=1, test_masks="m50")
    workdir = str(tmp_path / "table")
    st_recover.recovery_table(config, workdir, clips, ("abp",))
    metrics_path = os.path.join(workdir, "synthetic_fire", "test_abp", "metrics.json")
    written = os.path.getmtime(metrics_path)
    rows = st_recover.recovery_table(config, workdir, clips, ("abp", "vae", "gan"))
    assert os.path.getmtime(metrics_path) == written  # The finished ABP run was read back, not run again.
    assert [(row["stage"], row["mask"]) for row in rows] == [("test", "m50"), ("train", "m50"), ("train", "p20"),
                                                             ("train", "b25")]
    assert all(np.isfinite([row[key] for key in ("abp", "vae", "lhd")]).all() for row in rows)
    # The GAN at the test stage only, as the paper's Table 2 (Table 3 has none).
    assert np.isfinite(rows[0]["gan"]) and all(row["gan"] is None for row in rows[1:])
    assert not os.path.exists(os.path.join(workdir, "synthetic_fire", "train_gan_m50"))
    with open(os.path.join(workdir, "table.json")) as handle:
        table = json.load(handle)
    assert table["methods"] == ["abp", "vae", "gan"] and "| ABP | VAE | GAN | LHD |" in table["markdown"]
    assert st_recover.selected_methods(None) == configs.METHODS
    with pytest.raises(ValueError, match="unknown methods"):
        st_recover.selected_methods("abp,oracle")
    # The baselines trained longer than ABP (--baseline_iterations): the finished VAE run is resumed, not redone.
    longer = st_recover.recovery_table(config, workdir, clips, ("abp", "vae"), ("test",), baseline_iterations=2)
    assert os.path.getmtime(metrics_path) == written and np.isfinite(longer[0]["vae"])
    assert json.load(open(os.path.join(workdir, "synthetic_fire", "test_vae", "metrics.json")))["iterations"] == 2
    assert "VAE / WS / GAN: 2 iterations" in json.load(open(os.path.join(workdir, "table.json")))["title"]
    # --table_stages test runs Table 2 alone.
    only_test = st_recover.recovery_table(config, str(tmp_path / "test_only"), clips, ("abp",),
                                          st_recover.selected_stages(["test"]))
    assert [row["stage"] for row in only_test] == ["test"]
    assert st_recover.selected_stages(None) == ("test", "train")
    with pytest.raises(ValueError, match="unknown stages"):
        st_recover.selected_stages(["validation"])
