"""ABPTT for the dynamic generator: Langevin inference step, learning step, synthesis and the run loop."""

import keras
import numpy as np
import tensorflow as tf

from abp_video import distribute, langevin, loop, metrics, runs
from abp_video.data import writers
from abp_video.sampling import chunk_noise as sampling_noise, initial_state_noise
from dynamic_generator.configs import SYNTHESIS_BURN_IN, SYNTHESIS_STARTS
from dynamic_generator.models import DynamicGenerator


class Latents(tf.Module):
    """Per-clip latent variables kept across iterations (warm starts) and in checkpoints.

    noise ξ [clips, frames, noise_dim] and initial state s_0 [clips, state_dim], both from their N(0, I) prior;
    appearance a [clips, appearance_dim] and motion type m [clips, motion_dim] when the config has them (§2.3).
    """

    CLIP_VECTORS = ("appearance", "motion")

    def __init__(self, num_clips, num_frames, config, rng):
        super().__init__(name="latents")
        self.noise = tf.Variable(rng.normal([num_clips, num_frames, config.noise_dim]), name="noise")
        self.initial_state = tf.Variable(rng.normal([num_clips, config.state_dim]), name="initial_state")
        self.appearance = (tf.Variable(rng.normal([num_clips, config.appearance_dim]), name="appearance")
                           if config.appearance_dim else None)
        self.motion = (tf.Variable(rng.normal([num_clips, config.motion_dim]), name="motion")
                       if config.motion_dim else None)

    def clip_vectors(self, clips=slice(None)):
        """{"appearance": a, "motion": m} of `clips` (a slice), for those the model has; fixed over time."""
        return {name: getattr(self, name)[clips] for name in self.CLIP_VECTORS if getattr(self, name) is not None}

    def assign_clip_vectors(self, values, clips=slice(None)):
        for name, value in values.items():
            getattr(self, name)[clips].assign(value)

    def reset(self, rng):
        """Every latent afresh from its N(0, I) prior (a model applied to new clips)."""
        for variable in [self.noise, self.initial_state, self.appearance, self.motion]:
            if variable is not None:
                variable.assign(rng.normal(variable.shape))


def reconstruction_weight(config, num_clips, num_visible=None):
    """Factor in front of the summed squared residual of one chunk, per energy convention.

    Complete clips (`num_visible` None):
    `authors`: their `reduce_mean(..., axis=[0, 1]) / (2σ²)` averages over clips and frames and sums over pixels
    (the gradient of a non-scalar loss sums it), i.e. 1 / (2σ² · clips · chunk_length) · Σ.
    `sum`: Eq. (6) exactly, 1 / (2σ²) · Σ.

    Incomplete clips (AAAI'19 §4.3; `num_visible` = visible values of the chunk, over all clips, frames, pixels
    and colour channels): the sum Σ runs over visible values only, in Langevin and in learning.
    `authors`: their `reduce_mean(boolean_mask(residual², visible)) / (2σ²)` divides by the number of visible
    values, i.e. 1 / (2σ² · num_visible) · Σ_visible (≈ 1 / (2σ² · 4.7M) for a whole 150x150x70 clip: the
    likelihood is weak next to the prior; docs/fidelity.md). A chunk without visible values gets
    weight 1 / (2σ²) on an empty sum.
    `sum`: Eq. (6) over the visible pixels, 1 / (2σ²) · Σ_visible.

    `num_visible` may be a tensor (the count of a chunk's mask inside the compiled steps).
    """
    weight = 1.0 / (2.0 * config.sigma ** 2)
    if config.energy_scale == "authors":
        if num_visible is None:
            weight /= num_clips * config.chunk_length
        else:
            weight /= tf.maximum(tf.cast(num_visible, tf.float32), 1.0)
    return weight


