"""The LDS baseline (Doretto et al. 2003): recovers a simulated system, orders, stability, synthesis, run outputs."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from abp_video.baselines.lds import LdsConfig, LinearDynamicalSystem, fit_lds, stabilise
from abp_video.data import sources
from dynamic_generator import configs
from dynamic_generator.experiments import texture

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _simulated_lds(num_frames=600, seed=0):
    """Frames y_t = C x_t + ȳ of a known 3-state LDS (a damped rotation and a slow decay), 8x8x3 pixels."""
    rng = np.random.default_rng(seed)
    angle, radius = 0.4, 0.95
    transition = np.array([[radius * np.cos(angle), -radius * np.sin(angle), 0.0],
                           [radius * np.sin(angle), radius * np.cos(angle), 0.0],
                           [0.0, 0.0, 0.8]])
    noise_matrix = np.diag([0.3, 0.2, 0.25])
    emission = np.linalg.qr(rng.standard_normal((8 * 8 * 3, 3)))[0]
    state, states = np.zeros(3), []
    for _ in range(num_frames + 100):
        state = transition @ state + noise_matrix @ rng.standard_normal(3)
        states.append(state)
    states = np.array(states[100:])
    frames = (states @ emission.T * 0.2 + 0.1).reshape(num_frames, 8, 8, 3)
    return frames, transition, noise_matrix, emission, states


def test_recovers_a_simulated_lds():
    frames, transition, noise_matrix, emission, _ = _simulated_lds()
    lds = fit_lds(frames, LdsConfig(state_dim=3, noise_dim=3))
    # The state basis is only defined up to T = Ĉᵀ C (scaled by the 0.2 of the frames): compare A in one basis.
    basis = lds.emission.T @ emission * 0.2
    expected = basis @ transition @ np.linalg.inv(basis)
    np.testing.assert_allclose(lds.transition, expected, atol=0.06)
    np.testing.assert_allclose(np.sort(np.abs(np.linalg.eigvals(lds.transition))), [0.8, 0.95, 0.95], atol=0.05)
    # The driving noise: B Bᵀ ≈ T Q Tᵀ.
    expected_covariance = basis @ noise_matrix @ noise_matrix.T @ basis.T
    np.testing.assert_allclose(lds.noise_matrix @ lds.noise_matrix.T, expected_covariance,
                               atol=0.15 * np.abs(expected_covariance).max())
    assert lds.explained_variance > 0.999 and not lds.stabilised


def test_automatic_orders_follow_the_explained_variance_and_the_cap():
    frames = sources.load_clips("synthetic:water", 30, 32, seed=1)[0].frames
    lds = fit_lds(frames)
    energy = np.square(lds.singular_values)
    fractions = np.cumsum(energy) / energy.sum()
    cap = int(0.5 * 29)
    # d is the first order reaching 95%, unless that exceeds the cap.
    assert lds.state_dim == min(int(np.argmax(fractions >= 0.95)) + 1, cap)
    assert lds.explained_variance == pytest.approx(fractions[lds.state_dim - 1])
    uncapped = fit_lds(frames, LdsConfig(max_state_fraction=1.0))
    assert uncapped.explained_variance >= 0.95 and fractions[uncapped.state_dim - 2] < 0.95
    assert 1 <= lds.noise_dim <= lds.state_dim
    assert fit_lds(frames, LdsConfig(state_dim=5, noise_dim=2)).noise_matrix.shape == (5, 2)
    with pytest.raises(ValueError, match="larger than the clip supports"):
        fit_lds(frames, LdsConfig(state_dim=30))


def test_synthesis_any_length_in_range_and_repeatable_by_seed():
    frames = sources.load_clips("synthetic:fire", 16, 16, seed=0)[0].frames
    lds = fit_lds(frames)
    clips = lds.synthesize(2, 77, seed=3)
    assert clips.shape == (2, 77, 16, 16, 3) and clips.dtype == np.float32
    assert clips.min() >= -1.0 and clips.max() <= 1.0
    np.testing.assert_array_equal(clips, lds.synthesize(2, 77, seed=3))
    assert not np.allclose(clips, lds.synthesize(2, 77, seed=4))
    assert not np.allclose(clips[0], clips[1])  # Independent samples.
    np.testing.assert_allclose(lds.synthesize(1, 5, seed=0, burn_in=4)[0, 0], lds.synthesize(1, 9, seed=0)[0, 4],
                               atol=1e-6)
    # The reconstruction is the projection of the training clip on d components.
    assert np.mean(np.square(lds.reconstruct() - frames)) < np.mean(np.square(frames - frames.mean(axis=0)))


def test_stabilise_shrinks_only_eigenvalues_outside_the_circle():
    rotation = 1.2 * np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    unstable = np.block([[rotation, np.zeros((2, 1))], [np.zeros((1, 2)), 0.5 * np.ones((1, 1))]])
    stable, changed = stabilise(unstable, 0.99)
    assert changed and np.isrealobj(stable)
    moduli = np.sort(np.abs(np.linalg.eigvals(stable)))
    np.testing.assert_allclose(moduli, [0.5, 0.99, 0.99], atol=1e-9)
    same, changed = stabilise(0.5 * np.eye(3), 0.99)
    assert not changed and np.array_equal(same, 0.5 * np.eye(3))


@pytest.mark.parametrize("texture", ["fire", "water"])
def test_fitted_textures_are_stable_and_keep_moving(texture):
    frames = sources.load_clips(f"synthetic:{texture}", 30, 64, seed=1)[0].frames
    lds = fit_lds(frames)
    assert lds.spectral_radius < 1.0
    clips = lds.synthesize(1, 300, seed=0)
    # 300 frames later the texture neither died out nor saturated: frame-to-frame motion stays comparable.
    early, late = (np.mean(np.square(np.diff(part, axis=0))) for part in (clips[0, :60], clips[0, -60:]))
    assert 0.3 < late / early < 3.0
    # No more pixels at the [-1, 1] bounds than the observed clip has (the fire's black sky is exactly -1).
    observed_saturation = np.mean(np.abs(frames) > 0.999)
    assert np.mean(np.abs(clips[0, -60:]) > 0.999) < observed_saturation + 0.2


def test_shared_clips_fit_stably(shared_video):
    for path in ("dynamicTexture/fire/fire.avi", "dynamicTexture/flashing_light/64ce210.avi",
                 "dynamicTexture/boiling_water/55fa210.avi"):
        frames = sources.load_clips(os.path.join(shared_video, path), 30, 64)[0].frames
        lds = fit_lds(frames)
        assert lds.spectral_radius < 1.0, path
        assert np.mean(np.square(lds.reconstruct() - frames)) < 0.02, path
        assert np.all(np.isfinite(lds.synthesize(2, 120, seed=0)))


def test_save_and_load_round_trip(tmp_path):
    lds = fit_lds(sources.load_clips("synthetic:water", 12, 16, seed=0)[0].frames)
    loaded = LinearDynamicalSystem.load(lds.save(str(tmp_path / "lds.npz")))
    np.testing.assert_array_equal(loaded.synthesize(1, 20, seed=1), lds.synthesize(1, 20, seed=1))
    assert loaded.frame_shape == (16, 16, 3) and loaded.stabilised == lds.stabilised


def test_lds_run_writes_the_same_outputs_as_ours(tmp_path):
    config = dataclasses.replace(configs.TEXTURE_TINY, method="lds")
    path, metrics = texture.train_lds(config, str(tmp_path / "lds"))[0]
    for name in ("config.json", "metrics.json", "ckpt/lds.npz", "samples/observed_vs_synthesised.gif",
                 "samples/observed_vs_synthesised.mp4", "samples/observed_vs_synthesised_strip.png"):
        assert os.path.isfile(os.path.join(path, name)), name
    with open(os.path.join(path, "config.json")) as handle:
        assert json.load(handle)["method"] == "lds"
    assert metrics["method"] == "lds" and 0 < metrics["recon_mse"] < 0.5 and metrics["spectral_radius"] < 1
    assert texture.sample_lds(path, 13, 2, seed=1)[0].endswith("sample_13f_seed1.gif")
    with pytest.raises(ValueError, match="--method must be one of"):
        dataclasses.replace(configs.TEXTURE_TINY, method="mrf_l1").validate()


@pytest.mark.slow
def test_command_line_method_lds(tmp_path):
    workdir = str(tmp_path / "run")

    def main(*args):
        return subprocess.run([sys.executable, os.path.join(REPO, "main.py"), *args], capture_output=True, text=True,
                              timeout=300, cwd=REPO)

    result = main("--experiment", "texture", "--method", "lds", "--preset", "tiny", "--workdir", workdir,
                  "--lds_state_dim", "3")
    assert result.returncode == 0, result.stderr
    assert "LDS with d = 3" in result.stdout and os.path.isfile(os.path.join(workdir, "ckpt", "lds.npz"))
    # absl leaves `--data A B`'s B as a positional word: only texture_eval takes it.
    result = main("--experiment", "texture", "--data", "synthetic:fire", "synthetic:water", "--workdir",
                  str(tmp_path / "two"))
    assert result.returncode == 2 and "texture_eval takes several" in result.stderr
