"""Layers both generators use: the authors' batch normalisation on the statistics of the current batch, with
statistics taken over the observed positions only when the data are incomplete."""

import keras
import numpy as np
import tensorflow as tf

from abp_video import distribute

# `normalization_statistics` of a run on incomplete data: `visible` weighs every hidden position by the visible
# fraction of the output it stands for (`visibility_weights`), so that positions whose output is never observed
# cannot steer the statistics that normalise the observed ones; `all` takes them over every position as the
# authors' batch normalisation does (what runs stored before the option was introduced ran with).
from abp_video.configs import NORMALIZATION_STATISTICS  # noqa: E402,F401


def _pooling_matrix(source, target):
    """[target, source]: row j averages the source positions i with floor(i · target / source) = j (a position of a
    finer grid belongs to the coarse cell it falls in); with target >= source, row j picks the source position it
    falls in."""
    matrix = np.zeros([target, source], np.float32)
    if target >= source:
        matrix[np.arange(target), (np.arange(target) * source) // target] = 1.0
        return matrix
    matrix[(np.arange(source) * target) // source, np.arange(source)] = 1.0
    return matrix / matrix.sum(axis=1, keepdims=True)


def visibility_weights(visible, grid):
    """The visible fraction of the output under each position of a hidden layer's grid.

    Args:
      visible: [batch, *output_dims, channels] mask, 1 where the output value is observed (e.g. a video's
        [batch, frames, height, width, 3], or one frame's [frames, height, width, 3]).
      grid: the hidden layer's sizes along the same dims (static ints), e.g. (t, h, w) or (h, w).

    Returns:
      float32 [batch, *grid, 1]: the mask averaged over channels, then over the output positions each hidden position
      covers (the output divided into len(grid[k]) equal cells along every dim; for the strided transposed
      convolutions of both generators this is average pooling by the layers' total stride).
    """
    weights = tf.reduce_mean(tf.cast(visible, tf.float32), axis=-1)
    for axis, size in enumerate(grid, start=1):
        source = weights.shape[axis]
        if source == size:
            continue
        matrix = tf.constant(_pooling_matrix(source, size))
        weights = tf.experimental.numpy.moveaxis(
            tf.tensordot(weights, matrix, axes=[[axis], [1]]), -1, axis)
    return weights[..., None]


class FrameNormalization(keras.layers.Layer):
    """Batch normalisation as the authors ran it: statistics of the current batch of frames, always.

    `tf.contrib.layers.batch_norm` defaults in training mode: learnable centre β, no scale γ, ε = 0.001; the
    moving averages were never used, so there are none. `num_groups` splits the batch into groups that are
    normalised separately (independent samples drawn together). `weights` (incomplete data) weighs each position
    in the mean and variance (`visibility_weights`): a position of weight 0 has no say in the statistics.
    """

    def __init__(self, epsilon=1e-3, **kwargs):
        # Inputs keep their dtype: bfloat16 activations (`mixed_precision`) are normalised without a float32 copy.
        super().__init__(autocast=False, **kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs, num_groups=1, weights=None):
        """inputs [batch, height, width, channels]; weights None or [batch, height, width, 1] (>= 0)."""
        if weights is not None:
            return self._weighted(inputs, num_groups, weights)
        replicas = distribute.num_replicas()
        # A tensor count of groups (an exported sampler's num_samples) always takes the grouped path.
        one_group = not tf.is_tensor(num_groups) and num_groups == 1
        if one_group and replicas == 1:
            # One fused kernel (forward and gradient) computing the same batch-statistics normalisation; on
            # bfloat16 activations it keeps them in bfloat16 and takes the statistics in float32.
            normalized, _, _ = tf.compat.v1.nn.fused_batch_norm(
                inputs, scale=tf.ones_like(self.beta), offset=self.beta, epsilon=self.epsilon, is_training=True)
            return normalized
        inputs = tf.cast(inputs, tf.float32)
        if one_group and replicas > 1:
            # A step sharded over replicas (abp_video/distribute.py): the statistics of the whole batch, summed
            # across replicas (differentiable), so that the result equals the one-device step.
            context = tf.distribute.get_replica_context()
            count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), inputs.dtype)
            total, squares, count = context.all_reduce(tf.distribute.ReduceOp.SUM, [
                tf.reduce_sum(inputs, axis=[0, 1, 2]), tf.reduce_sum(tf.square(inputs), axis=[0, 1, 2]), count])
            mean = total / count
            variance = squares / count - tf.square(mean)
            return (inputs - mean) * tf.math.rsqrt(variance + self.epsilon) + self.beta
        shape = tf.shape(inputs)
        grouped = tf.reshape(inputs, tf.concat([[num_groups, -1], shape[1:]], axis=0))
        mean, variance = tf.nn.moments(grouped, axes=[1, 2, 3], keepdims=True)
        normalized = (grouped - mean) * tf.math.rsqrt(variance + self.epsilon) + self.beta
        return tf.reshape(normalized, shape)

    def _weighted(self, inputs, num_groups, weights):
        """Weighted moments, mean = Σ w·h / Σ w and variance = Σ w·(h − mean)² / Σ w, over batch (per group),
        height and width, in float32; summed across replicas in a sharded step. A group whose weights are all 0
        (nothing of it observed) takes plain statistics."""
        dtype = inputs.dtype
        shape = tf.shape(inputs)
        grouped = tf.reshape(tf.cast(inputs, tf.float32), tf.concat([[num_groups, -1], shape[1:]], axis=0))
        weights = tf.reshape(tf.cast(weights, tf.float32), tf.concat([[num_groups, -1], shape[1:3], [1]], axis=0))
        context = tf.distribute.get_replica_context()
        # A training step sharded over replicas normalises its one group over the whole batch, as above.
        sharded = distribute.num_replicas() > 1 and not tf.is_tensor(num_groups) and num_groups == 1

        def summed(values):  # Sums over each group's positions, then over the replicas' shares.
            total = tf.reduce_sum(values, axis=[1, 2, 3], keepdims=True)
            return context.all_reduce(tf.distribute.ReduceOp.SUM, total) if sharded else total

        weights = tf.where(summed(weights) > 0, weights, tf.ones_like(weights))
        count = summed(weights)
        mean = summed(weights * grouped) / count
        variance = summed(weights * tf.square(grouped - mean)) / count
        normalized = (grouped - mean) * tf.math.rsqrt(variance + self.epsilon) + self.beta
        return tf.cast(tf.reshape(normalized, shape), dtype)
