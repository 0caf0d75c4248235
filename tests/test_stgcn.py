"""STGCN (abp_video/baselines/stgcn.py), the dynamic generator's competitor in AAAI'19 Table 2: network, recovery, runs."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from abp_video.baselines.stgcn import STGCN, Descriptor, STGCNRecoveryTrainer, strided_conv3d
from abp_video import metrics
from dynamic_generator import configs
from dynamic_generator.experiments.recover import load_incomplete_clip
from dynamic_generator.restore import restore_trainer


def test_descriptor_spans_the_frame_at_conv2_and_scores_each_video():
    model = Descriptor(32)
    scores = model(tf.zeros([2, 70, 32, 32, 3]))
    assert scores.shape == (2,)
    first, second, third = STGCN.filters
    # conv1 7x7x7 over colour; conv2 5 x 16 x 16 (the whole 16x16 map of conv1); conv3 2x1x1.
    expected = (7 ** 3 * 3 * first + first) + (5 * 16 * 16 * first * second + second) + (2 * second * third + third)
    assert model.count_params() == expected
    assert model.conv2.kernel.shape[:3] == (5, 16, 16)


@pytest.mark.parametrize("shape", [(2, 70, 32, 32, 3), (1, 9, 15, 16, 3)])
def test_folded_strided_convolution_equals_the_keras_layer(shape):
    model = Descriptor(shape[2])
    videos = tf.random.stateless_normal(shape, seed=(1, 2))
    model(videos)
    kernel = tf.random.stateless_normal(model.conv1.kernel.shape, seed=(3, 4))
    model.conv1.kernel.assign(kernel)
    expected = tf.nn.conv3d(videos, kernel, [1, 2, 2, 2, 1], "SAME")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(videos)
        folded = strided_conv3d(videos, kernel)
        plain = tf.nn.conv3d(videos, kernel, [1, 2, 2, 2, 1], "SAME")
        weights = tf.random.stateless_normal(plain.shape, seed=(5, 6))
        folded_sum, plain_sum = tf.reduce_sum(folded * weights), tf.reduce_sum(plain * weights)
    def close(mine, theirs):  # Float rounding of sums of ~1000 products of order 1: relative to the largest value.
        return float(np.max(np.abs(mine - theirs))) <= 1e-5 * float(np.max(np.abs(theirs)))

    assert folded.shape == expected.shape and close(folded.numpy(), expected.numpy())
    assert close(tape.gradient(folded_sum, videos).numpy(), tape.gradient(plain_sum, videos).numpy())


def _trainer(mask_type, iterations):
    config = dataclasses.replace(configs.RECOVER_TINY, method="stgcn", num_iterations=iterations, log_every=1000,
                                 incomplete=configs.IncompleteConfig("", mask_type))
    clip, visible = load_incomplete_clip(config)
    return STGCNRecoveryTrainer(config, clip.frames, visible), clip, visible


@pytest.mark.slow
def test_recovery_error_falls_below_the_initial_fill():
    trainer, clip, visible = _trainer("region", 20)
    initial = metrics.recovery_error(trainer.recover(), clip.frames, visible)  # The visible mean in every hole.
    for _ in range(20):
        trainer.train_iteration()
    recovered = trainer.recover()
    assert metrics.recovery_error(recovered, clip.frames, visible) < 0.9 * initial
    np.testing.assert_array_equal(recovered[visible > 0], clip.frames[visible > 0])
    # The learning step saw only visible values: the completed clip's visible part is the observed one.
    completed = trainer.completed[0].numpy()
    np.testing.assert_allclose(completed[visible > 0], trainer.observed[0].numpy()[visible > 0])


def test_occluded_values_do_not_reach_the_learning():
    trainer, clip, visible = _trainer("missing_frames", 2)
    other = np.where(visible > 0, clip.frames, -clip.frames)  # The same visible values, other holes.
    twin = STGCNRecoveryTrainer(trainer.config, other, visible)
    for _ in range(2):
        trainer.train_iteration()
        twin.train_iteration()
    for mine, theirs in zip(trainer.model.weights, twin.model.weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_command_line_run_leaves_checkpoint_metrics_gif_and_resumes(resumed_cli_run):
    run = resumed_cli_run(["--experiment", "recover"], "occluded_recovered_original.gif", "stgcn")
    with pytest.raises(ValueError, match="holds a --method stgcn run"):
        restore_trainer(run.path)
