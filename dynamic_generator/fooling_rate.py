"""Automatic synthesis quality: a classifier two-sample "fooling rate" and interpretable statistics distances.

AAAI'19 §4.1 (Figure 2) ranks dynamic textures by how often people mistake them for the real clip. We cannot ask
people, so a small 3D-conv classifier, trained from scratch, tells real space-time crops of the observed clip from
crops of synthesised clips; the fooling rate is its error rate on held-out crops (0.5: it cannot tell them apart,
0: it always can). Train and test crops come from disjoint halves in time of every clip (first half: training,
second half: test), so the classifier cannot score by recognising pixels it has already seen.

What makes the number meaningful are its controls (tests/test_fooling_rate.py): a disjoint segment of the same
real texture scores near 0.5, and the same clip with its frames shuffled in time, one frame repeated (frozen), or
per-frame noise with the clip's per-pixel mean and spread, score near 0.
"""

import dataclasses

import keras
import numpy as np
import scipy.signal
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class FoolingRateConfig:
    """Crop size, budget and seeds of the fooling rate; fixed, so that the figure is repeatable.

    The defaults take about 10-20 s per seed on 2 CPU cores for 64x64 clips.
    """
    crop_frames: int = 8
    crop_size: int = 32
    train_steps: int = 300
    batch_size: int = 32  # Half real, half synthesised.
    num_test_crops: int = 256  # Per class.
    learning_rate: float = 1e-3
    seeds: tuple = (0, 1, 2)

    def validate(self):
        for name in ("crop_frames", "crop_size", "train_steps", "batch_size", "num_test_crops"):
            if getattr(self, name) <= 0:
                raise ValueError(f"fooling-rate {name} must be positive, got {getattr(self, name)}")
        if self.batch_size % 2:
            raise ValueError(f"fooling-rate batch_size must be even (half real, half synthesised), got "
                             f"{self.batch_size}")
        if not self.seeds:
            raise ValueError("fooling-rate seeds must name at least one seed")
        return self


DEFAULT_CONFIG = FoolingRateConfig()


# ---- control clips --------------------------------------------------------------------------------------------

def shuffled_in_time(clip, seed=0):
    """The clip with its frames in a random order: every frame is real, the motion is not."""
    return clip[np.random.default_rng(seed).permutation(len(clip))]


def frozen(clip, frame_index=0):
    """One frame of the clip repeated for the clip's length: the appearance is real, there is no motion."""
    return np.repeat(clip[frame_index:frame_index + 1], len(clip), axis=0)


def per_frame_noise(clip, seed=0):
    """Independent Gaussian noise per frame with the clip's per-pixel temporal mean and std, clipped to [-1, 1]."""
    rng = np.random.default_rng(seed)
    noise = clip.mean(axis=0) + clip.std(axis=0) * rng.standard_normal(clip.shape)
    return np.clip(noise, -1.0, 1.0).astype(np.float32)


# ---- the classifier two-sample test ---------------------------------------------------------------------------

def build_classifier(seed):
    """A small spatio-temporal ConvNet: crops [batch, time, height, width, 3] -> logit of "real" [batch, 1].

    Three 3x3x3 convolutions (16, 32, 64 filters; the first keeps time, the others halve it), global average
    pooling (crops are textures: what matters is which local space-time patterns occur, not where), one logit.
    """
    def init(offset):
        return keras.initializers.GlorotUniform(seed=seed * 10 + offset)

    return keras.Sequential([
        keras.layers.Conv3D(16, 3, strides=(1, 2, 2), padding="same", activation="relu", kernel_initializer=init(0)),
        keras.layers.Conv3D(32, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(1)),
        keras.layers.Conv3D(64, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(2)),
        keras.layers.GlobalAveragePooling3D(),
        keras.layers.Dense(1, kernel_initializer=init(3)),
    ], name="fooling_rate_classifier")


class _CropSampler:
    """Uniformly random space-time crops from a list of clips [time, height, width, 3] (each clip equally likely)."""

    def __init__(self, clips, crop_frames, crop_size):
        self.clips = clips
        self.crop_frames = crop_frames
        self.crop_size = crop_size

    def sample(self, rng, count):
        crops = np.empty((count, self.crop_frames, self.crop_size, self.crop_size, 3), np.float32)
        for index, clip_index in enumerate(rng.integers(0, len(self.clips), count)):
            clip = self.clips[clip_index]
            t = rng.integers(0, clip.shape[0] - self.crop_frames + 1)
            y = rng.integers(0, clip.shape[1] - self.crop_size + 1)
            x = rng.integers(0, clip.shape[2] - self.crop_size + 1)
            crops[index] = clip[t:t + self.crop_frames, y:y + self.crop_size, x:x + self.crop_size]
        return crops


