"""Recovery baselines and metrics on small synthetic cases with known answers."""

import numpy as np
import pytest
from scipy import stats

from abp_video import metrics
from abp_video.baselines import recovery


def _ramp(frames=10, size=12):
    """A field linear in time, row and column (harmonic: the discrete Laplacian is zero)."""
    t, y, x = np.meshgrid(np.arange(frames), np.arange(size), np.arange(size), indexing="ij")
    return (0.05 * t - 0.03 * y + 0.04 * x - 0.3)[..., None].repeat(2, axis=-1)


def _hole(shape):
    visible = np.ones(shape)
    visible[3:7, 4:9, 3:8] = 0
    return visible


def test_heat_diffusion_recovers_a_linear_ramp():
    video = _ramp()
    visible = _hole(video.shape)
    recovered = recovery.laplacian_heat_diffusion(np.where(visible > 0, video, 0.0), visible)
    np.testing.assert_array_equal(recovered[visible > 0], video[visible > 0])
    assert np.abs(recovered - video).max() < 1e-4
    few = recovery.laplacian_heat_diffusion(np.where(visible > 0, video, 0.0), visible, num_sweeps=3)
    assert np.abs(few - video).max() > 1e-2  # Not done by the initial fill alone: the test can fail.


def test_temporal_interpolation_is_exact_on_linear_in_time_data():
    rng = np.random.default_rng(0)
    frames = 12
    video = (rng.normal(size=(1, 6, 6, 3)) + rng.normal(size=(1, 6, 6, 3)) * np.arange(frames)[:, None, None, None])
    visible = np.ones_like(video)
    visible[[2, 3, 4, 8]] = 0
    visible[5:7, 1:3, 2:4] = 0  # And a region hole.
    recovered = recovery.temporal_linear_interpolation(visible * video, visible)
    np.testing.assert_allclose(recovered, video, atol=1e-10)
    # Before the first visible frame the first visible value is repeated.
    visible[:2] = 0
    recovered = recovery.temporal_linear_interpolation(visible * video, visible)
    first_visible = np.argmax(visible > 0, axis=0)[None]
    np.testing.assert_allclose(recovered[:2], np.take_along_axis(video, first_visible, axis=0).repeat(2, axis=0))


def test_temporal_interpolation_falls_back_to_diffusion_where_never_visible():
    video = _ramp()
    video = video - 0.05 * np.arange(10)[:, None, None, None]  # Constant in time: the hole's values are harmonic.
    visible = np.ones_like(video)
    visible[:, 4:7, 4:7] = 0  # The same pixels missing in every frame.
    recovered = recovery.temporal_linear_interpolation(visible * video, visible)
    assert np.isfinite(recovered).all() and np.abs(recovered - video).max() < 1e-3


def test_gaussian_conditional_of_l2_gibbs_matches_samples():
    """One occluded value with fixed neighbours: the Gibbs draws follow N(mean of neighbours, 1/(2β·6))."""
    rng = np.random.default_rng(1)
    video = rng.normal(size=(3, 3, 3, 1))
    visible = np.ones_like(video)
    visible[1, 1, 1] = 0
    beta = 2.5
    draws = [recovery.mrf_gibbs(video, visible, "l2", beta=beta, burn_in=1, num_samples=0, seed=seed)["sample"]
             [1, 1, 1, 0] for seed in range(3000)]
    neighbours = [video[0, 1, 1], video[2, 1, 1], video[1, 0, 1], video[1, 2, 1], video[1, 1, 0], video[1, 1, 2]]
    expected_mean, expected_variance = np.mean(neighbours), 1.0 / (2 * beta * 6)
    assert abs(np.mean(draws) - expected_mean) < 4 * np.sqrt(expected_variance / 3000)
    assert abs(np.var(draws) / expected_variance - 1) < 0.1
    mean, variance = recovery.gaussian_conditional(np.array([neighbours])[..., 0], np.ones((1, 6)), beta)
    np.testing.assert_allclose([mean[0], variance[0]], [expected_mean, expected_variance])


