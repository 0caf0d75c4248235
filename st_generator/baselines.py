"""Baselines of Tables 2-3 with the same Model-3 generator: a 3D VAE, 3D wake-sleep and a 3D GAN.

Each is a `STGeneratorTrainer` (st_generator/train.py) with the same generator, data, masks, run loop and checkpoints, and the
same recovery entry points: `recover_frozen` (test stage, frozen model, new segments), `recover` (train stage, the
occluded training segments) and `reconstruct`. Budget: one iteration makes `config.updates_per_iteration` generator
updates (default l + 1 = 21, the generator forward-backward passes of one ABP iteration) over every batch.
"""

import numpy as np
import tensorflow as tf

from abp_video.data import writers
from st_generator.models import GaussianInferenceNetwork, VideoDiscriminator
from st_generator.train import STGeneratorTrainer, build_adam


def build_inference_network(config):
    network = GaussianInferenceNetwork(config.model, config.generator_filters, config.first_kernel_time,
                                       config.latent_channels, config.init_std, name="inference_network")
    network(tf.zeros([1, *config.video_shape, 3]))
    return network


def build_discriminator(config):
    network = VideoDiscriminator(config.model, config.generator_filters, config.first_kernel_time, config.init_std,
                                 name="discriminator")
    network(tf.zeros([2, *config.video_shape, 3]))
    return network


def gaussian_kl(mean, log_variance):
    """KL(N(μ, diag σ²) ‖ N(0, I)) per segment, [batch] (Kingma & Welling 2014, Appendix B)."""
    return 0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(log_variance) - 1.0 - log_variance, axis=[1, 2, 3, 4])


def gaussian_log_density(latents, mean, log_variance):
    """log N(z; μ, diag σ²) per segment, up to the constant −(dim/2)·log 2π, [batch]."""
    return -0.5 * tf.reduce_sum(log_variance + tf.square(latents - mean) * tf.exp(-log_variance), axis=[1, 2, 3, 4])


def _visible_mse(observed, videos, visible):
    return tf.reduce_sum(tf.square(observed - videos) * visible) / tf.maximum(tf.reduce_sum(visible), 1.0)


class ImputingTrainer(STGeneratorTrainer):
    """What the VAE and wake-sleep share: the inference network q(Z|x) and iterative imputation.

    Imputation (Rezende et al. 2014 §5): the occluded values start at 0; each pass encodes the current filled video,
    samples Z ~ q(Z|x), decodes, and replaces the occluded values (only those) by the decoding. Recovery runs
    `recovery_langevin_steps` passes (200 in the paper preset, 100 in quick: as many as ABP's test-time Langevin
    steps), the last one with Z = the mean of q, so that the fill is a point estimate. In training on occluded
    segments (`--stage train`) the encoder sees the current imputation of each segment (`imputed`, checkpointed),
    refreshed by every update's decoding, and the likelihood counts the visible values only.
    """

    def __init__(self, config, observed, visible=None):
        super().__init__(config, observed, visible)
        self.encoder = build_inference_network(config)
        self.encoder_optimizer = build_adam(config, self.encoder.trainable_variables)
        self.imputed = tf.Variable(self.observed, name="imputed")  # Occluded values start at 0.
        self._impute_step = tf.function(self._impute)

    def trackables(self):
        return dict(super().trackables(), encoder=self.encoder, encoder_optimizer=self.encoder_optimizer,
                    imputed=self.imputed)

    def sample_latents(self, videos):
        """Z ~ q(Z|x) by reparameterisation, and q's mean and log-variance."""
        mean, log_variance = self.encoder(videos)
        return mean + tf.exp(0.5 * log_variance) * self.rng.normal(tf.shape(mean)), mean, log_variance

    def _impute(self, observed, visible, num_iterations, masked=False):
        def body(step, filled):
            latents, _, _ = self.sample_latents(filled)
            return step + 1, visible * observed + (1.0 - visible) * self.generate(latents, visible, masked)

        _, filled = tf.while_loop(lambda step, _: step < num_iterations - 1, body,
                                  (tf.constant(0), visible * observed))
        mean, _ = self.encoder(filled)  # The last pass: the mean of q.
        return visible * observed + (1.0 - visible) * self.generate(mean, visible, masked)

    def infer_frozen(self, observed, visible, seed):
        """The imputed videos with the weights frozen (occluded values from the model, visible ones kept)."""
        observed = tf.constant(np.asarray(observed, np.float32) * visible)
        rng_state = self.rng.state.numpy()
        self.rng.reset_from_seed(seed)
        filled = self._impute_step(observed, tf.constant(visible, tf.float32),
                                   tf.constant(self.config.recovery_langevin_steps),
                                   masked=self.visible_statistics)
        self.rng.state.assign(rng_state)  # Training's RNG stream is left as it was.
        return filled.numpy()

    def recover(self):
        """The occluded training segments filled by imputation with the final model (as at test time)."""
        return self.recover_frozen(self.observed, self.visible, self.config.seed)

    def reconstruct(self, latents=None):
        """G(mean of q(Z|x)) for every training segment (its current imputation)."""
        return np.concatenate([self._generate_step(self.encoder(self.imputed[batch])[0], 1,
                                                   self._statistics_mask(batch)).numpy()
                               for batch in self.batches])

    def train_iteration(self):
        """`updates_per_iteration` updates of every batch; returns the mean `loss`, `recon_mse` and extras."""
        totals = {}
        for _ in range(self.config.updates_per_iteration):
            for batch in self.batches:
                observed, visible = tf.constant(self.observed[batch]), tf.constant(self.visible[batch])
                result = self._update_step(observed, visible, tf.constant(self.imputed[batch]))
                self.imputed[batch].assign(result.pop("imputed"))
                for key, value in result.items():
                    totals.setdefault(key, []).append(float(value))
        self.iteration.assign_add(1)
        return {key: float(np.mean(values)) for key, values in totals.items()}


