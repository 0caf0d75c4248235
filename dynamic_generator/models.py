"""Keras networks of the dynamic generator: transition F_α, emission G_β, and the model that unrolls them."""

import keras
import tensorflow as tf

from abp_video.layers import FrameNormalization, visibility_weights

from dynamic_generator.architecture import EMISSION_NETWORKS, emission_output_size  # noqa: F401


class TransitionModel(keras.Model):
    """F_α: s_t = tanh(s_{t-1} + r_α(s_{t-1}, ξ_t, m)) (AAAI'19 §4.1; authors' `state_dynamic_model`).

    `nonlinear`: r_α is an MLP {20, 20, state_dim} with ReLU; `linear`: r_α is one affine map.
    Weights start at N(0, 0.001²) and biases at zero, as in the authors' code.
    """

    def __init__(self, state_dim, kind="nonlinear", hidden_units=(20, 20), init_std=0.001, **kwargs):
        super().__init__(**kwargs)
        if kind not in ("nonlinear", "linear"):
            raise ValueError(f"transition kind must be 'nonlinear' or 'linear', got {kind!r}")
        self.state_dim = state_dim
        init = keras.initializers.RandomNormal(stddev=init_std)
        units = tuple(hidden_units) if kind == "nonlinear" else ()
        self.hidden = [keras.layers.Dense(n, activation="relu", kernel_initializer=init, name=f"hidden{i + 1}")
                       for i, n in enumerate(units)]
        self.residual = keras.layers.Dense(state_dim, kernel_initializer=init, name="residual")

    def call(self, previous_state, noise, motion=None):
        """One step. previous_state [batch, state_dim], noise [batch, noise_dim] -> state [batch, state_dim]."""
        parts = [noise, previous_state] if motion is None else [motion, noise, previous_state]
        hidden = tf.concat(parts, axis=-1)
        for layer in self.hidden:
            hidden = layer(hidden)
        return tf.tanh(previous_state + self.residual(hidden))

    def unroll(self, noise, initial_state, motion=None):
        """Runs the transition over a sequence.

        Args:
          noise: ξ, [batch, time, noise_dim] (time known when traced).
          initial_state: s_0, [batch, state_dim].
          motion: optional motion-type vector m, [batch, motion_dim].

        Returns:
          states [batch, time, state_dim] (s_1..s_T) and the last state [batch, state_dim].
        """
        state = initial_state
        states = []
        for noise_t in tf.unstack(noise, axis=1):
            state = self(state, noise_t, motion)
            states.append(state)
        return tf.stack(states, axis=1), state


class EmissionModel(keras.Model):
    """G_β: a state (plus appearance) vector -> one frame, by transposed convolutions (AAAI'19 §4.1).

    Every layer but the last is followed by FrameNormalization and ReLU; the last by tanh.
    Weights start at N(0, 0.005²), biases at zero (authors' `convt2d`). With `mixed_precision` the transposed
    convolutions compute in bfloat16 (weights stay float32) and their activations stay bfloat16 through the
    normalisation (statistics and β in float32) and ReLU; the output frames are float32.
    """

    def __init__(self, filters, kernels, strides, init_std=0.005, mixed_precision=False, **kwargs):
        super().__init__(**kwargs)
        if not len(filters) == len(kernels) == len(strides):
            raise ValueError(f"emission filters {filters}, kernels {kernels} and strides {strides} differ in length")
        init = keras.initializers.RandomNormal(stddev=init_std)
        policy = "mixed_bfloat16" if mixed_precision else None
        self.deconvolutions = [
            keras.layers.Conv2DTranspose(f, k, s, padding="same" if s > 1 else "valid", kernel_initializer=init,
                                         dtype=policy, name=f"deconv{i + 1}")
            for i, (f, k, s) in enumerate(zip(filters, kernels, strides))]
        self.normalizations = [FrameNormalization(name=f"norm{i + 1}") for i in range(len(filters) - 1)]
        self.image_size = emission_output_size(kernels, strides)

    def call(self, states, num_groups=1, visible=None):
        """states [batch, time, input_dim] -> frames [batch, time, height, width, 3] in (-1, 1).

        Normalisation statistics are taken over all batch x time frames (the authors' convention), or per
        group of clips when `num_groups` > 1. `visible` (incomplete clips: the frames' mask, [batch, time, height,
        width, 3 or 1]) takes them over the observed part only: each position of a layer counts by the visible
        fraction of the frame region it stands for, so a missing frame counts nowhere.
        """
        shape = tf.shape(states)
        hidden = tf.reshape(states, [-1, 1, 1, states.shape[-1]])
        if visible is not None:
            visible = tf.reshape(visible, [-1, *visible.shape[2:]])  # One mask per frame, as the frames are made.
        for index, deconvolution in enumerate(self.deconvolutions):
            hidden = deconvolution(hidden)
            if index < len(self.normalizations):
                weights = None if visible is None else visibility_weights(visible, hidden.shape[1:3])
                hidden = tf.nn.relu(self.normalizations[index](hidden, num_groups=num_groups, weights=weights))
        frames = tf.tanh(tf.cast(hidden, tf.float32))
        return tf.reshape(frames, [shape[0], shape[1], self.image_size, self.image_size, 3])


