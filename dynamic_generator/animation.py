"""The conditional dynamic generator for animating a static image (AAAI'19 §4.5): encoder E_γ, then ABPTT."""

import numpy as np
import tensorflow as tf

from abp_video.data import writers
from dynamic_generator.models import ImageEncoder
from dynamic_generator.train import DynamicGeneratorTrainer

# An animate run keeps the first frames of its training clips here: animated beside a new image, they give it the
# batch company (normalisation statistics) it had in training.
REFERENCE_FILE = "reference_first_frames.npy"


class AnimationTrainer(DynamicGeneratorTrainer):
    """The conditional dynamic generator (AAAI'19 §4.5, Eq. 15-17): [s_0, a] = E_γ(x_0), s_t = F_α(s_{t-1}, ξ_t),
    x_t = G_β(s_t, a) for t = 1..T.

    ABPTT with Langevin on ξ only (s_0 and a are the encoder's outputs, not latent variables), then one Adam step
    on α, β and γ together. Chunks as in `DynamicGeneratorTrainer`: the encoder's s_0 starts the first chunk, later chunks start
    from the carried state; the appearance E_γ(x_0) enters every chunk.

    Args:
      config: a validated config with an encoder (the animate presets).
      observed: float32 [clips, 1 + num_frames, height, width, 3]: x_0, then the frames to predict.
      num_clips: number of clips when `observed` is None (restoring a run to animate images).
    """

    def __init__(self, config, observed=None, num_clips=1):
        self.first_frames = None if observed is None else tf.constant(observed[:, 0], tf.float32)
        super().__init__(config, None if observed is None else observed[:, 1:], num_clips)
        self._encode_step = tf.function(self.encoder)
        self._learn_step = self._compile(self._learn_animation_chunk, ("sum", "mean", "batch"))

    def _build_networks(self):
        config = self.config
        encoder = config.encoder
        self.encoder = ImageEncoder(config.state_dim, config.appearance_dim, encoder.encoder_filters,
                                    encoder.encoder_kernels, encoder.encoder_strides, name="encoder")
        self.encoder(tf.zeros([1, config.image_size, config.image_size, 3]))

    @property
    def trainable_variables(self):
        return self.model.trainable_variables + self.encoder.trainable_variables

    def trackables(self):
        return dict(super().trackables(), encoder=self.encoder)

    def _learn_animation_chunk(self, observed, noise, first_frames, state, first_chunk):
        """One Adam step on α, β, γ given ξ (Eq. 16-17); the encoder's s_0 on the first chunk, else `state`."""
        with tf.GradientTape() as tape:
            initial_state, appearance = self.encoder(first_frames)
            frames, last_state = self.model(noise, initial_state if first_chunk else state, appearance)
            loss = tf.reduce_sum(self.reconstruction_energy(observed, frames))
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, self._mse(observed, frames), last_state

    def _sweep(self, clips, learn):
        config = self.config
        first_frames = self.first_frames[clips]
        state, appearance = self._encode_step(first_frames)
        vectors = {"appearance": appearance}
        for chunk in range(config.num_chunks):
            frames = slice(chunk * config.chunk_length, (chunk + 1) * config.chunk_length)
            observed = self.observed[clips, frames]
            noise, _, _, acceptance = self._infer_step(observed, self.latents.noise[clips, frames], state, vectors,
                                                       False, config.langevin_step_size, infer_clip_vectors=False)
            self.latents.noise[clips, frames].assign(noise)
            if learn:
                loss, error, state = self._learn_step(observed, noise, first_frames, state, chunk == 0)
                yield loss, error, acceptance
            else:
                _, state = self._generate_step(noise, state, vectors, 1)

    def reconstruct(self):
        """x_1..x_T regenerated from E_γ(x_0) and the inferred ξ, per mini-batch, [clips, frames, h, w, 3]."""
        config = self.config
        batches = []
        for clips in self.batches:
            state, appearance = self._encode_step(self.first_frames[clips])
            chunks = []
            for chunk in range(config.num_chunks):
                noise = self.latents.noise[clips, chunk * config.chunk_length:(chunk + 1) * config.chunk_length]
                frames, state = self._generate_step(noise, state, {"appearance": appearance}, 1)
                chunks.append(frames.numpy())
            batches.append(np.concatenate(chunks, axis=1))
        return np.concatenate(batches, axis=0)

    def animate(self, images, num_frames, num_samples, seed, reference_images=None):
        """Turns each image into `num_samples` videos of `num_frames` predicted frames (§4.5, Figure 7).

        The emission normalises with the statistics of the frames it is given and was trained on batches of
        different clips; `reference_images` (e.g. training first frames) are animated in the same batch so that
        one image is generated under training-like statistics, then dropped.

        Args:
          images: float32 [num_images, height, width, 3] in [-1, 1].
          num_frames, num_samples, seed: length, videos per image, seed of ξ ~ N(0, I).
          reference_images: optional float32 [num_reference, height, width, 3].

        Returns:
          float32 [num_images, num_samples, num_frames, height, width, 3].
        """
        images = np.asarray(images, np.float32)
        batch = images if reference_images is None else np.concatenate([images, reference_images])
        initial_state, appearance = (value.numpy() for value in self._encode_step(tf.constant(batch)))
        videos = []
        for sample in range(num_samples):
            video = self.synthesize(len(batch), num_frames, seed=seed * 1000 + sample, initial_state=initial_state,
                                    appearance=appearance, num_groups=1)
            videos.append(video[:len(images)])
        return np.stack(videos, axis=1)

    def summary_images(self):
        """TensorBoard: the first clip's x_0 repeated, its frames, their reconstruction and one animation."""
        every = max(1, self.config.num_frames // 10)
        observed = self.observed[0].numpy()
        reference = self.first_frames.numpy()
        animation = self.animate(reference[:1], self.config.num_frames, 1, 0, reference[1:])[0, 0]
        return {"samples/observed_reconstructed_animated":
                writers.frame_strip([observed, self.reconstruct()[0], animation], every=every)}
