"""Learning from incomplete videos (AAAI'19 §4.3): the masked energy ignores occluded pixels."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from abp_video.data import sources
from dynamic_generator import configs
from dynamic_generator.train import DynamicGeneratorTrainer, reconstruction_weight

TINY = configs.TEXTURE_TINY


def _observed(config=TINY):
    return sources.load_clips(config.data, config.num_frames, config.image_size, seed=0)[0].frames[None]


def _visible(shape, seed=0):
    """Random occlusion: a block in some frames and scattered pixels, 1 = visible."""
    rng = np.random.default_rng(seed)
    visible = (rng.random(shape[:-1] + (1,)) > 0.3).repeat(3, axis=-1).astype(np.float32)
    visible[:, 2:5, 4:12, 3:9] = 0.0
    return visible


def _scrambled(observed, visible, seed=1):
    """The same clip with every occluded value replaced by noise."""
    noise = np.random.default_rng(seed).uniform(-1, 1, observed.shape).astype(np.float32)
    return np.where(visible > 0, observed, noise)


@pytest.mark.parametrize("energy_scale", ["authors", "sum"])
def test_masked_energy_and_gradients_ignore_occluded_pixels(energy_scale):
    config = dataclasses.replace(TINY, energy_scale=energy_scale)
    observed = _observed(config)
    visible = _visible(observed.shape)
    other = _scrambled(observed, visible)
    trainer = DynamicGeneratorTrainer(config, observed, visible=visible)
    chunk = slice(0, config.chunk_length)
    noise = tf.Variable(trainer.latents.noise[:, chunk])
    state = tf.Variable(trainer.latents.initial_state)

    def energy_and_gradients(clip):
        with tf.GradientTape() as tape:
            frames, _ = trainer.model(noise, state)
            energy = tf.reduce_sum(trainer.reconstruction_energy(tf.constant(clip[:, chunk]), frames,
                                                                 trainer.visible[:, chunk]))
        return energy, tape.gradient(energy, [noise, state] + trainer.model.trainable_variables)

    energy_a, gradients_a = energy_and_gradients(observed)
    energy_b, gradients_b = energy_and_gradients(other)
    np.testing.assert_allclose(energy_a.numpy(), energy_b.numpy(), rtol=1e-6)
    for a, b in zip(gradients_a, gradients_b):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)
    # Without the mask the scrambled pixels do change the energy: the test can fail.
    frames, _ = trainer.model(noise, state)
    unmasked_a = trainer.reconstruction_energy(tf.constant(observed[:, chunk]), frames)
    unmasked_b = trainer.reconstruction_energy(tf.constant(other[:, chunk]), frames)
    assert abs(float(unmasked_a[0]) - float(unmasked_b[0])) > 1e-3 * abs(float(unmasked_a[0]))
    # The masked energy is the weighted sum over visible values, with the documented weight.
    residual = np.square(observed[:, chunk] - frames.numpy()) * visible[:, chunk]
    count = visible[:, chunk].sum()
    weight = 1 / (2 * config.sigma ** 2) / (count if energy_scale == "authors" else 1.0)
    np.testing.assert_allclose(energy_a.numpy(), weight * residual.sum(), rtol=1e-5)


def test_recovery_presets_use_eq6_over_visible_values():
    """AAAI'19 §4.3: Eq. (6) with σ = 0.5 by default; the authors' division by the visible count is the option."""
    for experiment in ("recover", "inpaint"):
        for name, preset in configs.PRESETS[experiment].items():
            assert preset.energy_scale == "sum", (experiment, name)
            if name != "tiny":
                assert preset.sigma == 0.5 and reconstruction_weight(preset, 1, num_visible=10 ** 6) == 2.0


def test_masked_weight_conventions():
    paper = dataclasses.replace(TINY, sigma=0.5, energy_scale="authors")
    assert float(reconstruction_weight(paper, 1, num_visible=1000)) == pytest.approx(2.0 / 1000)
    assert float(reconstruction_weight(dataclasses.replace(paper, energy_scale="sum"), 1, num_visible=1000)) == 2.0
    assert float(reconstruction_weight(paper, 1, num_visible=0)) == 2.0  # No visible value: no division by zero.


def test_training_on_incomplete_clip_does_not_see_occluded_pixels():
    """Two runs whose clips differ only where occluded end with identical latents and weights."""
    config = dataclasses.replace(TINY, num_iterations=2)
    observed = _observed(config)
    visible = _visible(observed.shape)
    runs = []
    for clip in (observed, _scrambled(observed, visible)):
        trainer = DynamicGeneratorTrainer(config, clip, visible=visible)
        for _ in range(2):
            metrics = trainer.train_iteration()
        runs.append((trainer, metrics))
    (a, metrics_a), (b, metrics_b) = runs
    np.testing.assert_allclose(a.latents.noise.numpy(), b.latents.noise.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.latents.initial_state.numpy(), b.latents.initial_state.numpy(), rtol=1e-5, atol=1e-6)
    for wa, wb in zip(a.model.weights, b.model.weights):
        np.testing.assert_allclose(wa.numpy(), wb.numpy(), rtol=1e-5, atol=1e-6)
    assert metrics_a["loss"] == pytest.approx(metrics_b["loss"], rel=1e-5)
    assert metrics_a["recon_mse"] == pytest.approx(metrics_b["recon_mse"], rel=1e-5)
    # An unmasked trainer on the scrambled clip learns something else.
    c = DynamicGeneratorTrainer(config, _scrambled(observed, visible))
    for _ in range(2):
        c.train_iteration()
    assert max(np.abs(wa.numpy() - wc.numpy()).max() for wa, wc in zip(a.model.weights, c.model.weights)) > 1e-4


def test_mask_of_wrong_shape_names_both_shapes():
    observed = _observed()
    with pytest.raises(ValueError, match=r"\(1, 8, 16, 16, 3\).*\(1, 8, 8, 8, 3\)|\(1, 8, 8, 8, 3\).*\(1, 8, 16, 16, 3\)"):
        DynamicGeneratorTrainer(TINY, observed, visible=np.ones((1, 8, 8, 8, 3), np.float32))


# ---- end to end ----------------------------------------------------------------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import scipy.io  # noqa: E402

from abp_video import metrics, runs  # noqa: E402
from abp_video.data import masks, writers  # noqa: E402
from abp_video.configs import with_settings  # noqa: E402
from dynamic_generator.experiments import recover  # noqa: E402
from dynamic_generator.train import RecoveryTrainer  # noqa: E402

RECOVER_TINY = configs.RECOVER_TINY
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("method", configs.RECOVERY_METHODS)
def test_recover_every_method_writes_the_same_outputs(tmp_path, method):
    config = with_settings(RECOVER_TINY, dict(method=method, mask_type="missing_frames"))
    path, result = recover.run_recovery(config, str(tmp_path / method), quiet=True)
    run = runs.RunDirectory(path)
    stored = json.load(open(run.metrics_path))
    assert stored["method"] == method and 0 < stored["recovery_error_255"] < 255 and np.isfinite(stored["recovery_psnr"])
    assert stored["occluded_fraction"] == pytest.approx(0.5)
    for suffix in (".gif", ".mp4", "_strip.png"):
        assert os.path.getsize(os.path.join(run.samples_dir, "occluded_recovered_original" + suffix)) > 0
    if method in ("dg", "stgcn"):  # The two learned methods: checkpoints, TensorBoard, history.
        assert os.path.isfile(os.path.join(run.checkpoint_dir, "checkpoint"))
        assert any(name.startswith("events.out.tfevents") for name in os.listdir(run.tensorboard_dir))
        assert stored["iterations"] == RECOVER_TINY.num_iterations
        assert "recovery_error_255" in run.read_history()[-1]
    if method == "stgcn":
        assert os.path.getsize(os.path.join(run.samples_dir, "synthesised.gif")) > 0
    if method.startswith("mrf_"):
        assert stored["beta"] > 0 and "average_of_samples_recovery_error_255" in stored


def test_recovered_clip_keeps_visible_pixels_and_error_matches(tmp_path):
    config = dataclasses.replace(RECOVER_TINY, num_iterations=1)
    clip, visible = recover.load_incomplete_clip(config)
    trainer = RecoveryTrainer(config, clip.frames, visible)
    trainer.train_iteration()
    recovered = trainer.recover()
    np.testing.assert_array_equal(recovered[visible > 0], clip.frames[visible > 0])
    reconstruction = trainer.reconstruct()[0]
    np.testing.assert_array_equal(recovered[visible == 0], reconstruction[visible == 0])
    expected = np.abs(reconstruction - clip.frames)[visible == 0].mean() * 127.5
    assert metrics.recovery_error(recovered, clip.frames, visible) == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_recover_new_with_a_trained_frozen_model(tmp_path):
    workdir = str(tmp_path / "trained")
    recover.run_recovery(RECOVER_TINY, workdir, quiet=True)
    # The frozen model is the trained one (a trainer resumed the usual way), with fresh latents.
    clip, visible = recover.load_incomplete_clip(RECOVER_TINY)
    trained = RecoveryTrainer(RECOVER_TINY, clip.frames, visible)
    runs.Checkpointer(os.path.join(workdir, "ckpt"), **trained.trackables()).restore_or_initialize()
    other = dataclasses.replace(RECOVER_TINY, data="synthetic:water", seed=5)
    clip, visible = recover.load_incomplete_clip(other)
    frozen = RecoveryTrainer(other, clip.frames, visible)
    untrained = [weight.numpy() for weight in frozen.model.weights]
    frozen.restore_frozen(os.path.join(workdir, "ckpt"))
    for weight, reference, initial in zip(frozen.model.weights, trained.model.weights, untrained):
        np.testing.assert_array_equal(weight.numpy(), reference.numpy())
    assert any(not np.array_equal(initial, weight.numpy()) for initial, weight in zip(untrained, frozen.model.weights))
    assert not np.allclose(frozen.latents.noise.numpy(), trained.latents.noise.numpy())
    stored = runs.RunDirectory(workdir).read_config(configs.DynamicGeneratorConfig)
    new_clip = with_settings(stored, dict(data="synthetic:water", mask_type="block", energy_scale="authors",
                                          langevin_step_size=0.01))
    path, result = recover.recover_new_clip(new_clip, workdir, num_iterations=2)
    assert path.startswith(workdir) and os.path.isfile(os.path.join(path, "metrics.json"))
    assert result["inference_iterations"] == 2 and result["energy_scale"] == "authors"
    assert 0 < result["recovery_error_255"] < 255
    assert os.path.getsize(os.path.join(path, "samples", "occluded_recovered_original.gif")) > 0
    with pytest.raises(ValueError, match="needs a trained"):
        baseline = str(tmp_path / "lhd")
        recover.run_recovery(dataclasses.replace(RECOVER_TINY, method="lhd"), baseline, quiet=True)
        stored = runs.RunDirectory(baseline).read_config(configs.DynamicGeneratorConfig)
        recover.recover_new_clip(with_settings(stored, dict(data="synthetic:water")), baseline)


@pytest.mark.slow
def test_table_with_masks_in_the_authors_format(tmp_path):
    """A recovery dataset laid out like the authors' (data/<clip>/*.mp4, mask/<clip>/*.mat) plus a synthetic clip."""
    config = dataclasses.replace(RECOVER_TINY, num_iterations=1)
    dataset = tmp_path / "recovery_dataset"
    frames = np.random.default_rng(0).integers(0, 255, (10, 16, 16, 3)).astype(np.uint8)
    writers.write_mp4(str(dataset / "data" / "noise" / "clip.mp4"), frames)
    (dataset / "mask" / "noise").mkdir(parents=True)
    for mask_type, file in (("region", "region_type.mat"), ("missing_frames", "missing_frame_type.mat")):
        occluded = 1 - masks.generate_mask(mask_type, 10, 30, seed=1).astype(np.uint8)
        scipy.io.savemat(dataset / "mask" / "noise" / file, {"masks": np.moveaxis(occluded, 0, 2)})
    workdir = tmp_path / "table"
    rows = recover.recovery_table(config, str(workdir), ("dg", "stgcn", "mrf_l2", "linear"), str(dataset), ("fire",),
                                  stgcn_iterations=1)
    assert [(row["clip"], row["mask"]) for row in rows] == [
        ("noise", "region"), ("noise", "missing_frames"), ("synthetic_fire", "region"),
        ("synthetic_fire", "missing_frames")]
    stored = json.load(open(workdir / "table.json"))
    assert stored["rows"][0]["mask_file"].endswith("region_type.mat")
    for row in stored["rows"]:
        assert set(row["errors"]) == {"dg", "stgcn", "mrf_l2", "mrf_l2_avg", "linear", "zeros"}
        assert all(0 < value < 255 for value in row["errors"].values())
    # A second call reads the finished runs back instead of running them again.
    metrics_file = workdir / "noise_region" / "dg" / "metrics.json"
    before = os.path.getmtime(metrics_file)
    again = recover.recovery_table(config, str(workdir), ("dg", "stgcn", "mrf_l2", "linear"), str(dataset), ("fire",),
                                   stgcn_iterations=1)
    assert os.path.getmtime(metrics_file) == before and again == rows
    assert json.load(open(workdir / "noise_region" / "stgcn" / "metrics.json"))["iterations"] == 1
    # One row with the dynamic generator trained further: the baselines' runs are read back (their result does
    # not depend on the learning settings), the dg run resumes to the new count.
    baseline_file = workdir / "noise_region" / "linear" / "metrics.json"
    before_baseline = os.path.getmtime(baseline_file)
    longer = dataclasses.replace(config, num_iterations=2)
    [row] = recover.recovery_table(longer, str(workdir), ("dg", "linear"), str(dataset), ("fire",),
                                   cases=["noise_region"])
    assert (row["clip"], row["mask"]) == ("noise", "region")
    assert os.path.getmtime(baseline_file) == before_baseline
    assert json.load(open(metrics_file))["iterations"] == 2
    assert row["errors"]["linear"] == rows[0]["errors"]["linear"]
    with pytest.raises(ValueError, match="noise_region"):
        recover.recovery_table(longer, str(workdir), ("linear",), str(dataset), ("fire",), cases=["fountain_region"])


