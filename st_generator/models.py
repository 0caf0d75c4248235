"""Keras networks of the spatial-temporal generator: 3D transposed-convolution generators and the LI-ABP init net."""

import keras
import tensorflow as tf

from abp_video.layers import FrameNormalization, visibility_weights

from st_generator.architecture import MODEL_KINDS, audio_length, layer_specs, output_shape  # noqa: F401


def used_taps(size, taps):
    """The kernel taps (a slice) of a stride-1 'same' convolution along a dimension of `size` inputs that can meet an
    input value: the central 2·size − 1 of an odd kernel when that is fewer than `taps`; all of them otherwise."""
    if size is None or taps % 2 == 0 or 2 * size - 1 >= taps:
        return slice(None)
    centre = (taps - 1) // 2
    return slice(centre - (size - 1), centre + size)


class CroppedConv3DTranspose(keras.layers.Conv3DTranspose):
    """Conv3DTranspose that, at stride 1 with 'same' padding, uses only the kernel taps that can meet the input.

    Model-3's 7x7x7 layer-2 kernel acts on a 2x4x4 grid: of its 7 taps in time only the central 3 (offsets -1..1)
    ever touch an input value; the others multiply the zero padding. Cropping an odd kernel of size k to its central
    2n - 1 taps along a dimension of n < (k + 1) / 2 values gives the same output (and zero gradient to the unused
    taps, as before) for less than half the arithmetic. The variables, and so the checkpoints, are unchanged.
    """

    def call(self, inputs):
        kernel = self.kernel
        if self.padding == "same" and all(stride == 1 for stride in self.strides):
            kernel = kernel[tuple(used_taps(size, taps) for size, taps in zip(inputs.shape[1:4], self.kernel_size))]
        outputs = keras.ops.conv_transpose(inputs, kernel, strides=list(self.strides), padding=self.padding,
                                           data_format=self.data_format)
        return outputs + self.bias if self.use_bias else outputs


def normalize_videos(normalization, hidden, num_groups=1, visible=None):
    """`FrameNormalization` of [batch, t, h, w, c] activations: one normalisation over batch, time and space
    ([batch·t, h, w, c]), per group of clips when `num_groups` > 1. With `visible` (the output's mask, [batch,
    frames, height, width, channels]) each position is weighted by the visible fraction of the output cell it
    stands for (`abp_video.layers.visibility_weights`)."""
    shape = tf.shape(hidden)
    flat = tf.reshape(hidden, [-1, *hidden.shape[2:]])
    weights = None
    if visible is not None:
        weights = tf.reshape(visibility_weights(visible, hidden.shape[1:4]), [-1, *hidden.shape[2:4], 1])
    return tf.reshape(normalization(flat, num_groups=num_groups, weights=weights), shape)


class SpatialTemporalGenerator(keras.Model):
    """G_W: latent Z [batch, t, h, w, channels] -> video [batch, frames, height, width, 3] in (-1, 1) (WACV'19 §3).

    3D transposed convolutions; every layer but the last is followed by batch normalisation (statistics of the
    current batch, learnable centre, as the authors' `tf.contrib` batch_norm in training mode) and ReLU, the last
    by tanh. Weights start at N(0, 0.02²) (the DCGAN convention; the paper does not give one), biases at zero.
    """

    def __init__(self, model, filters, first_kernel_time=1, init_std=0.02, **kwargs):
        super().__init__(**kwargs)
        if model not in MODEL_KINDS:
            raise ValueError(f"model must be one of {MODEL_KINDS}, got {model!r}")
        if filters[-1] != 3:
            raise ValueError(f"the last generator layer must have 3 filters (RGB), got {filters}")
        init = keras.initializers.RandomNormal(stddev=init_std)
        self.model_kind = model
        self.deconvolutions = [
            CroppedConv3DTranspose(f, kernel, strides, padding=padding, kernel_initializer=init,
                                   name=f"deconv{i + 1}")
            for i, (f, kernel, strides, padding) in enumerate(layer_specs(model, filters, first_kernel_time))]
        self.normalizations = [FrameNormalization(name=f"norm{i + 1}") for i in range(len(filters) - 1)]

    def call(self, latents, num_groups=1, visible=None):
        """latents [batch, t, h, w, channels] -> video [batch, frames, height, width, 3].

        Normalisation statistics are over the whole batch (training, as the authors), or per group of clips when
        `num_groups` > 1 (independent samples drawn together). `visible` (incomplete data: the videos' mask,
        [batch, frames, height, width, 3 or 1]) takes them over the observed part only: every hidden position
        counts by the visible fraction of the output it stands for.
        """
        hidden = latents
        for index, deconvolution in enumerate(self.deconvolutions):
            hidden = deconvolution(hidden)
            if index < len(self.normalizations):
                hidden = tf.nn.relu(normalize_videos(self.normalizations[index], hidden, num_groups, visible))
        return tf.tanh(hidden)