class DynamicGenerator(keras.Model):
    """x_t = G_β(s_t, a) with s_t = F_α(s_{t-1}, ξ_t, m) (AAAI'19 Eq. 1-2 and 11)."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.transition = TransitionModel(config.state_dim, config.transition, config.transition_hidden_units,
                                          config.transition_init_std, name="transition")
        self.emission = EmissionModel(config.emission_filters, config.emission_kernels, config.emission_strides,
                                      config.emission_init_std, config.mixed_precision, name="emission")
        self.state_dim = config.state_dim
        self.noise_dim = config.noise_dim
        self.appearance_dim = config.appearance_dim
        self.motion_dim = config.motion_dim

    def call(self, noise, initial_state, appearance=None, motion=None, num_groups=1, visible=None):
        """Generates a chunk of frames.

        Args:
          noise: ξ, [batch, time, noise_dim].
          initial_state: s_0 of the chunk, [batch, state_dim].
          appearance: a, [batch, appearance_dim], or None (Eq. 11: concatenated with s_t at the emission input,
            before it, as in the authors' code).
          motion: m, [batch, motion_dim], or None (§2.3: an input of the transition at every step).
          num_groups: independent groups of clips for the normalisation statistics.
          visible: optional mask of the frames, [batch, time, height, width, 3]: normalisation statistics over the
            visible values only (incomplete clips, `normalization_statistics` `visible`).

        Returns:
          frames [batch, time, height, width, 3] and the chunk's last state [batch, state_dim].
        """
        states, last_state = self.transition.unroll(noise, initial_state, motion if self.motion_dim else None)
        if appearance is not None and self.appearance_dim:
            tiled = tf.tile(appearance[:, None, :], [1, tf.shape(states)[1], 1])
            states = tf.concat([tiled, states], axis=-1)
        return self.emission(states, num_groups=num_groups, visible=visible), last_state

    def build_all(self, batch_size=1, time=2):
        """Creates every weight with a dummy forward pass."""
        appearance = tf.zeros([batch_size, self.appearance_dim]) if self.appearance_dim else None
        motion = tf.zeros([batch_size, self.motion_dim]) if self.motion_dim else None
        self(tf.zeros([batch_size, time, self.noise_dim]), tf.zeros([batch_size, self.state_dim]), appearance, motion)


class ImageEncoder(keras.Model):
    """E_γ: a static image x_0 -> [s_0, a] (AAAI'19 §4.5, Eq. 15).

    Convolutions {64, 128, 256} with kernels {5, 3, 3} and strides {2, 2, 1} (the paper's), LeakyReLU 0.2 between
    them (the paper does not name the non-linearity; the WACV'19 inference networks of the same group use it), then
    one fully connected layer to state_dim + appearance_dim, split into s_0 and a. Keras default initialisers.
    """

    def __init__(self, state_dim, appearance_dim, filters=(64, 128, 256), kernels=(5, 3, 3), strides=(2, 2, 1),
                 **kwargs):
        super().__init__(**kwargs)
        if not len(filters) == len(kernels) == len(strides):
            raise ValueError(f"encoder filters {filters}, kernels {kernels} and strides {strides} differ in length")
        self.state_dim = state_dim
        self.convolutions = [keras.layers.Conv2D(f, k, s, padding="same", name=f"conv{i + 1}")
                             for i, (f, k, s) in enumerate(zip(filters, kernels, strides))]
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(state_dim + appearance_dim, name="dense")

    def call(self, images):
        """images [batch, height, width, 3] in [-1, 1] -> (s_0 [batch, state_dim], a [batch, appearance_dim])."""
        hidden = images
        for convolution in self.convolutions:
            hidden = tf.nn.leaky_relu(convolution(hidden), alpha=0.2)
        code = self.dense(self.flatten(hidden))
        return code[:, :self.state_dim], code[:, self.state_dim:]