class VAETrainer(ImputingTrainer):
    """3D VAE (Kingma & Welling 2014) with the Model-3 generator as decoder.

    Maximises the ELBO E_q[log p(x|Z)] − KL(q(Z|x) ‖ N(0, I)) with the Gaussian likelihood of σ on the visible values
    (−‖x − G(Z)‖²/2σ² there, the same term as ABP's energy) and one reparameterised sample per segment; Adam with
    ABP's lr and β1 on the generator and the encoder.
    """

    def __init__(self, config, observed, visible=None):
        super().__init__(config, observed, visible)
        self._update_step = tf.function(self._update)

    def negative_elbo(self, observed, visible, filled, noise):
        """Per segment −ELBO (constants dropped) for a given standard-normal `noise`, and the decoded videos."""
        mean, log_variance = self.encoder(filled)
        videos = self.generate(mean + tf.exp(0.5 * log_variance) * noise, visible, self.masked_statistics)
        return self.reconstruction_energy(observed, videos, visible) + gaussian_kl(mean, log_variance), videos

    def _update(self, observed, visible, filled):
        noise = self.rng.normal([tf.shape(observed)[0], *self.config.latent_grid, self.config.latent_channels])
        with tf.GradientTape() as tape:
            losses, videos = self.negative_elbo(observed, visible, filled, noise)
            loss = tf.reduce_mean(losses)
        generator_variables, encoder_variables = self.model.trainable_variables, self.encoder.trainable_variables
        gradients = tape.gradient(loss, generator_variables + encoder_variables)
        self.optimizer.apply_gradients(zip(gradients[:len(generator_variables)], generator_variables))
        self.encoder_optimizer.apply_gradients(zip(gradients[len(generator_variables):], encoder_variables))
        return dict(loss=loss, recon_mse=_visible_mse(observed, videos, visible),
                    imputed=visible * observed + (1.0 - visible) * videos)


class WakeSleepTrainer(ImputingTrainer):
    """3D wake-sleep (Hinton et al. 1995): the same generator and inference network, trained in two phases.

    Wake: Z ~ q(Z|x) (no gradient into q), one Adam step on the generator for −log p(x|Z) = ‖x − G(Z)‖²/2σ² on the
    visible values. Sleep: Z̃ ~ N(0, I), x̃ = G(Z̃) + σ·ε (a dream from the model with its observation noise), one
    Adam step on the encoder for −log q(Z̃|x̃). One update = one wake and one sleep step.
    """

    def __init__(self, config, observed, visible=None):
        super().__init__(config, observed, visible)
        self._wake_step = tf.function(self._wake)
        self._sleep_step = tf.function(lambda num_segments: self.sleep_on(*self.dream(num_segments)))

    def wake_loss(self, observed, visible, latents):
        videos = self.generate(latents, visible, self.masked_statistics)
        return tf.reduce_mean(self.reconstruction_energy(observed, videos, visible)), videos

    def _wake(self, observed, visible, filled):
        latents, _, _ = self.sample_latents(filled)
        latents = tf.stop_gradient(latents)
        with tf.GradientTape() as tape:
            loss, videos = self.wake_loss(observed, visible, latents)
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, videos

    def dream(self, num_segments):
        """(Z̃, x̃): Z̃ ~ N(0, I) and x̃ = G(Z̃) + σ·ε from the current generator."""
        latents = self.rng.normal([num_segments, *self.config.latent_grid, self.config.latent_channels])
        videos = self.model(latents)
        return latents, videos + self.config.sigma * self.rng.normal(tf.shape(videos))

    def sleep_loss(self, latents, videos):
        return -tf.reduce_mean(gaussian_log_density(latents, *self.encoder(videos)))

    def sleep_on(self, latents, videos):
        """One sleep step on the encoder for the dreams (Z̃, x̃); returns the loss before the step."""
        with tf.GradientTape() as tape:
            loss = self.sleep_loss(latents, videos)
        variables = self.encoder.trainable_variables
        self.encoder_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def _update_step(self, observed, visible, filled):
        loss, videos = self._wake_step(observed, visible, filled)
        sleep_loss = self._sleep_step(int(observed.shape[0]))
        return dict(loss=loss, recon_mse=_visible_mse(observed, videos, visible), sleep_loss=sleep_loss,
                    imputed=visible * observed + (1.0 - visible) * videos)


