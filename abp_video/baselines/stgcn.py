"""STGCN (Xie, Zhu, Wu, CVPR'17), the AAAI'19 Table 2 competitor: a spatial-temporal ConvNet energy model that
recovers the occluded pixels of its training clip by Langevin while it learns."""

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from abp_video import langevin, loop, metrics

# Pixels are on the reference code's scale: intensities in [0, 255] minus the clip's mean (of its visible values).
PIXEL_SCALE = 127.5


@dataclasses.dataclass(frozen=True)
class STGCNSettings:
    """The model and its learning, as the STGCN authors' code runs them (zilongzheng/STGConvNet, `main.py` defaults).

    Network: the CVPR'17 design for textures that are stationary in time only (fountain, fire: a structured
    background), the reference code's `FC_S` for 100x100 frames: conv1 with 120 filters of 7x7x7, stride 2,
    'same'; conv2 with 30 filters spanning conv1's whole frame (`FC_S`: 5x50x50 for 100-pixel frames), stride 2 in
    time, time padded by 2; conv3 with 5 filters of 2x1x1, time padded by 1; ReLU after each. Our sizes follow
    the same rule: conv2's kernel is 5 x (side / 2) x (side / 2), i.e. 5x16x16 at 32x32 and 5x75x75 at 150x150
    (the reference `FC_S_large` for 224-pixel frames also ends conv2 at the whole 75x75 map). f_θ(I) is the sum of
    conv3's outputs; weights start at N(0, 0.001²), biases at 0.

    Learning (analysis by synthesis, CVPR'17 §3): p(I; θ) ∝ exp(f_θ(I)) q(I) with q = N(0, σ² = 1) on the centred
    [0, 255] scale; `num_chains` persistent synthesis chains start at N(0, 1) and make `num_langevin_steps`
    steps of δ per iteration, I <- I - δ²/2 (I/σ² - ∂f/∂I) + δ e; then one Adam step on mean f(synthesised) -
    f(observed). Learning from incomplete data (CVPR'17 §5): the occluded pixels of the training clip start at
    the visible mean and make the same Langevin steps each iteration with the visible pixels clamped; the
    completed clip is what the learning step sees as observed, and the recovered clip at the end.

    `table_iterations`: the reference code's 500 epochs (one epoch = one iteration with one training clip).
    """
    filters: tuple = (120, 30, 5)
    first_kernel: int = 7
    second_kernel_time: int = 5
    third_kernel_time: int = 2
    num_chains: int = 3
    langevin_step_size: float = 0.3
    num_langevin_steps: int = 20
    reference_sigma: float = 1.0
    learning_rate: float = 0.001
    adam_beta1: float = 0.5
    init_std: float = 0.001
    table_iterations: int = 500


STGCN = STGCNSettings()


