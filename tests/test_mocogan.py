"""MoCoGAN (abp_video/baselines/mocogan.py), the GAN of AAAI'19's texture comparison: networks, the two adversarial steps,
runs that resume."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

import main
from abp_video.baselines.mocogan import (MOCOGAN, ImageDiscriminator, MoCoGANTrainer, VideoDiscriminator, VideoGenerator,
                               stride_layers)
from abp_video import runs
from abp_video.data import sources
from dynamic_generator import configs

TINY = dataclasses.replace(configs.TEXTURE_TINY, method="mocogan")


@pytest.mark.parametrize("size, image_patches, video_logits", [(64, 16, 1), (32, 4, 4)])
def test_network_shapes_follow_the_authors_layout(size, image_patches, video_logits):
    generator = VideoGenerator(size)
    videos = generator.videos(2, 16, tf.random.Generator.from_seed(0))
    assert videos.shape == (2, 16, size, size, 3) and float(tf.reduce_max(tf.abs(videos))) <= 1.0
    assert len(generator.deconvolutions) == stride_layers(size) + 1
    assert generator.deconvolutions[0].filters == MOCOGAN.generator_filters * 2 ** (stride_layers(size) - 1)
    assert ImageDiscriminator()(videos[0]).shape == (16, image_patches)  # Patch logits: one per 16x16 region.
    assert VideoDiscriminator(size, 16)(videos).shape == (2, video_logits)
    longer = generator.videos(1, 40, tf.random.Generator.from_seed(1))  # Any number of frames.
    assert longer.shape == (1, 40, size, size, 3)


def test_frames_sizes_that_are_not_four_times_a_power_of_two_are_refused():
    with pytest.raises(ValueError, match="16, 32, 64, 128"):
        stride_layers(150)


def _trainer(seed=1):
    clip = sources.load_clips("synthetic:fire", TINY.num_frames, TINY.image_size, TINY.seed)[0].frames
    return MoCoGANTrainer(dataclasses.replace(TINY, seed=seed), clip)


def _probability(logits):
    return float(tf.reduce_mean(tf.sigmoid(logits)))


def test_a_discriminator_step_separates_real_from_generated_frames_with_the_generator_frozen():
    trainer = _trainer()
    weights = [weight.numpy() for weight in trainer.generator.trainable_weights]
    real = trainer.clip
    fake = trainer.generator.images(len(real), tf.random.Generator.from_seed(7), training=True)
    discriminator = trainer.image_discriminator
    before = _probability(discriminator(real, training=True)) - _probability(discriminator(fake, training=True))
    for _ in range(10):
        trainer.discriminator_step("image_discriminator", trainer.real_images(),
                                   trainer.generator.images(MOCOGAN.image_batch, trainer.rng, training=True))
    after = _probability(discriminator(real, training=True)) - _probability(discriminator(fake, training=True))
    assert after > before + 0.2 and after > 0.2
    # Frozen: no trainable weight of the generator moved (its BatchNorm averages do, as in PyTorch's train mode).
    assert all(np.array_equal(w, v.numpy()) for w, v in zip(weights, trainer.generator.trainable_weights))


def test_a_generator_step_raises_the_discriminators_scores_of_generated_clips():
    trainer = _trainer()
    for _ in range(5):  # Discriminators that tell the two apart first.
        trainer.discriminator_step("image_discriminator", trainer.real_images(),
                                   trainer.generator.images(MOCOGAN.image_batch, trainer.rng, training=True))
        trainer.discriminator_step("video_discriminator", trainer.real_videos(),
                                   trainer.generator.videos(MOCOGAN.video_batch, trainer.video_length, trainer.rng,
                                                            training=True))
    frozen = [weight.numpy() for network in (trainer.image_discriminator, trainer.video_discriminator)
              for weight in network.trainable_weights]

    def scores():
        generator = tf.random.Generator.from_seed(11)
        images = trainer.generator.images(8, generator, training=True)
        videos = trainer.generator.videos(3, trainer.video_length, generator, training=True)
        return (_probability(trainer.image_discriminator(images, training=True)),
                _probability(trainer.video_discriminator(videos, training=True)))

    image_before, video_before = scores()
    for _ in range(3):
        trainer.generator_step()
    image_after, video_after = scores()
    assert image_after > image_before and video_after > video_before
    after = [weight.numpy() for network in (trainer.image_discriminator, trainer.video_discriminator)
             for weight in network.trainable_weights]
    assert len(after) == len(frozen) and all(np.array_equal(a, b) for a, b in zip(after, frozen))


@pytest.mark.slow
def test_command_line_run_leaves_checkpoint_metrics_gif_resumes_and_samples(resumed_cli_run):
    run = resumed_cli_run(["--experiment", "texture"], "observed_vs_synthesised.gif", "mocogan")
    assert {"image_discriminator_loss", "video_discriminator_loss"} <= set(run.read_history()[-1])
    main.entry(["main.py", "--mode", "sample", "--workdir", run.path, "--num_frames", "12", "--num_samples", "2"])
    assert os.path.getsize(os.path.join(run.samples_dir, "sample_12f_seed0.gif")) > 0


def test_a_restored_trainer_synthesises_what_the_trained_one_did(tmp_path):
    """BatchNorm's running averages (MoCoGAN synthesises with them) are in the checkpoint, not only the weights."""
    trainer = _trainer()
    for _ in range(3):
        trainer.train_iteration()
    directory = str(tmp_path / "ckpt")
    runs.Checkpointer(directory, **trainer.trackables()).save(3)
    fresh = _trainer(seed=2)  # Other initial weights and running averages.
    assert runs.Checkpointer(directory, **fresh.trackables()).restore_or_initialize()
    for network in ("generator", "image_discriminator", "video_discriminator"):
        assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in
                   zip(getattr(trainer, network).variables, getattr(fresh, network).variables))
    np.testing.assert_array_equal(trainer.synthesize(2, 5, seed=0), fresh.synthesize(2, 5, seed=0))


def test_a_checkpoint_from_before_all_variables_restores_its_weights_and_says_what_it_lacks(tmp_path, capsys):
    trainer = _trainer()
    trainer.train_iteration()
    directory = str(tmp_path / "ckpt")
    legacy = tf.train.Checkpoint(**trainer.trackables())  # What Checkpointer wrote before AllVariables.
    tf.train.CheckpointManager(legacy, directory, max_to_keep=3).save(checkpoint_number=1)
    fresh = _trainer(seed=2)
    assert runs.Checkpointer(directory, **fresh.trackables()).restore_or_initialize()
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in
               zip(trainer.generator.trainable_variables, fresh.generator.trainable_variables))
    assert "moving_mean" in capsys.readouterr().err