class GANTrainer(STGeneratorTrainer):
    """3D GAN (Vondrick et al. 2016) with the Model-3 generator (tanh output) and a mirrored 3D discriminator.

    Standard non-saturating loss: D minimises −log D(x) − log(1 − D(G(Z))), G minimises −log D(G(Z)), Z ~ N(0, I),
    as many fakes as real segments in the batch; one update = one D step then one G step; Adam lr
    `gan_learning_rate` (0.0002) and β1 0.5. On occluded training data (`--stage train`) D sees the real segments and
    the generated ones through the same masks (AmbientGAN, Bora et al. 2018: each fake gets the mask of one real
    segment of the batch) — our choice, the paper does not say. Recovery: the frozen generator, Z inferred by the
    same Langevin dynamics as ABP's test time (inherited `infer_frozen`: from the prior, `recovery_langevin_steps`
    steps of `recovery_step_size` on the visible values with σ).
    """

    def __init__(self, config, observed, visible=None):
        super().__init__(config, observed, visible)
        self.optimizer = build_adam(config, self.model.trainable_variables, config.gan_learning_rate)
        self.discriminator = build_discriminator(config)
        self.discriminator_optimizer = build_adam(config, self.discriminator.trainable_variables,
                                                  config.gan_learning_rate)
        self._discriminator_step = tf.function(
            lambda real, visible: self.discriminator_on(real, tf.stop_gradient(self._fakes(visible))))
        self._generator_step = tf.function(self._generator_update)

    def trackables(self):
        return dict(super().trackables(), discriminator=self.discriminator,
                    discriminator_optimizer=self.discriminator_optimizer)

    def _fakes(self, visible):
        latents = self.rng.normal([tf.shape(visible)[0], *self.config.latent_grid, self.config.latent_channels])
        return self.generate(latents, visible, self.masked_statistics) * visible

    def discriminator_loss(self, real, fake):
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss = (tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(real_logits), real_logits))
                + tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)))
        accuracy = 0.5 * (tf.reduce_mean(tf.cast(real_logits > 0, tf.float32))
                          + tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)))
        return loss, accuracy

    def discriminator_on(self, real, fake):
        """One Adam step on D for a batch of real and fake segments; returns (loss, accuracy) before it."""
        with tf.GradientTape() as tape:
            loss, accuracy = self.discriminator_loss(real, fake)
        variables = self.discriminator.trainable_variables
        self.discriminator_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss, accuracy

    def _generator_update(self, visible):
        with tf.GradientTape() as tape:
            logits = self.discriminator(self._fakes(visible))
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits), logits))
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    def train_iteration(self):
        totals = {"loss": [], "discriminator_loss": [], "discriminator_accuracy": []}
        for _ in range(self.config.updates_per_iteration):
            for batch in self.batches:
                real, visible = tf.constant(self.observed[batch]), tf.constant(self.visible[batch])
                loss, accuracy = self._discriminator_step(real, visible)
                totals["discriminator_loss"].append(float(loss))
                totals["discriminator_accuracy"].append(float(accuracy))
                totals["loss"].append(float(self._generator_step(visible)))
        self.iteration.assign_add(1)
        return {key: float(np.mean(values)) for key, values in totals.items()}

    def recover(self):
        """The occluded training segments recovered by Langevin inference on the GAN's latents (as at test time)."""
        return self.recover_frozen(self.observed, self.visible, self.config.seed)

    def reconstruct(self, latents=None):
        """G(Z) for the training segments, Z inferred by Langevin from their visible values."""
        return self.infer_frozen(self.observed, self.visible, self.config.seed)

    def summary_images(self):
        """TensorBoard: two samples from the generator."""
        samples = self.synthesize(2, seed=self.config.seed)
        return {"samples/generated": writers.frame_strip(list(samples), every=max(1, self.config.num_frames // 10))}
