"""Composed configs (abp_video/configs.py): parts, one flat set of settings, and run configs stored by earlier versions."""

import dataclasses
import json
import os
import shutil

import pytest

import main  # noqa: F401  (importing the command line fills the registry)

from abp_video import configs, registry, runs
from dynamic_generator import configs as dg
from st_generator import configs as st

LEGACY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "legacy_configs")
# config.json files written by the code before configs were composed (flat: one key per field, every field).
# The spatial-temporal presets as they were then: baselines at ABP's l + 1 updates, quick at 20 iterations.
_ST_BEFORE = dict(baseline_updates=0)
_ST_QUICK_BEFORE = dict(_ST_BEFORE, num_iterations=20, learning_rate=0.001, recovery_langevin_steps=100, log_every=5,
                        sample_every=10, checkpoint_every=10)


def _stored_before_masked_statistics(config):
    """A config as read from a run stored before `normalization_statistics` existed: `all`, what those runs did."""
    if isinstance(config, st.MultimodalConfig):
        return dataclasses.replace(config, video=_stored_before_masked_statistics(config.video))
    if isinstance(config, st.STConfig):
        return dataclasses.replace(config, normalization_statistics="all")
    if config.incomplete is not None:
        return dataclasses.replace(config, incomplete=dataclasses.replace(config.incomplete,
                                                                          normalization_statistics="all"))
    return config


LEGACY_RUNS = {name: (config_class, _stored_before_masked_statistics(preset))
               for name, (config_class, preset) in {
    "texture_tiny": (dg.DynamicGeneratorConfig, dg.TEXTURE_TINY),
    # Stored when the recovery presets used the authors' energy weight (before 2026-12-06).
    "recover_paper": (dg.DynamicGeneratorConfig, dataclasses.replace(dg.RECOVER_PAPER, energy_scale="authors")),
    "inpaint_tiny": (dg.DynamicGeneratorConfig, dg.INPAINT_TINY),
    "action_quick": (dg.DynamicGeneratorConfig, dg.ACTION_QUICK),
    "animate_tiny": (dg.DynamicGeneratorConfig, dg.ANIMATE_TINY),
    "st_recover_tiny": (st.STConfig, dataclasses.replace(st.RECOVER_TINY, **_ST_BEFORE)),
    "st_synthesis_model1_quick": (st.STConfig, st.model_variant(dataclasses.replace(
        st.SYNTHESIS_QUICK, latent_channels=100, **_ST_QUICK_BEFORE), 1)),
    "st_multimodal_quick": (st.MultimodalConfig, configs.with_settings(st.MULTIMODAL_QUICK, dict(
        num_speakers=4, num_repetitions=3, train_speakers=0, test_speakers=0, num_iterations=200,
        learning_rate=0.001, recovery_langevin_steps=100, recovery_step_size=0.05, sample_every=50,
        voice="per_speaker")))}.items()}  # Stored before the synthetic voices were shared (2026-12-07).


def test_parts_are_present_only_where_the_experiment_has_them():
    assert dg.TEXTURE_PAPER.incomplete is None and dg.TEXTURE_PAPER.clips is None
    assert dg.RECOVER_PAPER.incomplete == dg.IncompleteConfig() and dg.ANIMATE_PAPER.encoder == dg.EncoderConfig()
    assert "mask_type" in configs.settings(dg.RECOVER_TINY) and "mask_type" not in configs.settings(dg.TEXTURE_TINY)
    recovered = configs.with_settings(dg.RECOVER_TINY, {"mask_type": "block", "sigma": 0.7})
    assert recovered.incomplete.mask_type == "block" and recovered.sigma == 0.7
    with pytest.raises(ValueError, match="no setting 'mask_type'"):
        configs.with_settings(dg.TEXTURE_TINY, {"mask_type": "block"})
    # Every setting is one flag name: the union over the parts has no name twice.
    assert {"mask", "mask_type", "batch_size", "num_held_out", "encoder_filters"} <= set(
        configs.setting_fields(dg.DynamicGeneratorConfig))


