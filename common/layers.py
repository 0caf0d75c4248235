"""Layers both generators use: the authors' batch normalisation on the statistics of the current batch."""

import keras
import tensorflow as tf

from common import distribute


class FrameNormalization(keras.layers.Layer):
    """Batch normalisation as the authors ran it: statistics of the current batch of frames, always.

    `tf.contrib.layers.batch_norm` defaults in training mode: learnable centre β, no scale γ, ε = 0.001; the
    moving averages were never used, so there are none. `num_groups` splits the batch into groups that are
    normalised separately (independent samples drawn together).
    """

    def __init__(self, epsilon=1e-3, **kwargs):
        # Inputs keep their dtype: bfloat16 activations (`mixed_precision`) are normalised without a float32 copy.
        super().__init__(autocast=False, **kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

    def call(self, inputs, num_groups=1):
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
            # A step sharded over replicas (common/distribute.py): the statistics of the whole batch, summed
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
