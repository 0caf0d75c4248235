"""MoCoGAN (Tulyakov et al., CVPR'18), the AAAI'19 texture comparison's GAN: content and motion codes, a recurrent
motion network, an image generator, image and video discriminators, trained on one clip."""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from abp_video import loop


@dataclasses.dataclass(frozen=True)
class MoCoGANSettings:
    """MoCoGAN as its authors' code trains it by default (sergeytulyakov/mocogan, `train.py` and `trainers.py`).

    Codes: content z_C ∈ R^50 fixed per video, motion z_M(t) ∈ R^10 from a GRU cell driven by N(0, I) noise
    from an N(0, I) state; no categories (one clip, one texture). Image generator: transposed convolutions from
    [z_C, z_M(t)] as a 1x1 map: ngf·8 filters 4x4 'valid' to 4x4, then ngf·4, ngf·2, ngf (4x4, stride 2, padding 1),
    then 3 channels and tanh; BatchNorm + ReLU between (64x64 frames: four stride-2 layers; at 32x32 the ngf·8 layer
    is dropped, as one stride-2 layer fewer). Patch image discriminator: ndf, ndf·2, ndf·4 then 1 filters (4x4,
    stride 2, padding 1), LeakyReLU 0.2, BatchNorm after the 2nd and 3rd. Video discriminator: 3D convolutions
    4x4x4 stride (1, 2, 2), padding (0, 1, 1): ndf, ndf·2, ndf·4, ndf·8, then 1 filter 4x4x4 'valid' (on 16 frames
    of 64x64 one logit; with one spatial layer fewer at 32x32, 4 logits along time); BatchNorm after all but the
    first; on clips shorter than the time kernels allow (the tests' 8 frames) the time kernels shrink to fit.
    No biases in any convolution; PyTorch's default initialisation U(±1/sqrt(fan_in)).

    Training (one iteration = one of their batches): an image-discriminator step on `image_batch` real frames
    against as many generated frames (each a random time step of a generated video), a video-discriminator step
    on `video_batch` real sub-clips of `video_length` frames, every `every_nth` frame, against as many generated
    videos, then one generator step against both; binary cross-entropy on the logits; Adam 2e-4, β (0.5, 0.999),
    L2 weight decay 1e-5 added to every gradient (PyTorch Adam's `weight_decay`); no instance noise (their
    default). BatchNorm uses the batch's statistics while training and its running averages (momentum 0.1) to
    synthesise, as their `generator.eval()` does. Their default budget is 100,000 batches.
    """
    content_dim: int = 50
    motion_dim: int = 10
    generator_filters: int = 64
    discriminator_filters: int = 64
    video_length: int = 16
    every_nth: int = 2
    image_batch: int = 10
    video_batch: int = 3
    learning_rate: float = 2e-4
    adam_beta1: float = 0.5
    adam_beta2: float = 0.999
    weight_decay: float = 1e-5


MOCOGAN = MoCoGANSettings()


def _torch_init():
    # PyTorch's default for convolutions and GRU cells: U(±1/sqrt(fan_in)) (Keras computes the same fan_in for a
    # transposed convolution's kernel, k·k·filters, as PyTorch does).
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


def _batch_norm(name):
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)


def stride_layers(image_size):
    """Stride-2 layers between a 4x4 map and `image_size` (a power of two from 16)."""
    layers = math.log2(image_size / 4) if image_size >= 16 else -1
    if layers != int(layers) or layers < 2:
        raise ValueError(f"MoCoGAN's networks take frames of 16, 32, 64, 128... pixels (4 · 2^k), got {image_size}; "
                         f"choose --image_size 64 (the paper preset) or 32 (quick)")
    return int(layers)