def test_multimodal_holds_an_st_config_and_exposes_only_its_settings():
    settings = configs.settings(st.MULTIMODAL_QUICK)
    assert settings["image_size"] == 32 and settings["audio_filters"] == (256, 128, 64, 1)
    assert settings["num_speakers"] == 6 and "model" not in settings and "stage" not in settings
    assert st.MULTIMODAL_QUICK.video.video_shape == (16, 32, 32)
    with pytest.raises(ValueError, match="no setting 'model'"):
        configs.with_settings(st.MULTIMODAL_QUICK, {"model": 2})
    assert st.MULTIMODAL_PAPER.audio.num_audio_samples == 48_000


@pytest.mark.parametrize("name", sorted(registry.EXPERIMENTS))
def test_every_preset_survives_its_stored_form(name):
    experiment = registry.EXPERIMENTS[name]
    for preset in experiment.presets.values():
        stored = json.loads(json.dumps(configs.to_dict(preset)))
        assert configs.from_dict(experiment.config_class, stored) == preset


@pytest.mark.parametrize("name", sorted(LEGACY_RUNS))
def test_config_stored_by_earlier_versions_loads_and_resumes(name, tmp_path):
    config_class, preset = LEGACY_RUNS[name]
    run = runs.RunDirectory(str(tmp_path / name))
    os.makedirs(run.path)
    shutil.copy(os.path.join(LEGACY, f"{name}.json"), run.config_path)
    assert run.read_config(config_class) == preset
    assert run.stored_experiment() == preset.experiment
    assert run.prepare(preset) is True  # The same configuration: it resumes, and is rewritten nested.
    assert run.read_config(config_class) == preset
    with pytest.raises(ValueError, match="another configuration"):
        run.prepare(configs.with_settings(preset, {"seed": preset.seed + 1}))


def test_a_run_resumes_when_its_clip_is_named_by_another_path(tmp_path):
    # The Table 2 command stores `<checkout>/../shared/...`; the same table run from another checkout resumes.
    (tmp_path / "checkout").mkdir()
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "clip.avi").write_bytes(b"clip")
    (tmp_path / "clips" / "other.avi").write_bytes(b"clip")
    run = runs.RunDirectory(str(tmp_path / "run"))
    config = configs.with_settings(dg.TEXTURE_TINY, {"data": str(tmp_path / "checkout" / ".." / "clips" / "clip.avi")})
    assert run.prepare(config) is False
    assert run.prepare(configs.with_settings(config, {"data": str(tmp_path / "clips" / "clip.avi")})) is True
    with pytest.raises(ValueError, match="another configuration \\(data: "):
        run.prepare(configs.with_settings(config, {"data": str(tmp_path / "clips" / "other.avi")}))


def test_unknown_stored_fields_are_an_error(tmp_path):
    stored = dict(configs.to_dict(dg.TEXTURE_TINY), warp_factor=9)
    with pytest.raises(ValueError, match="does not know: \\['warp_factor'\\]"):
        configs.from_dict(dg.DynamicGeneratorConfig, stored)
    with pytest.raises(ValueError, match="does not know"):
        configs.from_dict(dg.DynamicGeneratorConfig, dict(json.load(open(os.path.join(
            LEGACY, "texture_tiny.json"))), warp_factor=9))
    assert dataclasses.is_dataclass(dg.TEXTURE_TINY)


def test_a_generated_mask_type_replaces_a_stored_mask_file():
    with_file = configs.with_settings(dg.RECOVER_TINY, {"mask": "trained/region_type.mat"})
    generated = dg.resolve(with_file, {"mask_type": "missing_frames"}, from_preset=False)
    assert generated.incomplete.mask == "" and generated.incomplete.mask_type == "missing_frames"
    # Both given: the file wins over the type, as in training; neither: the stored mask is kept.
    both = dg.resolve(with_file, {"mask": "new.npy", "mask_type": "block"}, from_preset=False)
    assert both.incomplete.mask == "new.npy"
    assert dg.resolve(with_file, {"seed": 2}, from_preset=False).incomplete.mask == "trained/region_type.mat"
