"""The shared Langevin samplers recover a known Gaussian posterior."""

import numpy as np
import pytest
import tensorflow as tf

from abp_video import langevin

# Prior z ~ N(0, I_2); observation x = A z + N(0, σ² I_3). Posterior: N(m, P⁻¹), P = I + AᵀA/σ², m = P⁻¹Aᵀx/σ².
A = np.array([[1.0, 0.5], [0.0, 1.0], [0.8, -0.6]], np.float32)
X = np.array([1.0, -0.5, 0.7], np.float32)
SIGMA = 0.7
PRECISION = np.eye(2) + A.T @ A / SIGMA ** 2
COVARIANCE = np.linalg.inv(PRECISION)
MEAN = COVARIANCE @ A.T @ X / SIGMA ** 2


def energy(z):
    """Per-chain energy, [chains]: ||x - A z||² / (2σ²) + ||z||² / 2."""
    residual = X[None] - tf.matmul(z, A, transpose_b=True)
    return tf.reduce_sum(residual ** 2, axis=1) / (2 * SIGMA ** 2) + 0.5 * tf.reduce_sum(z ** 2, axis=1)


@pytest.mark.parametrize("sampler,step_size,tolerance", [
    (langevin.langevin_sample, 0.1, 0.06), (langevin.mala_sample, 0.5, 0.05)])
def test_sampler_recovers_gaussian_posterior(sampler, step_size, tolerance):
    generator = tf.random.Generator.from_seed(3)
    start = generator.normal([4000, 2]) * 3.0 + 5.0  # Far from the posterior: the chains must travel.

    @tf.function
    def run():
        return sampler(energy, [start], step_size, 600, generator)

    (samples,), _ = run()
    samples = samples.numpy()
    np.testing.assert_allclose(samples.mean(axis=0), MEAN, atol=tolerance)
    np.testing.assert_allclose(np.cov(samples.T), COVARIANCE, atol=tolerance)


def test_mala_reports_acceptance_rate_that_falls_with_step_size():
    generator = tf.random.Generator.from_seed(0)
    start = tf.zeros([500, 2])
    _, small = langevin.mala_sample(energy, [start], 0.3, 50, generator)
    _, large = langevin.mala_sample(energy, [start], 2.5, 50, generator)
    assert 0.8 < float(small) <= 1.0
    assert float(large) < float(small) - 0.2


def test_langevin_update_is_eq4():
    z, gradient, noise = tf.constant([1.0]), tf.constant([2.0]), tf.constant([0.5])
    (updated,) = langevin.langevin_update([z], [gradient], 0.1, [noise])
    np.testing.assert_allclose(updated.numpy(), 1.0 - 0.5 * 0.01 * 2.0 + 0.1 * 0.5, rtol=1e-6)


def test_zero_steps_returns_start():
    start = tf.ones([3, 2])
    (out,), energies = langevin.langevin_sample(energy, [start], 0.1, 0, tf.random.Generator.from_seed(0))
    np.testing.assert_array_equal(out.numpy(), start.numpy())
    assert energies.shape == (3,)