class VideoGenerator(keras.Model):
    """[z_C, z_M(t)] -> frames, z_M(t) from the GRU cell; `call(codes)` maps codes [n, dim] to frames [n, H, W, 3]."""

    def __init__(self, image_size, settings=MOCOGAN, **kwargs):
        super().__init__(**kwargs)
        self.settings = settings
        init = _torch_init()
        bound = 1.0 / math.sqrt(settings.motion_dim)
        uniform = keras.initializers.RandomUniform(-bound, bound)
        self.recurrent = keras.layers.GRUCell(settings.motion_dim, kernel_initializer=uniform,
                                              recurrent_initializer=uniform, bias_initializer=uniform, name="recurrent")
        strides = stride_layers(image_size)
        filters = [settings.generator_filters * 2 ** (strides - 1 - index) for index in range(strides)] + [3]
        self.deconvolutions = [keras.layers.Conv2DTranspose(filters[0], 4, 1, padding="valid", use_bias=False,
                                                            kernel_initializer=init, name="deconv1")]
        self.deconvolutions += [keras.layers.Conv2DTranspose(count, 4, 2, padding="same", use_bias=False,
                                                             kernel_initializer=init, name=f"deconv{index + 2}")
                                for index, count in enumerate(filters[1:])]
        self.normalizations = [_batch_norm(f"norm{index + 1}") for index in range(len(filters) - 1)]

    def motion_codes(self, num_videos, num_frames, generator):
        """z_M(1..T) [num_videos, num_frames, motion_dim]: the GRU from an N(0, I) state, N(0, I) inputs."""
        state = generator.normal([num_videos, self.settings.motion_dim])
        codes = []
        for _ in range(num_frames):
            state, _ = self.recurrent(generator.normal([num_videos, self.settings.motion_dim]), [state])
            codes.append(state)
        return tf.stack(codes, axis=1)

    def video_codes(self, num_videos, num_frames, generator):
        """[z_C repeated over time, z_M(t)]: [num_videos, num_frames, content_dim + motion_dim]."""
        content = generator.normal([num_videos, 1, self.settings.content_dim])
        motion = self.motion_codes(num_videos, num_frames, generator)
        return tf.concat([tf.tile(content, [1, num_frames, 1]), motion], axis=-1)

    def call(self, codes, training=False):
        hidden = tf.reshape(codes, [-1, 1, 1, codes.shape[-1]])
        for index, deconvolution in enumerate(self.deconvolutions):
            hidden = deconvolution(hidden)
            if index < len(self.normalizations):
                hidden = tf.nn.relu(self.normalizations[index](hidden, training=training))
        return tf.tanh(hidden)

    def videos(self, num_videos, num_frames, generator, training=False):
        """Generated videos [num_videos, num_frames, H, W, 3] in (-1, 1)."""
        codes = self.video_codes(num_videos, num_frames, generator)
        frames = self(tf.reshape(codes, [num_videos * num_frames, -1]), training=training)
        return tf.reshape(frames, [num_videos, num_frames, *frames.shape[1:]])

    def images(self, num_images, generator, training=False):
        """Generated frames [num_images, H, W, 3], each a random time step of its own generated video."""
        length = self.settings.video_length
        codes = self.video_codes(num_images, length, generator)
        steps = tf.cast(generator.uniform([num_images], 0, length, dtype=tf.int64), tf.int32)
        return self(tf.gather(codes, steps, axis=1, batch_dims=1), training=training)


class ImageDiscriminator(keras.Model):
    """Patch image discriminator: frames [n, H, W, 3] -> logits [n, patches]."""

    def __init__(self, settings=MOCOGAN, **kwargs):
        super().__init__(**kwargs)
        init, width = _torch_init(), settings.discriminator_filters
        self.convolutions = [keras.layers.Conv2D(count, 4, 2, padding="same", use_bias=False, kernel_initializer=init,
                                                 name=f"conv{index + 1}")
                             for index, count in enumerate([width, 2 * width, 4 * width, 1])]
        self.normalizations = {1: _batch_norm("norm2"), 2: _batch_norm("norm3")}

    def call(self, images, training=False):
        hidden = images
        for index, convolution in enumerate(self.convolutions[:-1]):
            hidden = convolution(hidden)
            if index in self.normalizations:
                hidden = self.normalizations[index](hidden, training=training)
            hidden = tf.nn.leaky_relu(hidden, 0.2)
        logits = self.convolutions[-1](hidden)
        return tf.reshape(logits, [tf.shape(logits)[0], -1])


class VideoDiscriminator(keras.Model):
    """Video discriminator: clips [n, T, H, W, 3] -> logits [n, outputs]."""

    def __init__(self, image_size, num_frames, settings=MOCOGAN, **kwargs):
        super().__init__(**kwargs)
        init, width = _torch_init(), settings.discriminator_filters
        strides = stride_layers(image_size)
        self.layers_ = []
        time = num_frames
        for index in range(strides):
            taps = 4 if time >= 4 else 1
            time -= taps - 1
            self.layers_.append(keras.layers.Conv3D(width * 2 ** index, (taps, 4, 4), (1, 2, 2), padding="valid",
                                                    use_bias=False, kernel_initializer=init, name=f"conv{index + 1}"))
        self.last = keras.layers.Conv3D(1, (min(4, time), 4, 4), padding="valid", use_bias=False,
                                        kernel_initializer=init, name=f"conv{strides + 1}")
        self.normalizations = [None] + [_batch_norm(f"norm{index + 1}") for index in range(1, strides)]

    def call(self, videos, training=False):
        hidden = videos
        for convolution, normalization in zip(self.layers_, self.normalizations):
            # PyTorch's padding (0, 1, 1): one pixel on each side in space, none in time.
            hidden = convolution(tf.pad(hidden, [[0, 0], [0, 0], [1, 1], [1, 1], [0, 0]]))
            if normalization is not None:
                hidden = normalization(hidden, training=training)
            hidden = tf.nn.leaky_relu(hidden, 0.2)
        logits = self.last(hidden)
        return tf.reshape(logits, [tf.shape(logits)[0], -1])


def _cross_entropy(logits, label):
    targets = tf.fill(tf.shape(logits), float(label))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits))


