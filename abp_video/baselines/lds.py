"""The LDS baseline of AAAI'19 §4.1: Doretto, Chiuso, Wu, Soatto, "Dynamic Textures", IJCV 2003 (numpy only).

x_{t+1} = A x_t + B v_t,  v_t ~ N(0, I_{n_v});   y_t = C x_t + ȳ,
learned in closed form by the paper's "suboptimal" procedure (its Section 3.2 and the MATLAB listing in it):

  Y - ȳ1ᵀ = U Σ Vᵀ (thin SVD of the mean-subtracted frames, one column per frame),
  C = U_d,  X = Σ_d V_dᵀ = [x_1 .. x_τ],
  A = X_{2:τ} X_{1:τ-1}⁺  (least squares),
  V̂ = X_{2:τ} - A X_{1:τ-1},  V̂ = U_v Σ_v W_vᵀ,  B = U_v[:, :n_v] Σ_v[:n_v] / √(τ-1)  (so B Bᵀ ≈ Q̂ = V̂V̂ᵀ/(τ-1)).

Choosing the orders (IJCV 2003 reads them off the singular values; it gives no rule for a 30-frame clip):
  d   = the smallest number of principal components that explain `explained_variance` of the frames' variance,
        capped at `max_state_fraction` · (τ - 1) so that A (d² numbers) is fitted from enough transitions; with
        d close to τ - 1 least squares interpolates the τ - 1 transitions, the residual (hence Q and the synthesised
        motion) collapses to almost nothing, and the synthesised clip freezes.
  n_v = the smallest number of residual directions that explain the same fraction of the residual energy.
Both can be fixed instead (`state_dim`, `noise_dim`). The defaults were chosen by measurement; see docs/texture.md.

A least-squares A can have eigenvalues outside the unit circle on short clips; synthesis would then blow up, so
eigenvalues with modulus above `max_spectral_radius` are shrunk onto that circle (reported as `stabilised`).
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class LdsConfig:
    """How the LDS of `python main.py --experiment texture --method lds` is fitted (Doretto et al., IJCV 2003).

    The clip itself (data, frames, size, seed) comes from the texture config, so the LDS sees exactly the frames
    our model sees. `state_dim` / `noise_dim` of 0 choose d / n_v from the singular values (module docstring).
    """
    state_dim: int = 0
    noise_dim: int = 0
    explained_variance: float = 0.95
    max_state_fraction: float = 0.5
    max_spectral_radius: float = 0.999

    def validate(self):
        """Raises ValueError with a sentence a user understands when the settings cannot work."""
        if self.state_dim < 0 or self.noise_dim < 0:
            raise ValueError(f"--lds_state_dim and --lds_noise_dim must be 0 (automatic) or positive, got "
                             f"{self.state_dim} and {self.noise_dim}")
        for name in ("explained_variance", "max_state_fraction", "max_spectral_radius"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"LDS {name} must be in (0, 1], got {getattr(self, name)}")
        return self


def _order_for(singular_values, fraction):
    """Smallest k with Σ_{i≤k} s_i² ≥ fraction · Σ s_i² (at least 1)."""
    energy = np.square(singular_values)
    if energy.sum() <= 0:
        return 1
    cumulative = np.cumsum(energy) / energy.sum()
    return int(min(len(energy), np.searchsorted(cumulative, fraction - 1e-12) + 1))


def stabilise(transition, max_spectral_radius):
    """Shrinks eigenvalues of `transition` with modulus above `max_spectral_radius` onto that circle.

    Returns:
      (the real matrix, True if it was changed).
    """
    eigenvalues, eigenvectors = np.linalg.eig(transition)
    moduli = np.abs(eigenvalues)
    if moduli.max(initial=0.0) <= max_spectral_radius:
        return transition, False
    scaled = np.where(moduli > max_spectral_radius, eigenvalues / np.maximum(moduli, 1e-12) * max_spectral_radius,
                      eigenvalues)
    # Conjugate pairs are scaled alike, so the product is real up to rounding.
    stable = (eigenvectors @ np.diag(scaled) @ np.linalg.inv(eigenvectors)).real
    return stable, True


@dataclasses.dataclass
class LinearDynamicalSystem:
    """A fitted dynamic texture: x_{t+1} = A x_t + B v_t, y_t = C x_t + ȳ, frames [τ, height, width, 3].

    Attributes:
      mean: ȳ, [D] with D = height · width · 3.
      emission: C, [D, d] (orthonormal columns).
      transition: A, [d, d].
      noise_matrix: B, [d, n_v].
      states: X, [τ, d], the training clip's states (x_1 is where synthesis starts).
      singular_values: all singular values of the mean-subtracted frames (for the explained variance).
      frame_shape: (height, width, 3).
      stabilised: whether eigenvalues of the least-squares A were shrunk.
    """
    mean: np.ndarray
    emission: np.ndarray
    transition: np.ndarray
    noise_matrix: np.ndarray
    states: np.ndarray
    singular_values: np.ndarray
    frame_shape: tuple
    stabilised: bool = False

    @property
    def state_dim(self):
        return self.transition.shape[0]

    @property
    def noise_dim(self):
        return self.noise_matrix.shape[1]

    @property
    def explained_variance(self):
        """Fraction of the frames' variance the d components keep."""
        energy = np.square(self.singular_values)
        return float(energy[:self.state_dim].sum() / max(energy.sum(), 1e-30))

    @property
    def spectral_radius(self):
        return float(np.abs(np.linalg.eigvals(self.transition)).max(initial=0.0))

    def _frames(self, states):
        """y = C x + ȳ for states [..., d] -> frames [..., height, width, 3], clipped to the data range [-1, 1]."""
        pixels = states @ self.emission.T + self.mean
        return np.clip(pixels, -1.0, 1.0).reshape(states.shape[:-1] + tuple(self.frame_shape)).astype(np.float32)

    def reconstruct(self):
        """The training clip projected on the d components, [τ, height, width, 3] (the LDS's reconstruction)."""
        return self._frames(self.states)

    def synthesize(self, num_samples, num_frames, seed, burn_in=0):
        """New clips of any length: x_1 from the training clip, x_{t+1} = A x_t + B v_t, v_t ~ N(0, I).

        Args:
          num_samples: independent clips.
          num_frames: frames per clip.
          seed: seed of the driving noise.
          burn_in: steps taken and dropped first.

        Returns:
          float32 [num_samples, num_frames, height, width, 3] in [-1, 1].
        """
        if num_samples <= 0 or num_frames <= 0 or burn_in < 0:
            raise ValueError(f"num_samples and num_frames must be positive and burn_in not negative, got "
                             f"{num_samples}, {num_frames}, {burn_in}")
        rng = np.random.default_rng(seed)
        state = np.repeat(self.states[:1], num_samples, axis=0)
        states = []
        for step in range(burn_in + num_frames):
            if step >= burn_in:
                states.append(state)
            noise = rng.standard_normal((num_samples, self.noise_dim))
            state = state @ self.transition.T + noise @ self.noise_matrix.T
        return self._frames(np.stack(states, axis=1))

    def save(self, path):
        np.savez(path, mean=self.mean, emission=self.emission, transition=self.transition,
                 noise_matrix=self.noise_matrix, states=self.states, singular_values=self.singular_values,
                 frame_shape=np.asarray(self.frame_shape), stabilised=np.asarray(self.stabilised))
        return path

    @classmethod
    def load(cls, path):
        with np.load(path) as values:
            return cls(mean=values["mean"], emission=values["emission"], transition=values["transition"],
                       noise_matrix=values["noise_matrix"], states=values["states"],
                       singular_values=values["singular_values"], frame_shape=tuple(int(v) for v in
                                                                                    values["frame_shape"]),
                       stabilised=bool(values["stabilised"]))


