"""ABP and LI-ABP for the spatial-temporal generator: Langevin inference step, learning steps, recovery, synthesis."""

import keras
import numpy as np
import tensorflow as tf

from abp_video import distribute, langevin, loop, metrics, sampling
from abp_video.data import masks, writers
from st_generator.models import InitializationNetwork, SpatialTemporalGenerator


def build_generator(config):
    model = SpatialTemporalGenerator(config.model, config.generator_filters, config.first_kernel_time,
                                     config.init_std, name="generator")
    model(tf.zeros([1, *config.latent_grid, config.latent_channels]))
    return model


def build_initialization_network(config):
    network = InitializationNetwork(config.model, config.generator_filters, config.first_kernel_time,
                                    config.latent_channels, config.init_std, name="initialization_network")
    network(tf.zeros([1, *config.video_shape, 3]))
    return network


def build_adam(config, variables, learning_rate=None):
    """Adam with the preset's β1 (0.5) and `learning_rate` (default: the preset's), its slots built for `variables`."""
    optimizer = keras.optimizers.Adam(learning_rate or config.learning_rate, beta_1=config.adam_beta1)
    optimizer.build(variables)
    return optimizer

class STGeneratorTrainer(loop.Trainer):
    """Holds the generator, its optimizer, the per-segment latents (warm-started chains) and the RNG of one run.

    ABP (WACV'19 Algorithm 1): each iteration runs `num_langevin_steps` Langevin steps on every segment's Z from where
    its chain stopped last time (Eq. 4), then one Adam step on W given those Z (Eq. 5). LI-ABP (§3.3) starts the
    chains from f_V(I) instead, runs `li_langevin_steps`, and after the generator's step trains f_V on pairs (Z̃, Ĩ)
    drawn from the current model by minimising ||Z̃ − f_V(Ĩ)||²; f_V only initialises, Z is always Langevin's.

    Args:
      config: a validated `STConfig`.
      observed: float32 [segments, frames, height, width, 3] in [-1, 1].
      visible: optional mask of the same shape, 1 where seen (§3.4: the energy then ignores the other values, in
        inference and learning); None = complete data. With `normalization_statistics` `visible` (the default) the
        generator's normalisation statistics then ignore them too (`masked_statistics`).
    """

    def __init__(self, config, observed, visible=None):
        self.config = config
        observed = np.asarray(observed, np.float32)
        if observed.ndim != 5 or tuple(observed.shape[1:4]) != config.video_shape:
            raise ValueError(f"the segments have shape {observed.shape}, but the generator makes "
                             f"[segments, {', '.join(map(str, config.video_shape))}, 3]")
        if visible is not None and tuple(visible.shape) != tuple(observed.shape):
            raise ValueError(f"the visible mask has shape {tuple(visible.shape)} but the segments have shape "
                             f"{tuple(observed.shape)}; they must be equal")
        self.visible = np.ones_like(observed) if visible is None else np.asarray(visible, np.float32)
        # Incomplete data: what is not observed has no say in the normalisation statistics either, wherever a mask
        # is in play (`visible_statistics`: these segments' own in training, new segments' at recovery).
        self.visible_statistics = config.normalization_statistics == "visible"
        self.masked_statistics = visible is not None and self.visible_statistics
        # Training never sees an occluded value: it is zeroed here, and the energy masks it anyway.
        self.observed = observed * self.visible
        self.num_segments = len(observed)
        # The whole segments (occluded values included) when the experiment knows them: read only to log the
        # recovery error over the occluded values (`recovery_error_unit`, [-1, 1]) at every logged iteration.
        self.original = None
        keras.utils.set_random_seed(config.seed)  # Weight initialisation is repeatable by seed.
        # Weights and Adam slots live in the strategy's scope (mirrored over its replicas); the chains' latents and
        # the RNG stay on the host, and every replica gets its share of the segments of a batch.
        self.strategy = distribute.make_strategy(config.strategy)
        with self.strategy.scope():
            self.model = build_generator(config)
            self.optimizer = build_adam(config, self.model.trainable_variables)
            self.init_network = self.init_optimizer = None
            if config.init == "li":
                self.init_network = build_initialization_network(config)
                self.init_optimizer = build_adam(config, self.init_network.trainable_variables)
        self.rng = tf.random.Generator.from_seed(config.seed)
        self.latents = tf.Variable(self.rng.normal([self.num_segments, *config.latent_grid,
                                                          config.latent_channels]), name="latents")
        self.iteration = tf.Variable(0, dtype=tf.int64, name="iteration")
        self.weight = 1.0 / (2.0 * config.sigma ** 2)
        batch = config.batch_size or self.num_segments
        self.batches = [slice(start, min(start + batch, self.num_segments))
                        for start in range(0, self.num_segments, batch)]
        self._check_distribution()
        # Training's steps are sharded over the replicas (abp_video/distribute.py); the random draws of a step are made
        # for the whole batch before it is shared out, so N devices draw what one does.
        strategy = self.strategy
        self._infer_step = distribute.compile_step(strategy, self._infer, ("batch",), prepare=self._langevin_draws)
        self._learn_step = distribute.compile_step(strategy, self._learn, ("sum", "sum", "sum"))
        self._learn_init_step = distribute.compile_step(strategy, self._learn_initialization, ("sum",),
                                                        prepare=self._model_draws)
        # Recovery, reconstruction and synthesis (weights frozen) run on one device, whatever the strategy.
        self._infer_one_device = distribute.compile_step(tf.distribute.get_strategy(), self._infer, ("batch",),
                                                         prepare=self._langevin_draws)
        self._generate_step = tf.function(self._generate)
        self._initialize_step = tf.function(self._initialize)

    @property
    def num_replicas(self):
        return self.strategy.num_replicas_in_sync

    def _check_distribution(self):
        replicas = self.num_replicas
        sizes = sorted({batch.stop - batch.start for batch in self.batches})
        if replicas > 1 and any(size % replicas for size in sizes):
            raise ValueError(f"--strategy {self.config.strategy} has {replicas} replicas but the batches hold {sizes} "
                             f"segments; choose --batch_size (and a number of segments, --max_segments) divisible "
                             f"by {replicas}")

    def trackables(self):
        """What a checkpoint holds: weights, optimizer slots, the chains' latents, iteration and RNG state (under the
        key `generator` of earlier versions, so that their runs still resume)."""
        tracked = dict(model=self.model, optimizer=self.optimizer, latents=self.latents, iteration=self.iteration,
                       generator=self.rng)
        if self.init_network is not None:
            tracked.update(init_network=self.init_network, init_optimizer=self.init_optimizer)
        return tracked

    # ---- energy ---------------------------------------------------------------------------------------------

    def reconstruction_energy(self, observed, videos, visible):
        """Per-segment ||x − G(Z)||² / (2σ²) over the visible values only (Eq. 3; §3.4 for incomplete data), [batch]."""
        return self.weight * tf.reduce_sum(tf.square(observed - videos) * visible, axis=[1, 2, 3, 4])

    def generate(self, latents, visible, masked, num_groups=1):
        """G_W(Z), its normalisation statistics over the `visible` part of the output when `masked` (a Python bool:
        each setting is its own trace) and over every position otherwise."""
        return self.model(latents, num_groups=num_groups, visible=visible if masked else None)

    def energy(self, latents, observed, visible, masked=False):
        """Eq. (3): the negative log posterior of Z up to a constant, per segment, [batch]."""
        prior = 0.5 * tf.reduce_sum(tf.square(latents), axis=[1, 2, 3, 4])
        return self.reconstruction_energy(observed, self.generate(latents, visible, masked), visible) + prior

    # ---- compiled steps -------------------------------------------------------------------------------------

    def _langevin_draws(self, observed, latents, visible, num_steps, step_size, masked=False):
        """The N(0, I) draws of every Langevin step, per segment: {"noises": [[segments, num_steps, t, h, w, c]]}."""
        return {"noises": [self.rng.normal([latents.shape[0], num_steps, *latents.shape[1:]])]}

    def _model_draws(self, visible, masked=False):
        """LI-ABP's Z̃ ~ N(0, I), one per segment of the batch: {"sampled": [segments, t, h, w, c]}."""
        return {"sampled": self.rng.normal([visible.shape[0], *self.config.latent_grid,
                                                  self.config.latent_channels])}

    def _infer(self, observed, latents, visible, num_steps, step_size, masked=False, noises=None):
        """Step 1 of ABP: `num_steps` Langevin steps on Z given the (visible) pixels, from `latents` (Eq. 4).

        Returns a 1-tuple (the final Z), the shape `distribute.sharded_step` joins.
        """
        final, _ = langevin.langevin_sample(lambda z: self.energy(z, observed, visible, masked), [latents], step_size,
                                            num_steps, noises=noises, unroll=distribute.num_replicas() > 1)
        return (final[0],)

    def _learn(self, observed, latents, visible, masked=False):
        """Step 2 of ABP: one Adam step on W given the inferred Z (Eq. 5, the average over segments).

        Returns (loss, squared error over visible values, visible values) of this replica's segments; summed over
        replicas they are the batch's mean loss and the two sums of its MSE.
        """
        batch_size = latents.shape[0] * distribute.num_replicas()  # The whole batch's (static).
        with tf.GradientTape() as tape:
            videos = self.generate(latents, visible, masked)
            # A sum over the replica's segments divided by the whole batch's size: the optimizer sums the replicas'
            # gradients, so the step is the one-device step on the batch mean.
            loss = tf.reduce_sum(self.reconstruction_energy(observed, videos, visible)) / batch_size
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, tf.reduce_sum(tf.square(observed - videos) * visible), tf.reduce_sum(visible)

    def _learn_initialization(self, visible, sampled, masked=False):
        """LI-ABP (§3.3): Z̃ ~ N(0, I) (`sampled`), Ĩ = G_W(Z̃), one Adam step on V for ||Z̃ − f_V(Ĩ)||².

        Ĩ is masked like the segments of the batch, so that f_V learns to read the inputs it will be given (and
        generated with the statistics of that mask when `masked`, as the segments are fitted).
        Returns (this replica's share of the batch's mean loss,).
        """
        batch_size = sampled.shape[0] * distribute.num_replicas()
        videos = tf.stop_gradient(self.generate(sampled, visible, masked)) * visible
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(sampled - self.init_network(videos))) / batch_size
        variables = self.init_network.trainable_variables
        self.init_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return (loss,)

    def _initialize(self, observed):
        return self.init_network(observed)

    def _generate(self, latents, num_groups, visible=None):
        return self.model(latents, num_groups=num_groups, visible=visible)

    # ---- one iteration --------------------------------------------------------------------------------------

    def train_iteration(self):
        """One ABP (or LI-ABP) iteration over every batch of segments.

        Returns:
          dict with `loss` (mean energy term), `recon_mse` (visible values), and `init_loss` for LI-ABP.
        """
        config = self.config
        losses, errors, init_losses = [], [], []
        for batch in self.batches:
            observed, visible = tf.constant(self.observed[batch]), tf.constant(self.visible[batch])
            if self.init_network is None:  # ABP: warm start from where the chain stopped.
                start, steps = self.latents[batch], config.num_langevin_steps
            else:  # LI-ABP: start from the initialisation network.
                start, steps = self._initialize_step(observed), config.li_langevin_steps
            masked = self.masked_statistics
            latents, = self._infer_step(observed, start, visible, steps, config.langevin_step_size, masked=masked)
            self.latents[batch].assign(latents)
            loss, squared_error, num_visible = self._learn_step(observed, latents, visible, masked=masked)
            losses.append(float(loss))
            errors.append(float(squared_error) / max(float(num_visible), 1.0))
            if self.init_network is not None:
                sample_masks = self._sample_masks(batch, visible)
                # Occluded samples (`li_occluded_samples`) are generated with their own masks' statistics.
                masked_samples = masked or (self.visible_statistics and sample_masks is not visible)
                init_losses.append(float(self._learn_init_step(sample_masks, masked=masked_samples)[0]))
        self.iteration.assign_add(1)
        result = {"loss": float(np.mean(losses)), "recon_mse": float(np.mean(errors))}
        if init_losses:
            result["init_loss"] = float(np.mean(init_losses))
        iteration = int(self.iteration.numpy())
        if self.original is not None and (iteration % config.log_every == 0 or iteration == config.num_iterations):
            result["recovery_error_unit"] = metrics.recovery_error(self.recover(), self.original, self.visible) \
                / metrics.TO_PIXEL_SCALE
        return result

    def _sample_masks(self, batch, visible):
        """The masks of LI-ABP's samples Ĩ for `batch`: the segments' own (`visible`), or with
        `li_occluded_samples` at the test stage one random test mask per sample, drawn from the seed, the iteration
        and the batch (so a resumed run draws the same)."""
        config = self.config
        if not (config.li_occluded_samples and config.stage == "test"):
            return visible
        rng = np.random.default_rng([config.seed, int(self.iteration.numpy()), batch.start])
        types = config.test_mask_types
        return tf.constant(np.stack([
            masks.generate_mask(types[rng.integers(len(types))], config.num_frames, config.image_size,
                                seed=int(rng.integers(2 ** 31))) for _ in range(batch.stop - batch.start)]),
            tf.float32)

    # ---- reconstruction, recovery, synthesis ------------------------------------------------------------------

    def reconstruct(self, latents=None):
        """G_W(Z) for every segment, batch by batch as in training (normalisation statistics over the visible part
        with `masked_statistics`), float32 [segments, frames, height, width, 3]."""
        latents = self.latents if latents is None else latents
        return np.concatenate([self._generate_step(latents[batch], 1, self._statistics_mask(batch)).numpy()
                               for batch in self.batches])

    def _statistics_mask(self, batch):
        """The mask of the segments in `batch` when the statistics are masked, else None."""
        return tf.constant(self.visible[batch]) if self.masked_statistics else None

    def recover(self):
        """Visible pixels kept, occluded ones from G_W(Z) with the inferred Z (§3.4)."""
        return np.where(self.visible > 0, self.observed, self.reconstruct())

    def recover_frozen(self, observed, visible, seed):
        """Test-time recovery (§4.2): the weights frozen, Z inferred from the visible pixels of new segments.

        Z starts from the prior (ABP) or from f_V(visible pixels) (LI-ABP) and runs `recovery_langevin_steps`
        Langevin steps of δ = `recovery_step_size` on the masked energy.

        Returns:
          float32 [segments, frames, height, width, 3]: visible pixels kept, occluded ones from G_W(Z).
        """
        visible = np.asarray(visible, np.float32)
        return np.where(visible > 0, np.asarray(observed, np.float32) * visible,
                        self.infer_frozen(observed, visible, seed))

    def infer_frozen(self, observed, visible, seed):
        """G_W(Z) with the weights frozen and Z inferred from the visible pixels as in `recover_frozen`."""
        config = self.config
        observed = tf.constant(np.asarray(observed, np.float32) * visible)
        visible = tf.constant(visible, tf.float32)
        rng_state = self.rng.state.numpy()
        self.rng.reset_from_seed(seed)
        if self.init_network is None:
            start = self.rng.normal([len(observed), *config.latent_grid, config.latent_channels])
        else:
            start = self._initialize_step(observed)
        masked = self.visible_statistics  # New segments with occluded values: statistics over what is visible.
        latents, = self._infer_one_device(observed, start, visible, config.recovery_langevin_steps,
                                          config.recovery_step_size, masked=masked)
        self.rng.state.assign(rng_state)  # Training's RNG stream is left as it was.
        return self._generate_step(latents, 1, visible if masked else None).numpy()

    @property
    def per_sample_normalization(self):
        """True when the model learned one segment at a time: its samples are then normalised one by one."""
        return max(batch.stop - batch.start for batch in self.batches) == 1

    def synthesize(self, num_samples, seed, grid=None):
        """New videos: Z ~ N(0, I) on `grid` (t, h, w; default the training grid), x = G_W(Z) (§4.1).

        Z comes from `tf.random.stateless_normal` with the seed pair (seed, 0) (abp_video/sampling.py), so
        the same seed gives the same videos in any process, and in an exported SavedModel (st_generator/export.py).
        Normalisation statistics are per sample when the model was trained on one segment at a time, and over the
        samples together otherwise, as in training.
        """
        shape = [num_samples, *(grid or self.config.latent_grid), self.config.latent_channels]
        latents = sampling.chunk_noise(seed, 0, shape)
        return self._generate_step(latents, num_samples if self.per_sample_normalization else 1).numpy()

    def summary_images(self):
        """TensorBoard images of the first segment: occluded (or observed) over recovered (or reconstructed)."""
        every = max(1, self.config.num_frames // 10)
        shown = writers.show_occluded(self.observed[0], self.visible[0])
        return {"samples/observed_reconstructed": writers.frame_strip([shown, self.recover()[0]], every=every)}