def strided_conv3d(videos, kernel):
    """A stride-2, 'same' 3D convolution computed as a stride-1 one on 2x2x2 blocks folded into channels.

    Equal to `tf.nn.conv3d(videos, kernel, strides 2, 'SAME')` within float rounding (tests/test_stgcn.py). The
    kernel is padded by one zero tap to an even size and folded the same way, so the convolution has 8x the input
    channels (24 for colour videos) and no stride: its input-gradient, which Langevin needs at every step, runs
    1.5x faster here than the strided convolution's with 3 output channels (docs/recover.md, "STGCN").

    Args:
      videos: [batch, time, height, width, channels].
      kernel: [k, k, k, channels, filters] with k odd.
    """
    sizes = videos.shape[1:4]
    taps, channels, filters = kernel.shape[0], kernel.shape[3], kernel.shape[4]
    outputs = [-(-size // 2) for size in sizes]
    blocks = [output + taps // 2 for output in outputs]  # A 'valid' kernel of taps // 2 + 1 blocks gives `outputs`.
    before = [max((output - 1) * 2 + taps - size, 0) // 2 for output, size in zip(outputs, sizes)]
    padded = tf.pad(videos, [[0, 0]] + [[low, 2 * block - size - low] for low, block, size in
                                        zip(before, blocks, sizes)] + [[0, 0]])
    folded = tf.reshape(padded, [-1, blocks[0], 2, blocks[1], 2, blocks[2], 2, channels])
    folded = tf.reshape(tf.transpose(folded, [0, 1, 3, 5, 2, 4, 6, 7]), [-1, *blocks, 8 * channels])
    half = (taps + 1) // 2
    even = tf.pad(kernel, [[0, 1], [0, 1], [0, 1], [0, 0], [0, 0]])
    even = tf.reshape(even, [half, 2, half, 2, half, 2, channels, filters])
    even = tf.reshape(tf.transpose(even, [0, 2, 4, 1, 3, 5, 6, 7]), [half, half, half, 8 * channels, filters])
    return tf.nn.conv3d(folded, even, [1, 1, 1, 1, 1], "VALID")


class Descriptor(keras.Model):
    """f_θ: a video [batch, time, height, width, 3] -> its score [batch] (CVPR'17 Eq. 1's f)."""

    def __init__(self, image_size, settings=STGCN, **kwargs):
        super().__init__(**kwargs)
        if image_size < 2:
            raise ValueError(f"STGCN needs frames of at least 2x2 pixels, got {image_size}")
        init = keras.initializers.RandomNormal(stddev=settings.init_std)
        first, second, third = settings.filters
        side = -(-image_size // 2)  # conv1's output side ('same', stride 2); conv2 spans it whole.
        self.conv1 = keras.layers.Conv3D(first, settings.first_kernel, strides=2, padding="same",
                                         kernel_initializer=init, name="conv1")
        self.conv2 = keras.layers.Conv3D(second, (settings.second_kernel_time, side, side), strides=(2, 1, 1),
                                         padding="valid", kernel_initializer=init, name="conv2")
        self.conv3 = keras.layers.Conv3D(third, (settings.third_kernel_time, 1, 1), padding="valid",
                                         kernel_initializer=init, name="conv3")
        self.time_padding = (settings.second_kernel_time // 2, settings.third_kernel_time // 2)

    def call(self, videos):
        if not self.conv1.built:
            self.conv1.build(videos.shape)
        # conv1 (stride 2, 'same') through its folded, stride-1 form: the same values, a faster input-gradient.
        hidden = tf.nn.relu(tf.nn.bias_add(strided_conv3d(videos, self.conv1.kernel), self.conv1.bias))
        pad = self.time_padding[0]
        hidden = tf.nn.relu(self.conv2(tf.pad(hidden, [[0, 0], [pad, pad], [0, 0], [0, 0], [0, 0]])))
        pad = self.time_padding[1]
        hidden = tf.nn.relu(self.conv3(tf.pad(hidden, [[0, 0], [pad, pad], [0, 0], [0, 0], [0, 0]])))
        return tf.reduce_sum(hidden, axis=[1, 2, 3, 4])


class STGCNRecoveryTrainer(loop.Trainer):
    """STGCN learned from one incomplete clip; its completed clip is the recovery (`--method stgcn`).

    The run loop (abp_video/loop.py) needs `summary_images()` too; the recover experiment adds it, with the writers of
    data/ that this package does not import.

    Args:
      config: a validated recover / inpaint config: `seed`, `num_iterations` and the run bookkeeping are read
        from it; the model's settings are `settings` (the reference code's).
      original: float32 [frames, height, width, 3] in [-1, 1], the whole clip; training sees only its visible
        values, the occluded ones serve the logged recovery error alone.
      visible: the mask of the same shape, 1 where seen.
    """

    def __init__(self, config, original, visible, settings=STGCN):
        self.config, self.settings = config, settings
        self.original, self.visible_mask = original, visible
        keras.utils.set_random_seed(config.seed)
        pixels = (original + 1.0) * PIXEL_SCALE
        self.mean = float(np.sum(pixels * visible) / max(np.sum(visible), 1.0))
        self.visible = tf.constant(visible[None], tf.float32)
        self.observed = tf.constant(((pixels - self.mean) * visible)[None], tf.float32)
        self.model = Descriptor(original.shape[1], settings, name="descriptor")
        self.model(self.observed)
        self.optimizer = keras.optimizers.Adam(settings.learning_rate, beta_1=settings.adam_beta1)
        self.optimizer.build(self.model.trainable_variables)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.synthesized = tf.Variable(self.rng.normal([settings.num_chains, *original.shape]), name="synthesized")
        self.completed = tf.Variable(self.observed, name="completed")  # Occluded values start at the visible mean.
        self.iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        self._step = tf.function(self._learning_iteration)

    def trackables(self):
        """What a checkpoint holds: weights, Adam slots, the chains, the completed clip, iteration, RNG."""
        return dict(model=self.model, optimizer=self.optimizer, synthesized=self.synthesized,
                    completed=self.completed, iteration=self.iteration, generator=self.rng)

    def energy(self, videos):
        """U(I) = ||I||² / (2σ²) - f_θ(I) per video (the reference distribution q is N(0, σ²))."""
        prior = tf.reduce_sum(tf.square(videos), axis=[1, 2, 3, 4]) / (2.0 * self.settings.reference_sigma ** 2)
        return prior - self.model(videos)

    def _learning_iteration(self):
        settings = self.settings
        chains = settings.num_chains
        visible, observed = self.visible, self.observed

        def energy(videos):
            # The synthesis chains, then the training clip with its visible values clamped to the observed ones:
            # one batch, so that both make their Langevin steps in the same convolutions.
            completed = visible * observed + (1.0 - visible) * videos[chains:]
            return self.energy(tf.concat([videos[:chains], completed], axis=0))

        start = tf.concat([self.synthesized, self.completed], axis=0)  # Warm starts: where the last iteration ended.
        (videos,), _ = langevin.langevin_sample(energy, [start], settings.langevin_step_size,
                                                settings.num_langevin_steps, self.rng)
        synthesized = videos[:chains]
        completed = visible * observed + (1.0 - visible) * videos[chains:]
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self.model(synthesized)) - tf.reduce_mean(self.model(completed))
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.synthesized.assign(synthesized)
        self.completed.assign(completed)
        self.iteration.assign_add(1)
        return loss

    def train_iteration(self):
        """One iteration: l Langevin steps of the chains and of the occluded values, then one Adam step."""
        result = {"loss": float(self._step())}
        iteration = int(self.iteration.numpy())
        if iteration % self.config.log_every == 0 or iteration == self.config.num_iterations:
            result["recovery_error_255"] = metrics.recovery_error(self.recover(), self.original, self.visible_mask)
        return result

    def recover(self):
        """The completed clip in [-1, 1]: visible pixels as observed, occluded ones from the Langevin chain."""
        completed = np.clip((self.completed[0].numpy() + self.mean) / PIXEL_SCALE - 1.0, -1.0, 1.0)
        return np.where(self.visible_mask > 0, self.original, completed)

    def synthesize(self):
        """The synthesis chains' current videos in [-1, 1], [num_chains, frames, height, width, 3]."""
        return np.clip((self.synthesized.numpy() + self.mean) / PIXEL_SCALE - 1.0, -1.0, 1.0)