class MoCoGANTrainer(loop.Trainer):
    """MoCoGAN learned from one clip (`--method mocogan` of `texture`).

    Args:
      config: a validated texture config: `seed`, `num_iterations` and the run bookkeeping are read from it; the
        networks and their training are `settings` (the MoCoGAN authors' defaults).
      clip: float32 [frames, height, width, 3] in [-1, 1].
    """

    def __init__(self, config, clip, settings=MOCOGAN):
        self.config, self.clip = config, tf.constant(clip, tf.float32)
        num_frames, size = clip.shape[0], clip.shape[1]
        # Sub-clips of `video_length` frames, every `every_nth`; on shorter clips every frame, then fewer frames.
        self.every_nth = settings.every_nth if (settings.video_length - 1) * settings.every_nth < num_frames else 1
        self.video_length = min(settings.video_length, num_frames)
        self.settings = dataclasses.replace(settings, video_length=self.video_length)
        keras.utils.set_random_seed(config.seed)
        self.generator = VideoGenerator(size, self.settings, name="generator")
        self.image_discriminator = ImageDiscriminator(self.settings, name="image_discriminator")
        self.video_discriminator = VideoDiscriminator(size, self.video_length, self.settings,
                                                      name="video_discriminator")
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.generator.videos(1, self.video_length, self.rng)
        self.image_discriminator(self.clip[:1])
        self.video_discriminator(self.clip[None, :self.video_length])
        self.rng.reset_from_seed(config.seed)
        self.optimizers = {}
        for name in ("generator", "image_discriminator", "video_discriminator"):
            optimizer = keras.optimizers.Adam(settings.learning_rate, beta_1=settings.adam_beta1,
                                              beta_2=settings.adam_beta2, epsilon=1e-8)
            optimizer.build(getattr(self, name).trainable_variables)
            self.optimizers[name] = optimizer
        self.iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        self._step = tf.function(self._training_iteration)

    def trackables(self):
        """What a checkpoint holds: the three networks, their Adam slots, the iteration and the RNG state."""
        return dict(generator=self.generator, image_discriminator=self.image_discriminator,
                    video_discriminator=self.video_discriminator, iteration=self.iteration, rng=self.rng,
                    **{f"{name}_optimizer": optimizer for name, optimizer in self.optimizers.items()})

    def _apply(self, name, loss, tape):
        network = getattr(self, name)
        variables = network.trainable_variables
        gradients = tape.gradient(loss, variables)
        # PyTorch Adam's weight_decay: L2 added to the gradient before the moments (not decoupled).
        decay = self.settings.weight_decay
        gradients = [gradient + decay * variable for gradient, variable in zip(gradients, variables)]
        self.optimizers[name].apply_gradients(zip(gradients, variables))

    def real_images(self):
        frames = self.rng.uniform([self.settings.image_batch], 0, self.clip.shape[0], dtype=tf.int64)
        return tf.gather(self.clip, frames)

    def real_videos(self):
        span = (self.video_length - 1) * self.every_nth + 1
        starts = self.rng.uniform([self.settings.video_batch], 0, self.clip.shape[0] - span + 1, dtype=tf.int64)
        frames = starts[:, None] + tf.range(self.video_length, dtype=tf.int64)[None] * self.every_nth
        return tf.gather(self.clip, frames)

    def discriminator_step(self, name, real, fake):
        """One step of a discriminator: real -> 1, fake (held fixed) -> 0. Returns its loss."""
        with tf.GradientTape() as tape:
            network = getattr(self, name)
            loss = (_cross_entropy(network(real, training=True), 1.0) +
                    _cross_entropy(network(tf.stop_gradient(fake), training=True), 0.0))
        self._apply(name, loss, tape)
        return loss

    def generator_step(self):
        """One generator step: fresh frames and videos scored as real by both discriminators. Returns its loss."""
        settings = self.settings
        with tf.GradientTape() as tape:
            images = self.generator.images(settings.image_batch, self.rng, training=True)
            videos = self.generator.videos(settings.video_batch, self.video_length, self.rng, training=True)
            loss = (_cross_entropy(self.image_discriminator(images, training=True), 1.0) +
                    _cross_entropy(self.video_discriminator(videos, training=True), 1.0))
        self._apply("generator", loss, tape)
        return loss

    def _training_iteration(self):
        settings = self.settings
        image_loss = self.discriminator_step(
            "image_discriminator", self.real_images(),
            self.generator.images(settings.image_batch, self.rng, training=True))
        video_loss = self.discriminator_step(
            "video_discriminator", self.real_videos(),
            self.generator.videos(settings.video_batch, self.video_length, self.rng, training=True))
        generator_loss = self.generator_step()
        self.iteration.assign_add(1)
        return generator_loss, image_loss, video_loss

    def train_iteration(self):
        """Image-discriminator, video-discriminator and generator steps; their losses (`loss` = the generator's)."""
        generator_loss, image_loss, video_loss = self._step()
        return {"loss": float(generator_loss), "image_discriminator_loss": float(image_loss),
                "video_discriminator_loss": float(video_loss)}

    def synthesize(self, num_samples, num_frames, seed):
        """New clips of any length [num_samples, num_frames, H, W, 3] in (-1, 1) (BatchNorm's running averages)."""
        generator = tf.random.Generator.from_seed(seed)
        return np.stack([self.generator.videos(1, num_frames, generator)[0].numpy() for _ in range(num_samples)])
