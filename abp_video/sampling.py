"""The sampling noise of synthesis, stateless: the same (seed, chunk) gives the same ξ in training code and in an
exported SavedModel, in any process, whatever was drawn before."""

import tensorflow as tf

# Second word of the stateless seed of a random initial state s_0 (chunk k uses k >= 0).
INITIAL_STATE_STREAM = -1


def _stateless_seed(seed, stream):
    return tf.stack([tf.cast(seed, tf.int64), tf.cast(stream, tf.int64)])


def chunk_noise(seed, chunk, shape):
    """ξ ~ N(0, I) of chunk `chunk` (0, 1, ...) of the synthesised stream for sampling seed `seed`."""
    return tf.random.stateless_normal(shape, seed=_stateless_seed(seed, chunk))


def initial_state_noise(seed, shape):
    """s_0 ~ N(0, I) for synthesis from a random initial state, from its own stream of `seed`."""
    return tf.random.stateless_normal(shape, seed=_stateless_seed(seed, INITIAL_STATE_STREAM))


def to_uint8(frames):
    """[-1, 1] floats to uint8 pixels in graph ops, the same rounding as data.video_io.to_uint8 (half to even)."""
    return tf.cast(tf.clip_by_value(tf.round((frames + 1.0) * 127.5), 0.0, 255.0), tf.uint8)
