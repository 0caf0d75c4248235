"""Model-free recovery baselines (vectorised numpy): MRF-ℓ1/ℓ2 Gibbs sampling, Laplacian heat diffusion, temporal
linear interpolation.

Every function takes a clip `video` [frames, height, width, channels] (any scale; the experiments use [-1, 1]) and a
`visible` mask of the same shape (1 = seen) and returns the clip with the occluded values filled in and the visible
ones untouched. Colour channels are separate fields that share one neighbourhood structure: the 6-neighbourhood in
(time, row, column).
"""

import numpy as np
import scipy.optimize

# (frame, row, column) offsets of the 3D 6-neighbourhood.
_OFFSETS = ((-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1))


class Neighbourhood:
    """Flat indices of the 6 neighbours of chosen values of a [frames, height, width, channels] array.

    Attributes:
      index: int64 [P] flat indices of the chosen values.
      neighbours: int64 [P, 6] flat indices of their neighbours (the value itself where the neighbour would be
        outside the clip).
      weights: float [P, 6], 1 for a real neighbour, 0 at the border.
      colour: int [P], (frame + row + column) mod 2: values of one colour have no neighbour of the same colour,
        so they can be updated all at once (checkerboard Gibbs).
    """

    def __init__(self, shape, index):
        self.index = np.asarray(index, np.int64)
        coordinates = np.unravel_index(self.index, shape)
        strides = np.array([shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3]])
        neighbours, weights = [], []
        for offset in _OFFSETS:
            inside = np.ones(len(self.index), bool)
            for axis, step in enumerate(offset):
                if step:
                    moved = coordinates[axis] + step
                    inside &= (moved >= 0) & (moved < shape[axis])
            flat = self.index + int(np.dot(offset, strides))
            neighbours.append(np.where(inside, flat, self.index))
            weights.append(inside.astype(np.float64))
        self.neighbours = np.stack(neighbours, axis=1)
        self.weights = np.stack(weights, axis=1)
        self.colour = (coordinates[0] + coordinates[1] + coordinates[2]) % 2

    def subset(self, keep):
        other = Neighbourhood.__new__(Neighbourhood)
        other.index, other.neighbours = self.index[keep], self.neighbours[keep]
        other.weights, other.colour = self.weights[keep], self.colour[keep]
        return other


def _check(video, visible):
    video = np.asarray(video, np.float64)
    visible = np.broadcast_to(np.asarray(visible) != 0, video.shape)
    if video.ndim != 4:
        raise ValueError(f"the clip must be [frames, height, width, channels], got shape {video.shape}")
    if not visible.any():
        raise ValueError("the mask occludes everything: nothing to recover from")
    return video, visible


def _initial_fill(video, visible):
    """Occluded values start at the mean of the visible values of their channel."""
    filled = video.copy()
    for channel in range(video.shape[-1]):
        seen = visible[..., channel]
        fill = video[..., channel][seen].mean() if seen.any() else video[visible].mean()
        filled[..., channel] = np.where(seen, video[..., channel], fill)
    return filled


def _neighbour_mean(flat, hood):
    return (flat[hood.neighbours] * hood.weights).sum(axis=1) / hood.weights.sum(axis=1)


# ---- Laplacian heat diffusion and temporal interpolation ---------------------------------------------------------

def laplacian_heat_diffusion(video, visible, num_sweeps=500, rate=0.5):
    """Heat diffusion into the holes (WACV'19 §4.2 baseline: 500 sweeps, rate 0.5).

    Each sweep moves every occluded value towards the mean of its 3D 6-neighbourhood,
    x ← x + rate · (mean_{j ∈ N(x)} x_j − x), i.e. an explicit step of the heat equation with the graph Laplacian
    normalised by the number of neighbours (stable for rate ≤ 1); visible values are fixed (Dirichlet boundary).
    Holes start at the mean of the visible values.
    """
    video, visible = _check(video, visible)
    filled = _initial_fill(video, visible)
    hood = Neighbourhood(video.shape, np.flatnonzero(~visible))
    flat = filled.reshape(-1)
    for _ in range(num_sweeps):
        flat[hood.index] += rate * (_neighbour_mean(flat, hood) - flat[hood.index])
    return filled