def test_l1_conditional_is_sampled_exactly():
    """Piecewise inversion against the density exp(−β Σ w_j |x − v_j|) tabulated on a fine grid."""
    rng = np.random.default_rng(2)
    values = np.array([0.1, -0.3, 0.5, 0.5, 0.9, 0.2])
    weights = np.array([1, 1, 1, 1, 1, 0.0])  # A border value: its neighbour does not count.
    beta = 3.0
    draws = recovery.sample_laplace_product(np.tile(values, (50_000, 1)), np.tile(weights, (50_000, 1)), beta, rng)
    grid = np.linspace(-4, 4, 400_001)
    density = np.exp(-beta * np.abs(grid[:, None] - values[None]) @ weights)
    cdf = np.cumsum(density) / density.sum()
    assert stats.kstest(draws, lambda q: np.interp(q, grid, cdf)).pvalue > 1e-3
    log_z = np.logaddexp.reduce(recovery.laplace_product_intervals(values[None], weights[None], beta)[3], axis=1)
    np.testing.assert_allclose(log_z[0], np.log(density.sum() * (grid[1] - grid[0])), rtol=1e-5)
    # A wrong density is rejected: the test can fail.
    wrong = np.cumsum(np.exp(-2 * beta * np.abs(grid[:, None] - values[None]) @ weights))
    assert stats.kstest(draws, lambda q: np.interp(q, grid, wrong / wrong[-1])).pvalue < 1e-6


@pytest.mark.parametrize("potential", ["l2", "l1"])
def test_beta_is_estimated_back_from_an_mrf_sample(potential):
    """Sample an MRF with known β (everything occluded but a few anchors), then estimate β from the sample."""
    beta = 4.0
    shape = (14, 14, 14, 1)
    visible = np.zeros(shape)
    visible[::7, ::7, ::7] = 1
    field = recovery.mrf_gibbs(np.zeros(shape), visible, potential, beta=beta, burn_in=150, num_samples=0,
                                seed=3)["sample"]
    estimate = recovery.estimate_beta(field, np.ones(shape), potential)
    assert abs(estimate / beta - 1) < 0.15, estimate


def test_mrf_and_diffusion_estimates_beat_zero_filling():
    rng = np.random.default_rng(4)
    t, y, x = np.meshgrid(np.arange(10), np.arange(16), np.arange(16), indexing="ij")
    video = np.sin(0.4 * x + 0.3 * t) * np.cos(0.3 * y) * 0.8
    video = (video[..., None] + 0.02 * rng.normal(size=video.shape + (3,))).clip(-1, 1)
    visible = np.ones_like(video)
    for frame in range(10):
        top, left = rng.integers(0, 10, 2)
        visible[frame, top:top + 6, left:left + 6] = 0
    zero = metrics.recovery_error(np.where(visible > 0, video, 0.0), video, visible)
    observed = visible * video
    errors = {}
    for potential in ("l1", "l2"):
        result = recovery.mrf_gibbs(observed, visible, potential, burn_in=30, num_samples=30, seed=0)
        errors[potential] = (metrics.recovery_error(result["sample"], video, visible),
                             metrics.recovery_error(result["mean"], video, visible))
        assert result["beta"] > 0
        np.testing.assert_array_equal(result["mean"][visible > 0], video[visible > 0])
    errors["lhd"] = metrics.recovery_error(recovery.laplacian_heat_diffusion(observed, visible), video, visible)
    errors["linear"] = metrics.recovery_error(recovery.temporal_linear_interpolation(observed, visible), video,
                                              visible)
    for name, error in errors.items():
        for value in np.atleast_1d(error):
            assert value < 0.5 * zero, (name, errors, zero)
    # The average of samples beats a single sample.
    assert errors["l2"][1] < errors["l2"][0]


def test_metrics_on_the_pixel_scale():
    original = np.zeros((2, 4, 4, 3))
    visible = np.ones_like(original)
    visible[0, :2] = 0
    recovered = original.copy()
    recovered[0, :2] = 0.2  # 0.2 on [-1, 1] is 25.5 on [0, 255].
    recovered[1] = 0.9  # Visible values do not count.
    assert metrics.recovery_error(recovered, original, visible) == pytest.approx(25.5)
    assert metrics.recovery_psnr(recovered, original, visible) == pytest.approx(10 * np.log10(255 ** 2 / 25.5 ** 2))
    with pytest.raises(ValueError, match="occludes nothing"):
        metrics.recovery_error(recovered, original, np.ones_like(original))