def _as_clip_list(clips):
    """One clip [time, h, w, 3] or several ([n, time, h, w, 3] or a list) -> list of float32 arrays."""
    if isinstance(clips, np.ndarray) and clips.ndim == 4:
        clips = [clips]
    clips = [np.asarray(clip, np.float32) for clip in clips]
    for clip in clips:
        if clip.ndim != 4 or clip.shape[-1] != 3:
            raise ValueError(f"clips must be [time, height, width, 3], got shape {clip.shape}")
    return clips


def _halves(clips):
    """(first halves, second halves) in time: training and held-out material."""
    return [clip[:len(clip) // 2] for clip in clips], [clip[len(clip) // 2:] for clip in clips]


def _crop_shape(real, fakes, config):
    """The configured crop, shrunk to fit the shortest half-clip and the smallest frame (recorded in the result)."""
    clips = real + fakes
    shortest_half = min(len(clip) // 2 for clip in clips)
    smallest_side = min(min(clip.shape[1], clip.shape[2]) for clip in clips)
    if shortest_half < 2:
        raise ValueError(f"the fooling rate needs clips of at least 4 frames (two halves of 2), got "
                         f"{min(len(clip) for clip in clips)}")
    return min(config.crop_frames, shortest_half), min(config.crop_size, smallest_side)


def _error_rate_one_seed(real, fakes, crop_frames, crop_size, config, seed):
    """Trains a fresh classifier on first-half crops and returns its error rate on second-half crops."""
    (real_train, real_test), (fake_train, fake_test) = _halves(real), _halves(fakes)
    samplers = {name: _CropSampler(clips, crop_frames, crop_size) for name, clips in
                (("real_train", real_train), ("real_test", real_test), ("fake_train", fake_train),
                 ("fake_test", fake_test))}
    rng = np.random.default_rng(seed)
    classifier = build_classifier(seed)
    optimizer = keras.optimizers.Adam(config.learning_rate)
    half = config.batch_size // 2
    labels = tf.constant(np.concatenate([np.ones(half), np.zeros(half)])[:, None], tf.float32)

    @tf.function
    def train_step(crops):
        with tf.GradientTape() as tape:
            logits = classifier(crops, training=True)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
        variables = classifier.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    for _ in range(config.train_steps):
        crops = np.concatenate([samplers["real_train"].sample(rng, half), samplers["fake_train"].sample(rng, half)])
        train_step(tf.constant(crops))
    # Held-out crops come from their own seeded stream, so they do not depend on the training budget.
    test_rng = np.random.default_rng([seed, 1])
    errors = 0
    for name, is_real in (("real_test", True), ("fake_test", False)):
        crops = samplers[name].sample(test_rng, config.num_test_crops)
        logits = classifier(tf.constant(crops), training=False).numpy()[:, 0]  # Not predict(): no retracing.
        errors += int(np.sum((logits > 0) != is_real))
    return errors / (2 * config.num_test_crops)


def fooling_rate(real, fakes, config=DEFAULT_CONFIG):
    """Error rate of a classifier trained to tell real crops from synthesised ones, mean and spread over seeds.

    Args:
      real: the observed clip, float [time, height, width, 3] in [-1, 1] (or a list / stack of real clips).
      fakes: synthesised clips, [num, time, height, width, 3] or a list of [time, height, width, 3].
      config: a `FoolingRateConfig` (crop, budget, seeds).

    Returns:
      dict with `mean` and `std` (population std over seeds) of the error rate on held-out crops, `per_seed`,
      and the `crop` actually used [frames, height, width].
    """
    config.validate()
    real, fakes = _as_clip_list(real), _as_clip_list(fakes)
    crop_frames, crop_size = _crop_shape(real, fakes, config)
    rates = [_error_rate_one_seed(real, fakes, crop_frames, crop_size, config, seed) for seed in config.seeds]
    return {"mean": float(np.mean(rates)), "std": float(np.std(rates)), "per_seed": rates,
            "crop": [crop_frames, crop_size, crop_size]}


# ---- statistics distances -------------------------------------------------------------------------------------

def _radial_power_spectrum(frames):
    """Radially averaged spatial power spectrum of [frames, h, w, 3] (luminance, per-frame mean removed), [bins]."""
    gray = frames.mean(axis=-1)
    gray = gray - gray.mean(axis=(1, 2), keepdims=True)
    power = np.mean(np.abs(np.fft.fft2(gray)) ** 2, axis=0)
    height, width = power.shape
    fy, fx = np.meshgrid(np.fft.fftfreq(height), np.fft.fftfreq(width), indexing="ij")
    radius = np.sqrt(fy ** 2 + fx ** 2)
    bins = np.minimum((radius / 0.5 * (min(height, width) // 2)).astype(int), min(height, width) // 2)
    totals = np.bincount(bins.ravel(), power.ravel())
    counts = np.bincount(bins.ravel())
    return (totals / np.maximum(counts, 1))[1:min(height, width) // 2]  # Skip DC and the corners past Nyquist.


def _temporal_power_spectrum(clips, segment):
    """Welch temporal power spectrum per pixel, averaged over pixels, channels and clips, without DC, [bins]."""
    spectra = [scipy.signal.welch(clip, axis=0, nperseg=segment, detrend="constant")[1].mean(axis=(1, 2, 3))
               for clip in clips]
    return np.mean(spectra, axis=0)[1:]


def _log_spectrum_distance(real, fake):
    """RMS over frequency bins of log10(P_fake / P_real): 0.3 means a factor 2 off on average."""
    floor = 1e-12
    return float(np.sqrt(np.mean(np.square(np.log10(fake + floor) - np.log10(real + floor)))))


def nearest_frames(observed, frames):
    """(index, MSE) of each frame's nearest observed frame: two arrays [len(frames)] (frames [N, H, W, C])."""
    observed = observed.reshape(len(observed), -1).astype(np.float64)
    frames = frames.reshape(len(frames), -1).astype(np.float64)
    squared = (np.sum(frames ** 2, axis=1)[:, None] + np.sum(observed ** 2, axis=1)[None, :]
               - 2.0 * frames @ observed.T) / observed.shape[1]
    return np.argmin(squared, axis=1), np.maximum(np.min(squared, axis=1), 0.0)


def statistics_distances(real, fakes):
    """Interpretable distances between the observed clip and synthesised clips (all on the [-1, 1] scale).

    Returns:
      dict with
        `mean_image_rmse`: RMS over pixels of the difference of the temporal mean images;
        `std_image_rmse`: the same for the per-pixel temporal standard deviation images (how much each place moves);
        `spatial_spectrum_distance`: RMS log10 ratio of the radially averaged spatial power spectra (frame detail);
        `temporal_spectrum_distance`: RMS log10 ratio of the temporal power spectra (speed of change);
        `motion_energy_ratio`: mean squared frame-to-frame difference, synthesised / real (1: as much motion as
          the real clip, 0: frozen, >1: flicker);
        `nearest_frame_mse`: mean over synthesised frames of the MSE to the closest observed frame (small values
          mean the synthesis copies training frames).
    """
    real_clips, fake_clips = _as_clip_list(real), _as_clip_list(fakes)
    real_frames, fake_frames = np.concatenate(real_clips), np.concatenate(fake_clips)
    real_mean = np.mean([clip.mean(axis=0) for clip in real_clips], axis=0)
    fake_mean = np.mean([clip.mean(axis=0) for clip in fake_clips], axis=0)
    real_std = np.mean([clip.std(axis=0) for clip in real_clips], axis=0)
    fake_std = np.mean([clip.std(axis=0) for clip in fake_clips], axis=0)
    segment = min(16, min(len(clip) for clip in real_clips + fake_clips))

    def motion(clips):
        return np.mean([np.mean(np.square(np.diff(clip, axis=0))) for clip in clips])

    return {
        "mean_image_rmse": float(np.sqrt(np.mean(np.square(fake_mean - real_mean)))),
        "std_image_rmse": float(np.sqrt(np.mean(np.square(fake_std - real_std)))),
        "spatial_spectrum_distance": _log_spectrum_distance(_radial_power_spectrum(real_frames),
                                                            _radial_power_spectrum(fake_frames)),
        "temporal_spectrum_distance": _log_spectrum_distance(_temporal_power_spectrum(real_clips, segment),
                                                             _temporal_power_spectrum(fake_clips, segment)),
        "motion_energy_ratio": float(motion(fake_clips) / max(motion(real_clips), 1e-12)),
        "nearest_frame_mse": float(np.mean(nearest_frames(real_frames, fake_frames)[1])),
    }