def _visible_neighbours_in_time(video, visible):
    """Per value: the frame index of the nearest visible value of that pixel before (-1 if none) and after
    (num_frames if none), and those values (clamped indices where there is none)."""
    num_frames = video.shape[0]
    time = np.arange(num_frames).reshape(-1, 1, 1, 1)
    previous = np.maximum.accumulate(np.where(visible, time, -1), axis=0)
    following = np.minimum.accumulate(np.where(visible, time, num_frames)[::-1], axis=0)[::-1]
    before = np.take_along_axis(video, np.clip(previous, 0, num_frames - 1), axis=0)
    after = np.take_along_axis(video, np.clip(following, 0, num_frames - 1), axis=0)
    return time, previous, following, before, after


def _fill_in_time(video, visible, fill, fallback_sweeps):
    """Visible values kept, occluded ones from `fill` (NaN where a pixel is never visible: heat diffusion)."""
    recovered = np.where(visible, video, fill)
    never = np.isnan(recovered)
    if never.any():
        diffused = laplacian_heat_diffusion(np.where(never, 0.0, recovered), ~never, num_sweeps=fallback_sweeps)
        recovered = np.where(never, diffused, recovered)
    return recovered


def temporal_linear_interpolation(video, visible, fallback_sweeps=500):
    """Each occluded value is interpolated linearly in time between the nearest visible frames of that pixel.

    Before the first / after the last visible frame the nearest visible value is repeated. Pixels never visible
    in any frame fall back to Laplacian heat diffusion.
    """
    video, visible = _check(video, visible)
    time, previous, following, before, after = _visible_neighbours_in_time(video, visible)
    has_previous, has_following = previous >= 0, following < video.shape[0]
    fraction = (time - previous) / np.maximum(following - previous, 1)
    both = before + fraction * (after - before)
    fill = np.where(has_previous & has_following, both,
                    np.where(has_previous, before, np.where(has_following, after, np.nan)))
    return _fill_in_time(video, visible, fill, fallback_sweeps)


def nearest_visible_frame(video, visible, fallback_sweeps=500):
    """Each occluded value copies the same pixel of the nearest frame where it is visible (the earlier one on a
    tie); pixels never visible fall back to Laplacian heat diffusion. What a user would try first on slow clips."""
    video, visible = _check(video, visible)
    time, previous, following, before, after = _visible_neighbours_in_time(video, visible)
    has_previous, has_following = previous >= 0, following < video.shape[0]
    use_before = has_previous & (~has_following | (time - previous <= following - time))
    fill = np.where(use_before, before, np.where(has_following, after, np.nan))
    return _fill_in_time(video, visible, fill, fallback_sweeps)


# ---- MRF: conditionals, parameter estimate, Gibbs ----------------------------------------------------------------

def gaussian_conditional(values, weights, beta):
    """ℓ2 MRF: p(x | neighbours) ∝ exp(−β Σ_j w_j (x − v_j)²) is N(Σ w v / W, 1 / (2 β W)).

    Returns:
      (mean [P], variance [P]).
    """
    total = weights.sum(axis=1)
    return (values * weights).sum(axis=1) / total, 1.0 / (2.0 * beta * total)