class InitializationNetwork(keras.Model):
    """f_V: video -> latent Z, the LI-ABP initialiser (WACV'19 §3.3), mirroring the generator with 3D convolutions.

    Each generator layer is undone by a convolution with the same kernel and strides, in reverse order, whose filters
    are that layer's input channels (the last one outputs Z's channels, linear); LeakyReLU 0.2 between layers.
    """

    def __init__(self, model, filters, first_kernel_time, latent_channels, init_std=0.02, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.RandomNormal(stddev=init_std)
        specs = layer_specs(model, filters, first_kernel_time)
        inputs = [latent_channels] + list(filters[:-1])  # Input channels of every generator layer.
        self.convolutions = [
            keras.layers.Conv3D(channels, kernel, strides, padding=padding, kernel_initializer=init,
                                name=f"conv{len(specs) - i}")
            for i, ((_, kernel, strides, padding), channels) in enumerate(zip(specs[::-1], inputs[::-1]))]

    def call(self, videos):
        """videos [batch, frames, height, width, 3] -> Z [batch, t, h, w, channels]."""
        hidden = videos
        for index, convolution in enumerate(self.convolutions):
            hidden = convolution(hidden)
            if index + 1 < len(self.convolutions):
                hidden = tf.nn.leaky_relu(hidden, alpha=0.2)
        return hidden


# ---- WACV'19 §3.5: the audio generator of the shared audio-video representation -----------------------------------

class AudioGenerator(keras.Model):
    """G_a: the latent Z of a Model-3 video generator -> audio [batch, samples] in (-1, 1) (WACV'19 §3.5).

    Z [batch, 1, 1, 1, channels] is read as a 1-sample sequence of `channels` channels, [batch, 1, channels]; then
    1D transposed convolutions (paper: {512, 256, 128, 1}, kernel 20, stride 10, 'same' padding), each multiplying
    the length by the stride: 1 -> 10 -> 100 -> 1000 -> 10000 samples = stride ** layers. With `top_length` > 0 the
    first layer's kernel and stride are `top_length` instead (from one sample, a map to `top_length` steps), so the
    length is top_length * stride ** (layers - 1): 48 -> 48,000 samples, the paper's audio length (§4.2), with the
    three later layers as the paper's. BN (batch statistics, as the video generator's) + ReLU between layers, tanh
    last; weights from N(0, 0.02²).
    """

    def __init__(self, filters, kernel_size=20, stride=10, init_std=0.02, top_length=0, **kwargs):
        super().__init__(**kwargs)
        if filters[-1] != 1:
            raise ValueError(f"the last audio generator layer must have 1 filter (a mono signal), got {filters}")
        init = keras.initializers.RandomNormal(stddev=init_std)
        shapes = [(top_length, top_length) if i == 0 and top_length else (kernel_size, stride)
                  for i in range(len(filters))]
        self.deconvolutions = [
            keras.layers.Conv1DTranspose(f, kernel, steps, padding="same", kernel_initializer=init,
                                         name=f"audio_deconv{i + 1}")
            for i, (f, (kernel, steps)) in enumerate(zip(filters, shapes))]
        self.normalizations = [FrameNormalization(name=f"audio_norm{i + 1}") for i in range(len(filters) - 1)]

    def call(self, latents):
        """latents [batch, 1, 1, 1, channels] -> audio [batch, samples]."""
        hidden = tf.reshape(latents, [tf.shape(latents)[0], 1, latents.shape[-1]])
        for index, deconvolution in enumerate(self.deconvolutions):
            hidden = deconvolution(hidden)
            if index < len(self.normalizations):
                # [batch, length, c] -> [batch, length, 1, c]: one normalisation over batch and time.
                hidden = tf.nn.relu(self.normalizations[index](hidden[:, :, None, :]))[:, :, 0, :]
        return tf.tanh(hidden[:, :, 0])


# ---- Baselines with the same generator (WACV'19 Tables 2-3): VAE / wake-sleep encoder, 3D GAN critic ------

# The encoder's log-variance is squashed into this range: exp() of an unbounded output overflows (or its KL term's
# gradient explodes) when an untrained encoder emits large values, and a variance going to 0 makes the
# reparameterised sample's gradient blow up. The range (posterior standard deviation 0.0025 to 7.4) holds any
# posterior of Z under the N(0, I) prior that these generators give, so it only cuts off numerical accidents.
LOG_VARIANCE_RANGE = (-12.0, 4.0)


class GaussianInferenceNetwork(keras.Model):
    """q(Z | x) = N(μ(x), diag exp(log σ²(x))), for the VAE and wake-sleep baselines.

    The same mirror of the generator as LI-ABP's f_V (`InitializationNetwork`: its 3D convolutions in reverse,
    LeakyReLU 0.2), whose last convolution outputs twice Z's channels: the mean and the (bounded) log-variance.
    """

    def __init__(self, model, filters, first_kernel_time, latent_channels, init_std=0.02, **kwargs):
        super().__init__(**kwargs)
        self.latent_channels = latent_channels
        self.body = InitializationNetwork(model, filters, first_kernel_time, 2 * latent_channels, init_std,
                                          name="mirror")

    def call(self, videos):
        """videos [batch, frames, height, width, 3] -> (mean, log_variance), each [batch, t, h, w, channels]."""
        output = self.body(videos)
        mean, raw = output[..., :self.latent_channels], output[..., self.latent_channels:]
        low, high = LOG_VARIANCE_RANGE
        centre, half = 0.5 * (low + high), 0.5 * (high - low)
        return mean, centre + half * tf.tanh((raw - centre) / half)  # Near the identity around raw = 0.


class VideoDiscriminator(keras.Model):
    """D: video [batch, frames, height, width, 3] -> logit [batch], the 3D GAN critic (Vondrick et al. 2016).

    Mirrors the generator as Vondrick's discriminator mirrors theirs: its layers in reverse, 4x4x4 stride-2
    convolutions for the generator's stride-2 layers (then Model-3's 7x7x7 and the 'valid' 4x4xk_t, which brings the
    video back to one value), filters = the generator's input channels of each layer; batch normalisation (the
    generator's: statistics of the current batch, learnable centre) on every hidden layer but the first, LeakyReLU
    0.2, and a linear logit from the last convolution.
    """

    def __init__(self, model, filters, first_kernel_time, init_std=0.02, **kwargs):
        super().__init__(**kwargs)
        init = keras.initializers.RandomNormal(stddev=init_std)
        specs = layer_specs(model, filters, first_kernel_time)[::-1]
        channels = list(filters[:-1])[::-1] + [1]  # The generator's input channels, in reverse; then the logit.
        self.convolutions = [
            keras.layers.Conv3D(c, kernel, strides, padding=padding, kernel_initializer=init, name=f"conv{i + 1}")
            for i, ((_, kernel, strides, padding), c) in enumerate(zip(specs, channels))]
        self.normalizations = [FrameNormalization(name=f"norm{i + 2}") for i in range(len(specs) - 2)]

    def call(self, videos):
        hidden = videos
        for index, convolution in enumerate(self.convolutions):
            hidden = convolution(hidden)
            if index + 1 == len(self.convolutions):
                break
            if index > 0:  # No normalisation on the first layer (DCGAN, Vondrick et al.).
                hidden = normalize_videos(self.normalizations[index - 1], hidden)
            hidden = tf.nn.leaky_relu(hidden, alpha=0.2)
        return tf.reshape(hidden, [tf.shape(hidden)[0], -1])[:, 0]