def _main(*args):
    return subprocess.run([sys.executable, os.path.join(REPO, "main.py"), *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


@pytest.mark.slow
def test_command_line_recover_inpaint_and_mask_errors(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros((3, 16, 16), np.uint8))
    result = _main("--experiment", "recover", "--preset", "tiny", "--mask", str(tmp_path / "short.npy"),
                   "--workdir", str(tmp_path / "bad"))
    assert result.returncode == 2 and "(3, 16, 16, 1)" in result.stderr and "(8, 16, 16, 3)" in result.stderr
    assert not (tmp_path / "bad").exists()
    result = _main("--experiment", "inpaint", "--preset", "tiny", "--method", "lhd", "--workdir", str(tmp_path / "in"))
    assert result.returncode == 0, result.stderr
    assert os.path.isfile(tmp_path / "in" / "samples" / "original_masked_inpainted.gif")
    result = _main("--experiment", "recover", "--preset", "tiny", "--method", "magic")
    assert result.returncode == 2 and "--method must be one of" in result.stderr


def test_fountain_with_the_authors_masks(shared_video):
    """The shared clip and masks: every baseline beats leaving the holes at zero (16x16, 8 frames)."""
    folder = os.path.join(shared_video, "recovery_dataset")
    for mask in ("region_type.mat", "missing_frame_type.mat"):
        config = with_settings(RECOVER_TINY, dict(data=os.path.join(folder, "data", "fountain", "6486110.avi"),
                                                  mask=os.path.join(folder, "mask", "fountain", mask)))
        clip, visible = recover.load_incomplete_clip(config)
        zeros = metrics.recovery_error(visible * clip.frames, clip.frames, visible)
        for method in ("lhd", "linear", "mrf_l1"):
            recovered = recover._baseline(method, visible * clip.frames, visible, seed=0)[0]
            assert metrics.recovery_error(recovered, clip.frames, visible) < 0.6 * zeros, (mask, method)


def test_every_error_key_names_its_scale_and_old_runs_still_read():
    from abp_video import metrics

    original = np.zeros([2, 4, 4, 3], np.float32)
    recovered = original + 0.2
    visible = np.ones_like(original)
    visible[1] = 0.0
    new = metrics.recovery_metrics(recovered, original, visible, prefix="lhd_")
    assert new["lhd_recovery_error_255"] == pytest.approx(0.2 * 127.5)
    assert new["lhd_recovery_error_unit"] == pytest.approx(0.2)
    assert not [key for key in new if key.endswith("recovery_error")]
    for scale, expected in (("255", 25.5), ("unit", 0.2)):
        assert metrics.stored_error(new, "lhd_", scale) == pytest.approx(expected)
        # A dynamic generator run stored before: the bare key on [0, 255].
        assert metrics.stored_error({"recovery_error": 25.5}, "", scale) == pytest.approx(expected)
        # A spatial-temporal run stored before: the bare key on [-1, 1], the [0, 255] one beside it.
        assert metrics.stored_error({"m50_recovery_error": 0.2, "m50_recovery_error_255": 25.5}, "m50_",
                                    scale) == pytest.approx(expected)
    assert metrics.stored_error({}, "x_") is None
    with pytest.raises(ValueError, match="scale must be one of"):
        metrics.stored_error(new, "lhd_", "percent")