def fit_lds(frames, config=LdsConfig()):
    """Doretto et al.'s closed-form (suboptimal) learning of a dynamic texture.

    Args:
      frames: float [τ, height, width, 3] in [-1, 1].
      config: an `LdsConfig`: d (`state_dim`; 0 picks the smallest d explaining `explained_variance` of the
        frames' variance, capped at `max_state_fraction` · (τ - 1)), n_v (`noise_dim`; 0 picks the smallest n_v
        explaining `explained_variance` of the residual energy) and `max_spectral_radius`.

    Returns:
      a `LinearDynamicalSystem`.
    """
    config.validate()
    state_dim, noise_dim = config.state_dim, config.noise_dim
    frames = np.asarray(frames, np.float64)
    if frames.ndim != 4:
        raise ValueError(f"frames must be [time, height, width, channels], got shape {frames.shape}")
    num_frames = frames.shape[0]
    if num_frames < 3:
        raise ValueError(f"the LDS needs at least 3 frames to fit a transition, got {num_frames}")
    observations = frames.reshape(num_frames, -1)  # Rows are frames: Yᵀ in the paper's notation.
    mean = observations.mean(axis=0)
    # Y - ȳ1ᵀ = U Σ Vᵀ; with frames as rows the roles of U and V swap.
    right, singular_values, left_t = np.linalg.svd(observations - mean, full_matrices=False)
    rank = int(np.sum(singular_values > singular_values[0] * 1e-10)) if singular_values[0] > 0 else 1
    if state_dim:
        if state_dim > min(rank, num_frames - 1):
            raise ValueError(f"--lds_state_dim {state_dim} is larger than the clip supports ({min(rank, num_frames - 1)}"
                             f" = min(rank of the frames, frames - 1)); choose a smaller one or 0 (automatic)")
        order = state_dim
    else:
        cap = max(1, int(config.max_state_fraction * (num_frames - 1)))
        order = min(_order_for(singular_values, config.explained_variance), cap, rank)
    emission = left_t[:order].T  # C = U_d, [D, d].
    states = right[:, :order] * singular_values[:order]  # X = Σ_d V_dᵀ, stored as rows [τ, d].
    previous, following = states[:-1], states[1:]
    # A = X_{2:τ} X_{1:τ-1}⁺, here in row form: following ≈ previous Aᵀ.
    transition = np.linalg.lstsq(previous, following, rcond=None)[0].T
    residual = following - previous @ transition.T  # V̂ᵀ, [τ - 1, d].
    noise_left, noise_singular, _ = np.linalg.svd(residual.T, full_matrices=False)
    if noise_dim:
        if noise_dim > order:
            raise ValueError(f"--lds_noise_dim {noise_dim} exceeds the state dimension {order}")
        noise_order = noise_dim
    else:
        noise_order = _order_for(noise_singular, config.explained_variance)
    noise_matrix = noise_left[:, :noise_order] * noise_singular[:noise_order] / np.sqrt(num_frames - 1)
    transition, stabilised = stabilise(transition, config.max_spectral_radius)
    return LinearDynamicalSystem(mean=mean, emission=emission, transition=transition, noise_matrix=noise_matrix,
                                 states=states, singular_values=singular_values, frame_shape=frames.shape[1:],
                                 stabilised=stabilised)