def synthesis_start(start="random", burn_in=None):
    """Keyword arguments of `DynamicGeneratorTrainer.synthesize(_chunks)` for a new clip of a texture, recover or inpaint run.

    Args:
      start: `random` (AAAI'19 §4.1: s_0 ~ N(0, I), then `burn_in` frames dropped) or `inferred` (the training
        clip's inferred s_0, as the authors' test code started; its first frames are near-copies of the clip's).
      burn_in: frames generated and dropped first; None = SYNTHESIS_BURN_IN from a random s_0, 0 from the
        inferred one.
    """
    if start not in SYNTHESIS_STARTS:
        raise ValueError(f"--synthesis_start must be one of {SYNTHESIS_STARTS}, got {start!r}")
    if burn_in is None:
        burn_in = SYNTHESIS_BURN_IN if start == "random" else 0
    if burn_in < 0:
        raise ValueError(f"--burn_in must not be negative, got {burn_in}")
    return dict(random_initial_state=start == "random", burn_in=burn_in)


class DynamicGeneratorTrainer(loop.Trainer):
    """Holds the model, optimizer, latents and RNG of one run, with the two compiled steps of ABPTT.

    Args:
      config: a validated `DynamicGeneratorConfig`.
      observed: float32 [clips, frames, height, width, 3] in [-1, 1], or None to only synthesise.
      num_clips: number of clips when `observed` is None.
        Clips are processed in mini-batches of `config.clips_per_batch` (0: all at once), taken in order as in the
        authors' code; the steps are vectorised over the clips of a batch.
      visible: optional [clips, frames, height, width, 3] mask, 1 (True) where `observed` is seen; the energy
        then ignores the other values (AAAI'19 §4.3, learning from incomplete videos), whatever they hold.
    """

    def __init__(self, config, observed=None, num_clips=1, visible=None):
        self.config = config
        self.observed = None if observed is None else tf.constant(observed, tf.float32)
        if visible is not None and (observed is None or tuple(visible.shape) != tuple(observed.shape)):
            raise ValueError(f"the visible mask has shape {tuple(visible.shape)} but the observed clips have shape "
                             f"{None if observed is None else tuple(observed.shape)}; they must be equal")
        self.visible = None if visible is None else tf.constant(visible, tf.float32)
        # Incomplete clips: what is not observed has no say in the emission's normalisation statistics either.
        self.masked_statistics = visible is not None and config.incomplete is not None and \
            config.incomplete.normalization_statistics == "visible"
        self.num_clips = int(observed.shape[0]) if observed is not None else num_clips
        keras.utils.set_random_seed(config.seed)  # Weight initialisation is repeatable by seed.
        # Weights and optimizer live in the strategy's scope (mirrored over its replicas); latents stay on the host
        # and every replica gets its share of the clips of a batch (abp_video/distribute.py).
        self.strategy = distribute.make_strategy(config.strategy)
        with self.strategy.scope():
            self.model = DynamicGenerator(config)
            self.model.build_all()
            self._build_networks()
            self.optimizer = keras.optimizers.Adam(config.learning_rate, beta_1=config.adam_beta1)
            self.optimizer.build(self.trainable_variables)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.latents = Latents(self.num_clips, config.num_frames, config, self.rng)
        self.iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        batch_size = min(config.clips_per_batch or self.num_clips, self.num_clips)
        self.batches = [slice(start, min(start + batch_size, self.num_clips))
                        for start in range(0, self.num_clips, batch_size)]
        self.last_acceptance_rate = float("nan")
        self._check_distribution()
        self._infer_step = self._compile(self._infer_chunk, ("batch", "batch", "batch", "mean"),
                                         prepare=self._langevin_draws)
        self._learn_step = self._compile(self._learn_chunk, ("sum", "mean", "batch"))
        self._generate_step = tf.function(self._generate_chunk)

    @property
    def num_replicas(self):
        return self.strategy.num_replicas_in_sync

    def _check_distribution(self):
        replicas = self.num_replicas
        if replicas == 1:
            return
        if self.visible is not None or self.config.metropolis:
            raise ValueError(f"--strategy {self.config.strategy} ({replicas} replicas) shards the clips of a batch; "
                             f"incomplete clips and --metropolis run on one device (--strategy default)")
        sizes = sorted({clips.stop - clips.start for clips in self.batches})
        if any(size % replicas for size in sizes):
            raise ValueError(f"--strategy {self.config.strategy} has {replicas} replicas but the batches hold "
                             f"{sizes} clips; choose --batch_size (and a number of clips) divisible by {replicas}")

    def _compile(self, step, reductions, prepare=None):
        """The compiled step; with several replicas, sharded over them (abp_video/distribute.compile_step)."""
        return distribute.compile_step(self.strategy, step, reductions, prepare)

    def _build_networks(self):
        """Hook for subclasses that learn more networks than the generator (created after the seed is set)."""

    @property
    def trainable_variables(self):
        """What the learning step updates: α, β (and a subclass's networks)."""
        return self.model.trainable_variables

    def trackables(self):
        """What a checkpoint holds: weights, optimizer slots, latents, iteration and RNG state."""
        # The RNG keeps the checkpoint key `generator` of earlier versions, so that their runs still resume.
        return dict(model=self.model, optimizer=self.optimizer, latents=self.latents, iteration=self.iteration,
                    generator=self.rng)

    # ---- energies -------------------------------------------------------------------------------------------

    def reconstruction_energy(self, observed, frames, visible=None):
        """Per-clip ||x - G(s)||² times the convention's weight (Eq. 6), [clips].

        With a `visible` mask (0/1, shape of `observed`) only visible values count, and the weight is the masked
        one of `reconstruction_weight` for this chunk.
        """
        residual = tf.square(observed - frames)
        if visible is None:
            # Clips of the whole batch (static; a replica holds 1 / num_replicas of them).
            weight = reconstruction_weight(self.config, observed.shape[0] * distribute.num_replicas())
            return weight * tf.reduce_sum(residual, axis=[1, 2, 3, 4])
        weight = reconstruction_weight(self.config, self.num_clips, tf.reduce_sum(visible))
        return weight * tf.reduce_sum(residual * visible, axis=[1, 2, 3, 4])

    def _mse(self, observed, frames, visible=None):
        """Mean squared residual, over the visible values when there is a mask."""
        if visible is None:
            return tf.reduce_mean(tf.square(observed - frames))
        return tf.reduce_sum(tf.square(observed - frames) * visible) / tf.maximum(tf.reduce_sum(visible), 1.0)

    # ---- the two compiled steps -----------------------------------------------------------------------------

    @staticmethod
    def _inferred_names(clip_vectors, infer_initial_state, infer_clip_vectors):
        return (["noise"] + (["initial_state"] if infer_initial_state else []) +
                (sorted(clip_vectors) if infer_clip_vectors else []))

    def _langevin_draws(self, observed, noise, initial_state, clip_vectors, infer_initial_state, step_size,
                        visible=None, infer_clip_vectors=True):
        """The N(0, I) draws of all Langevin steps of one chunk, per clip: {"langevin_noise": [[clips, l, ...]]}.

        Drawn for the whole batch before it is shared out, so a run over several replicas draws what one device
        draws. (With --metropolis, TFP's kernel draws its own from a seed instead.)
        """
        if self.config.metropolis:
            return {}
        values = dict(clip_vectors, noise=noise, initial_state=initial_state)
        steps = self.config.num_langevin_steps
        names = self._inferred_names(clip_vectors, infer_initial_state, infer_clip_vectors)
        return {"langevin_noise": [self.rng.normal([values[name].shape[0], steps, *values[name].shape[1:]])
                                   for name in names]}

    def _infer_chunk(self, observed, noise, initial_state, clip_vectors, infer_initial_state, step_size,
                     visible=None, infer_clip_vectors=True, langevin_noise=None):
        """Step 1 of ABPTT on one chunk: Langevin on ξ (and s_0, a, m) given the frames, warm-started (Eq. 4),
        `num_langevin_steps` steps of δ = `step_size` (the caller passes `config.langevin_step_size`).

        Eq. (9): the gradient reaching ξ_t sums over every later frame of the chunk through F_α. With `visible`,
        only the visible values of the frames speak (§4.3). `clip_vectors` ({"appearance": a, "motion": m}, those
        the model has) are inferred on every chunk, as the authors did (Algorithm 1, step 3).
        """
        names = self._inferred_names(clip_vectors, infer_initial_state, infer_clip_vectors)
        fixed = dict(clip_vectors, noise=noise, initial_state=initial_state)

        def energy(*values):
            current = dict(fixed, **dict(zip(names, values)))
            frames, _ = self.model(current["noise"], current["initial_state"], current.get("appearance"),
                                   current.get("motion"), visible=self._statistics_mask(visible))
            prior = 0.5 * tf.reduce_sum(tf.square(current["noise"]), axis=[1, 2])
            for name in names[1:]:
                prior += 0.5 * tf.reduce_sum(tf.square(current[name]), axis=1)
            return self.reconstruction_energy(observed, frames, visible) + prior

        start = [fixed[name] for name in names]
        if self.config.metropolis:
            final, acceptance = langevin.mala_sample(energy, start, step_size, self.config.num_langevin_steps,
                                                     self.rng)
        else:
            final, _ = langevin.langevin_sample(energy, start, step_size, self.config.num_langevin_steps,
                                                noises=langevin_noise, unroll=distribute.num_replicas() > 1)
            acceptance = tf.constant(float("nan"))
        result = dict(fixed, **dict(zip(names, final)))
        return (result["noise"], result["initial_state"], {name: result[name] for name in clip_vectors},
                acceptance)

    def _learn_chunk(self, observed, noise, initial_state, clip_vectors, visible=None):
        """Step 2 of ABPTT on one chunk: one Adam step on α, β given the inferred latents (Eq. 5, 7-8).

        Returns the loss, the frames' MSE (over visible values with `visible`) and the chunk's last state, from
        the forward pass before the update (the authors carried that state into the next chunk).
        """
        with tf.GradientTape() as tape:
            frames, last_state = self.model(noise, initial_state, clip_vectors.get("appearance"),
                                            clip_vectors.get("motion"), visible=self._statistics_mask(visible))
            loss = tf.reduce_sum(self.reconstruction_energy(observed, frames, visible))
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, self._mse(observed, frames, visible), last_state

    def _statistics_mask(self, visible):
        """The mask the normalisation statistics are taken over (`masked_statistics`), else None."""
        return visible if self.masked_statistics else None

    def _generate_chunk(self, noise, initial_state, clip_vectors, num_groups, visible=None):
        return self.model(noise, initial_state, clip_vectors.get("appearance"), clip_vectors.get("motion"),
                          num_groups=num_groups, visible=visible)

    # ---- one iteration --------------------------------------------------------------------------------------

    def train_iteration(self):
        """One ABPTT iteration: every mini-batch of clips, every chunk of them (truncated BPTT, authors' order).

        The last state of a chunk (carried, not back-propagated through) starts the next one; s_0 is inferred on
        the first chunk only, the appearance and motion vectors on every chunk and carried.

        Returns:
          dict with `loss` (summed over chunks and batches), `recon_mse` (mean over them) and `acceptance_rate`.
        """
        losses, errors, acceptances = [], [], []
        for clips in self.batches:
            for loss, error, acceptance in self._sweep(clips, learn=True):
                losses.append(loss)
                errors.append(error)
                acceptances.append(acceptance)
        self.iteration.assign_add(1)
        self.last_acceptance_rate = float(np.mean([float(a) for a in acceptances]))
        return {"loss": float(sum(losses)), "recon_mse": float(np.mean([float(e) for e in errors])),
                "acceptance_rate": self.last_acceptance_rate}

    def infer_iteration(self):
        """One Langevin sweep over every batch and chunk with the weights frozen (a trained model on new clips).

        The same compiled inference step as training; each chunk starts from the last state of the one before.
        """
        for clips in self.batches:
            for _ in self._sweep(clips, learn=False):
                pass

    def _sweep(self, clips, learn):
        """Infers (and, with `learn`, learns from) the chunks of the clips in slice `clips`; yields per chunk
        (loss, MSE, acceptance rate) when learning."""
        config = self.config
        vectors = self.latents.clip_vectors(clips)
        state = self.latents.initial_state[clips]
        for chunk in range(config.num_chunks):
            frames = slice(chunk * config.chunk_length, (chunk + 1) * config.chunk_length)
            observed = self.observed[clips, frames]
            # The mask goes in only when there is one, so complete-data runs trace exactly as before.
            mask = {} if self.visible is None else {"visible": self.visible[clips, frames]}
            noise, new_state, vectors, acceptance = self._infer_step(
                observed, self.latents.noise[clips, frames], state, vectors, chunk == 0, config.langevin_step_size,
                **mask)
            self.latents.noise[clips, frames].assign(noise)
            if chunk == 0:
                self.latents.initial_state[clips].assign(new_state)
                state = new_state
            if learn:
                loss, error, state = self._learn_step(observed, noise, state, vectors, **mask)
                yield loss, error, acceptance
            else:
                _, state = self._generate_step(noise, state, vectors, 1)  # Only the state is kept.
        self.latents.assign_clip_vectors(vectors, clips)

    # ---- reconstruction and synthesis -----------------------------------------------------------------------

    def reconstruct(self):
        """The clips regenerated from their inferred latents with the current weights, chunk by chunk.

        Returns:
          float32 [clips, frames, height, width, 3].
        """
        config = self.config
        batches = []
        for clips in self.batches:  # Normalisation statistics per mini-batch (and mask), as in training.
            state = self.latents.initial_state[clips]
            vectors = self.latents.clip_vectors(clips)
            chunks = []
            for chunk in range(config.num_chunks):
                span = slice(chunk * config.chunk_length, (chunk + 1) * config.chunk_length)
                noise = self.latents.noise[clips, span]
                visible = self._statistics_mask(None if self.visible is None else self.visible[clips, span])
                frames, state = self._generate_step(noise, state, vectors, 1, visible)
                chunks.append(frames.numpy())
            batches.append(np.concatenate(chunks, axis=1))
        return np.concatenate(batches, axis=0)

    def reconstruction_mse(self):
        """MSE between the clips and their reconstruction, [-1, 1] scale, whole clips (visible values if masked)."""
        visible = None if self.visible is None else self.visible.numpy()
        return float(self._mse(self.observed.numpy(), self.reconstruct(), visible))

    def synthesize_chunks(self, num_samples, num_frames, seed, burn_in=0, clip_index=0, random_initial_state=False,
                          appearance=None, motion=None, initial_state=None, noise=None, num_groups=None):
        """Yields new frames chunk by chunk: ξ ~ N(0, I), s_t unrolled by F_α, x_t = G_β(s_t) (AAAI'19 §4.1).

        Memory does not grow with `num_frames`: each chunk of `chunk_length` frames is generated from the last
        state of the one before (normalisation statistics per chunk and per sample, as in training).

        Args:
          num_samples: independent videos generated side by side.
          num_frames: frames to yield per sample (any length).
          seed: seed of the sampling noise (stateless: chunk k draws from (seed, k), see sampling.py).
          burn_in: frames generated first and dropped, so that the states forget s_0.
          clip_index: whose inferred s_0 (and appearance, motion) to start from.
          random_initial_state: start from s_0 ~ N(0, I) instead of the inferred one.
          appearance, motion: optional [num_samples, dim] vectors instead of clip `clip_index`'s.
          initial_state: optional [num_samples, state_dim] s_0 (overrides the two options above).
          noise: optional ξ [num_samples, >= burn_in + num_frames rounded up to chunks, noise_dim], e.g. one
            draw shared by several appearances (Figure 4).
          num_groups: groups of samples for the normalisation statistics; default one per sample (textures).
            Models of many clips were trained with statistics over a batch of clips: pass 1 to generate a batch
            of different appearances together, as in training.

        Yields:
          float32 [num_samples, <= chunk_length, height, width, 3] in [-1, 1].
        """
        config = self.config
        if initial_state is not None:
            state = tf.constant(initial_state, tf.float32)
        elif random_initial_state:
            state = initial_state_noise(seed, [num_samples, config.state_dim])
        else:
            state = tf.repeat(self.latents.initial_state[clip_index:clip_index + 1], num_samples, axis=0)
        given = {"appearance": appearance, "motion": motion}
        vectors = {name: (tf.constant(given[name], tf.float32) if given[name] is not None else
                          tf.repeat(value[clip_index:clip_index + 1], num_samples, axis=0))
                   for name, value in self.latents.clip_vectors().items()}
        to_skip, remaining, start, chunk = burn_in, num_frames, 0, 0
        while remaining > 0:
            if noise is None:
                # Stateless noise from (seed, chunk index): an exported sampler draws exactly the same (sampling.py).
                chunk_noise = sampling_noise(seed, chunk, [num_samples, config.chunk_length, config.noise_dim])
                chunk += 1
            else:
                chunk_noise = tf.constant(noise[:, start:start + config.chunk_length], tf.float32)
                start += config.chunk_length
            frames, state = self._generate_step(chunk_noise, state, vectors, num_groups or num_samples)
            frames = frames.numpy()[:, to_skip:]
            to_skip = max(0, to_skip - config.chunk_length)
            if frames.shape[1]:
                yield frames[:, :remaining]
                remaining -= frames.shape[1]

    def summary_images(self):
        """TensorBoard images: observed over reconstructed frames of the first clip, and one new sample."""
        every = max(1, self.config.num_frames // 10)
        observed = self.observed[0].numpy()
        sample = self.synthesize(1, self.config.num_frames, seed=0, **synthesis_start())[0]
        return {"samples/observed_reconstructed_synthesised":
                writers.frame_strip([observed, self.reconstruct()[0], sample], every=every)}

    def synthesize(self, num_samples, num_frames, seed, **kwargs):
        """All frames of `synthesize_chunks` at once, [num_samples, num_frames, height, width, 3]."""
        return np.concatenate(list(self.synthesize_chunks(num_samples, num_frames, seed, **kwargs)), axis=1)


class RecoveryTrainer(DynamicGeneratorTrainer):
    """ABPTT on an incomplete clip (AAAI'19 §4.3) that also reports the recovery error at every logged iteration.

    The original clip is used for that number only; training sees `visible * original`.

    Args:
      config: a validated config with an `incomplete` part.
      original: float32 [frames, height, width, 3] in [-1, 1], the whole clip.
      visible: the mask of the same shape, 1 where seen.
    """

    def __init__(self, config, original, visible):
        super().__init__(config, (visible * original)[None], visible=visible[None])
        self.original, self.visible_mask = original, visible

    def recover(self):
        """Visible pixels kept, occluded ones from G_β(s_t), s_t unrolled from the inferred ξ and s_0 (§4.3)."""
        return np.where(self.visible_mask > 0, self.original, self.reconstruct()[0])

    def restore_frozen(self, checkpoint_dir):
        """Loads trained weights from `checkpoint_dir` and starts the latents afresh from the prior (a new clip).

        The whole checkpoint is restored (the model's weights are reached through the optimizer's variable list),
        then ξ, s_0 and the RNG are reset from `config.seed`, so nothing of the training clip remains.
        """
        if not runs.Checkpointer(checkpoint_dir, **self.trackables()).restore_or_initialize():
            raise FileNotFoundError(f"no checkpoint in {checkpoint_dir}; train first with --mode train")
        self.rng.reset_from_seed(self.config.seed)
        self.latents.reset(self.rng)

    def train_iteration(self):
        result = super().train_iteration()
        iteration = int(self.iteration.numpy())
        if iteration % self.config.log_every == 0 or iteration == self.config.num_iterations:
            result["recovery_error_255"] = metrics.recovery_error(self.recover(), self.original, self.visible_mask)
        return result

    def summary_images(self):
        every = max(1, self.config.num_frames // 10)
        shown = writers.show_occluded(self.original, self.visible_mask)
        return {"samples/occluded_recovered_original":
                writers.frame_strip([shown, self.recover(), self.original], every=every)}
