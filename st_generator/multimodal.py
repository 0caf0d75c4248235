"""ABP for the shared audio-video representation (WACV'19 §3.5): two generators, one latent Z, cross-modal prediction."""

import keras
import numpy as np
import tensorflow as tf

from abp_video import langevin, loop
from abp_video.data import writers
from st_generator.models import AudioGenerator
from st_generator.train import build_adam, build_generator

MODALITIES = ("video", "audio", "both")


def build_audio_generator(config):
    """G_a of a `MultimodalConfig`, built on the video part's latent grid."""
    audio, video = config.audio, config.video
    model = AudioGenerator(audio.audio_filters, audio.audio_kernel, audio.audio_stride, video.init_std,
                           audio.audio_top_length, name="audio_generator")
    model(tf.zeros([1, *video.latent_grid, video.latent_channels]))
    return model


class MultimodalTrainer(loop.Trainer):
    """A Model-3 video generator G_v and an audio generator G_a on one latent Z per utterance, learned by ABP.

    Inference (Langevin, Eq. 4, warm-started chains) and learning (Adam on both generators, Eq. 5) use the joint
    energy E(Z) = ||V − G_v(Z)||² / 2σ_v² + ||A − G_a(Z)||² / 2σ_a² + ||Z||² / 2 (§3.5: the sum of both
    reconstruction energies). At test time, with both generators frozen, Z is inferred from one modality's energy
    alone (its term and the prior) and the other modality is generated from it.

    Args:
      config: a validated `MultimodalConfig`.
      videos: float32 [utterances, frames, height, width, 3] in [-1, 1].
      audio: float32 [utterances, samples] in [-1, 1], the same utterances.
    """

    def __init__(self, config, videos, audio):
        self.config = config
        self.videos, self.audio = np.asarray(videos, np.float32), np.asarray(audio, np.float32)
        video_shape, num_audio_samples = config.video.video_shape, config.audio.num_audio_samples
        if self.videos.ndim != 5 or tuple(self.videos.shape[1:4]) != video_shape:
            raise ValueError(f"the videos have shape {self.videos.shape}, but the generator makes "
                             f"[utterances, {', '.join(map(str, video_shape))}, 3]")
        if self.audio.shape != (len(self.videos), num_audio_samples):
            raise ValueError(f"the audio has shape {self.audio.shape}, but the audio generator makes "
                             f"[{len(self.videos)}, {num_audio_samples}]")
        self.num_utterances = len(self.videos)
        keras.utils.set_random_seed(config.seed)  # Weight initialisation is repeatable by seed.
        self.video_model = build_generator(config.video)
        self.audio_model = build_audio_generator(config)
        self.variables = self.video_model.trainable_variables + self.audio_model.trainable_variables
        self.optimizer = build_adam(config.video, self.variables)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.latents = tf.Variable(self.rng.normal(self._latent_shape(self.num_utterances)), name="latents")
        self.iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        self.video_weight = 1.0 / (2.0 * config.video.sigma ** 2)
        self.audio_weight = 1.0 / (2.0 * config.resolved_audio_sigma ** 2)
        batch = config.video.batch_size or self.num_utterances
        self.batches = [slice(start, min(start + batch, self.num_utterances))
                        for start in range(0, self.num_utterances, batch)]
        self._infer_step = tf.function(self._infer)
        self._learn_step = tf.function(self._learn)
        self._generate_step = tf.function(self._generate)

    def _latent_shape(self, count):
        return [count, *self.config.video.latent_grid, self.config.video.latent_channels]

    def trackables(self):
        """What a checkpoint holds: both generators, Adam's slots, the chains' latents, iteration and RNG state (key
        `generator`, as in earlier versions)."""
        return dict(video_model=self.video_model, audio_model=self.audio_model, optimizer=self.optimizer,
                    latents=self.latents, iteration=self.iteration, generator=self.rng)

    # ---- energy ---------------------------------------------------------------------------------------------

    def video_energy(self, latents, videos):
        """||V − G_v(Z)||² / 2σ_v² per utterance, [batch]."""
        return self.video_weight * tf.reduce_sum(tf.square(videos - self.video_model(latents)), axis=[1, 2, 3, 4])

    def audio_energy(self, latents, audio):
        """||A − G_a(Z)||² / 2σ_a² per utterance, [batch]."""
        return self.audio_weight * tf.reduce_sum(tf.square(audio - self.audio_model(latents)), axis=1)

    def energy(self, latents, videos=None, audio=None):
        """−log p(Z | the modalities given) up to a constant, [batch]: the prior plus each given modality's term.

        With both given this is §3.5's joint energy; with one, the other modality does not enter at all.
        """
        total = 0.5 * tf.reduce_sum(tf.square(latents), axis=[1, 2, 3, 4])
        if videos is not None:
            total += self.video_energy(latents, videos)
        if audio is not None:
            total += self.audio_energy(latents, audio)
        return total

    # ---- compiled steps -------------------------------------------------------------------------------------

    def _infer(self, latents, num_steps, step_size, videos=None, audio=None):
        """Langevin on Z given the modalities passed (Eq. 4 with the joint or a one-modality energy)."""
        final, _ = langevin.langevin_sample(lambda z: self.energy(z, videos, audio), [latents], step_size, num_steps,
                                            self.rng)
        return final[0]

    def _learn(self, videos, audio, latents):
        """One Adam step on both generators given the inferred Z (Eq. 5 on the joint energy, mean over utterances)."""
        with tf.GradientTape() as tape:
            generated_videos, generated_audio = self.video_model(latents), self.audio_model(latents)
            video_term = self.video_weight * tf.reduce_sum(tf.square(videos - generated_videos), axis=[1, 2, 3, 4])
            audio_term = self.audio_weight * tf.reduce_sum(tf.square(audio - generated_audio), axis=1)
            loss = tf.reduce_mean(video_term + audio_term)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.variables), self.variables))
        return (loss, tf.reduce_mean(tf.square(videos - generated_videos)),
                tf.reduce_mean(tf.square(audio - generated_audio)))

    def _generate(self, latents):
        return self.video_model(latents), self.audio_model(latents)

    # ---- one iteration --------------------------------------------------------------------------------------

    def train_iteration(self):
        """One ABP iteration over every batch: joint Langevin from the warm-started chains, then one Adam step.

        Returns:
          dict with `loss` (mean joint reconstruction energy), `recon_mse` (video) and `audio_mse`.
        """
        config = self.config.video
        losses, video_errors, audio_errors = [], [], []
        for batch in self.batches:
            videos, audio = tf.constant(self.videos[batch]), tf.constant(self.audio[batch])
            latents = self._infer_step(self.latents[batch], config.num_langevin_steps, config.langevin_step_size,
                                       videos=videos, audio=audio)
            self.latents[batch].assign(latents)
            loss, video_error, audio_error = self._learn_step(videos, audio, latents)
            losses.append(float(loss))
            video_errors.append(float(video_error))
            audio_errors.append(float(audio_error))
        self.iteration.assign_add(1)
        return {"loss": float(np.mean(losses)), "recon_mse": float(np.mean(video_errors)),
                "audio_mse": float(np.mean(audio_errors))}

    # ---- reconstruction and cross-modal prediction ------------------------------------------------------------

    def reconstruct(self):
        """(G_v(Z), G_a(Z)) for the training utterances' current Z, batch by batch as in training."""
        pairs = [self._generate_step(self.latents[batch]) for batch in self.batches]
        return (np.concatenate([videos.numpy() for videos, _ in pairs]),
                np.concatenate([audio.numpy() for _, audio in pairs]))

    def infer_latents(self, videos, audio, modality, seed):
        """Z for new utterances with the generators frozen, from `modality` ("video", "audio" or "both").

        The chains start from the prior (seeded) and run `recovery_langevin_steps` steps of δ =
        `recovery_step_size`; only the named modality enters the energy. Training's RNG stream is left as it was.
        """
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
        config = self.config.video
        given = dict(videos=tf.constant(videos, tf.float32) if modality in ("video", "both") else None,
                     audio=tf.constant(audio, tf.float32) if modality in ("audio", "both") else None)
        state = self.rng.state.numpy()
        self.rng.reset_from_seed(seed)
        start = self.rng.normal(self._latent_shape(len(videos)))
        latents = self._infer_step(start, config.recovery_langevin_steps, config.recovery_step_size, **given)
        self.rng.state.assign(state)
        return latents

    def predict(self, videos, audio, seed):
        """Cross-modal prediction on new utterances: (audio generated from Z inferred from the video, V→A;
        video generated from Z inferred from the audio, A→V)."""
        _, video_to_audio = self._generate_step(self.infer_latents(videos, audio, "video", seed))
        audio_to_video, _ = self._generate_step(self.infer_latents(videos, audio, "audio", seed))
        return video_to_audio.numpy(), audio_to_video.numpy()

    def summary_images(self):
        """TensorBoard image of the first utterance: observed video over its reconstruction."""
        every = max(1, self.config.video.num_frames // 10)
        reconstruction = self.reconstruct()[0][0]  # Batch statistics as in training.
        return {"samples/observed_reconstructed": writers.frame_strip([self.videos[0], reconstruction], every=every)}