def laplace_product_intervals(values, weights, beta):
    """ℓ1 MRF: p(x | neighbours) ∝ exp(−β Σ_j w_j |x − v_j|), a piecewise exponential density.

    Between consecutive sorted neighbour values b_k ≤ x ≤ b_{k+1} the energy is linear with slope
    β (Σ_{j≤k} w_j − Σ_{j>k} w_j); beyond the extremes it grows at rate β W. Returns what sampling and the
    normaliser need.

    Returns:
      breakpoints [P, n] (sorted), energies at them [P, n], slopes [P, n + 1] of the n + 1 intervals, and the
      log masses [P, n + 1] of the intervals (their log-sum-exp is log Z).
    """
    order = np.argsort(values, axis=1)
    points = np.take_along_axis(values, order, axis=1)
    w = np.take_along_axis(weights, order, axis=1)
    total = w.sum(axis=1, keepdims=True)
    cumulative_w = np.cumsum(w, axis=1)
    cumulative_wv = np.cumsum(w * points, axis=1)
    total_wv = cumulative_wv[:, -1:]
    # Σ_j w_j |b_m − v_j| from prefix sums, O(n) per point.
    energies = beta * (points * cumulative_w - cumulative_wv + (total_wv - cumulative_wv)
                       - points * (total - cumulative_w))
    before = np.concatenate([np.zeros_like(total), cumulative_w], axis=1)  # Σ_{j≤k} w_j for k = 0..n.
    slopes = beta * (2.0 * before - total)
    rate = beta * total
    lengths = np.diff(points, axis=1)
    inner = np.abs(slopes[:, 1:-1])
    tiny = 1e-12
    with np.errstate(divide="ignore"):
        inner_log_mass = (-np.minimum(energies[:, :-1], energies[:, 1:])
                          + np.log(-np.expm1(-np.maximum(inner, tiny) * lengths)) - np.log(np.maximum(inner, tiny)))
    log_mass = np.concatenate([-energies[:, :1] - np.log(rate), inner_log_mass, -energies[:, -1:] - np.log(rate)],
                              axis=1)
    return points, energies, slopes, log_mass


def sample_laplace_product(values, weights, beta, rng):
    """Exact draws from p(x | neighbours) ∝ exp(−β Σ_j w_j |x − v_j|), by piecewise inversion.

    An interval is chosen with probability proportional to its mass (inverse CDF over the intervals), then x is
    drawn from the exponential density truncated to that interval, measured from its lower-energy end.
    """
    points, energies, slopes, log_mass = laplace_product_intervals(values, weights, beta)
    count, n = points.shape
    cumulative = np.cumsum(np.exp(log_mass - log_mass.max(axis=1, keepdims=True)), axis=1)
    chosen = np.sum(cumulative < rng.random((count, 1)) * cumulative[:, -1:], axis=1)
    rate = beta * weights.sum(axis=1)
    uniform = rng.random(count)
    rows = np.arange(count)
    # Inner interval k (1..n-1) spans points[k-1]..points[k]; interval 0 and n are the two tails.
    k = np.clip(chosen, 1, n - 1)
    left, right = points[rows, k - 1], points[rows, k]
    left_energy, right_energy = energies[rows, k - 1], energies[rows, k]
    slope = np.maximum(np.abs(slopes[rows, k]), 1e-12)
    length = right - left
    distance = -np.log1p(uniform * np.expm1(-slope * length)) / slope
    distance = np.minimum(distance, length)
    inner = np.where(left_energy <= right_energy, left + distance, right - distance)
    exponential = rng.exponential(size=count) / rate
    return np.where(chosen == 0, points[:, 0] - exponential,
                    np.where(chosen == n, points[:, -1] + exponential, inner))


def estimate_beta(video, visible, potential, max_sites=200_000, min_sites=1000, seed=0):
    """β of the MRF by maximum pseudo-likelihood on visible values whose 6 neighbours are all visible.

    ℓ2 in closed form, β = N / (2 Σ_i W_i (x_i − m_i)²) with m_i the neighbour mean; ℓ1 by a 1-D search of
    Σ_i [−β Σ_j |x_i − x_j| − log Z_i(β)] over log β. At most `max_sites` random sites are used. When fewer
    than `min_sites` values have their whole neighbourhood visible (e.g. few consecutive visible frames), every
    visible value with at least 3 visible neighbours is used, with its occluded neighbours left out.
    """
    video, visible = _check(video, visible)
    hood = Neighbourhood(video.shape, np.flatnonzero(visible))
    flat, flat_visible = video.reshape(-1), visible.reshape(-1)
    hood.weights = hood.weights * flat_visible[hood.neighbours]
    counts = hood.weights.sum(axis=1)
    sites = np.flatnonzero(counts == 6)
    if len(sites) < min_sites:
        sites = np.flatnonzero(counts >= 3)
    if len(sites) == 0:
        raise ValueError("no visible value has 3 visible neighbours: cannot estimate the MRF parameter")
    if len(sites) > max_sites:
        sites = np.random.default_rng(seed).choice(sites, max_sites, replace=False)
    hood = hood.subset(sites)
    x, neighbours, weights = flat[hood.index], flat[hood.neighbours], hood.weights
    if potential == "l2":
        squared = np.sum(weights.sum(axis=1) * np.square(x - _neighbour_mean(flat, hood)))
        # Conditional of a site: N(m, 1/(2βW)) ⇒ ∂/∂β log PL = Σ [1/(2β) − W (x − m)²] = 0.
        return float(len(x) / (2.0 * max(squared, 1e-12)))
    if potential != "l1":
        raise ValueError(f"unknown MRF potential {potential!r}; choose l1 or l2")
    absolute = np.sum(weights * np.abs(x[:, None] - neighbours), axis=1)

    def negative_log_pseudo_likelihood(log_beta):
        beta = np.exp(log_beta)
        log_mass = laplace_product_intervals(neighbours, weights, beta)[3]
        log_z = np.logaddexp.reduce(log_mass, axis=1)
        return float(np.sum(beta * absolute + log_z))

    result = scipy.optimize.minimize_scalar(negative_log_pseudo_likelihood, bounds=(-5.0, 12.0), method="bounded")
    return float(np.exp(result.x))


def mrf_gibbs(video, visible, potential, beta=None, burn_in=200, num_samples=100, seed=0):
    """Fills the holes by Gibbs sampling an MRF with pairwise 3D nearest-neighbour potentials (AAAI'19 §4.3).

    p(x) ∝ exp(−β Σ_{i~j} φ(x_i − x_j)) with φ(d) = |d| (`l1`) or d² (`l2`) over the 6-neighbourhood in
    (time, row, column); visible values are fixed. Checkerboard sweeps update all occluded values of one colour at
    once from their exact conditionals (Gaussian for ℓ2; a product of Laplace terms, sampled by piecewise
    inversion, for ℓ1). Holes start at the mean of the visible values.

    Args:
      video, visible: the clip and its mask, [frames, height, width, channels].
      potential: "l1" or "l2".
      beta: the MRF parameter; None estimates it from the visible values (`estimate_beta`).
      burn_in: sweeps before the reported sample.
      num_samples: further sweeps whose states are averaged.
      seed: random seed.

    Returns:
      dict with `sample` (the state after burn-in, the paper's estimate), `mean` (the average of the next
      `num_samples` states, an estimate of the posterior mean) and `beta`.
    """
    video, visible = _check(video, visible)
    if beta is None:
        beta = estimate_beta(video, visible, potential, seed=seed)
    rng = np.random.default_rng(seed)
    state = _initial_fill(video, visible)
    flat = state.reshape(-1)
    hood = Neighbourhood(video.shape, np.flatnonzero(~visible))
    colours = [hood.subset(hood.colour == colour) for colour in (0, 1)]
    total = np.zeros(len(hood.index))
    sample = state.copy() if burn_in == 0 else None
    for sweep in range(burn_in + num_samples):
        for part in colours:
            values = flat[part.neighbours]
            if potential == "l2":
                mean, variance = gaussian_conditional(values, part.weights, beta)
                flat[part.index] = mean + np.sqrt(variance) * rng.standard_normal(len(mean))
            else:
                flat[part.index] = sample_laplace_product(values, part.weights, beta, rng)
        if sweep + 1 == burn_in:
            sample = state.copy()
        elif sweep + 1 > burn_in:
            total += flat[hood.index]
    mean = state.copy()
    if num_samples:
        mean.reshape(-1)[hood.index] = total / num_samples
    return {"sample": sample, "mean": mean, "beta": beta}
