"""One runner per WACV'19 experiment of the spatial-temporal generator: synthesis, interpolation, recovery, tables."""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from common import cca, metrics, recovery_baselines, runs
from common.loop import run_training
from data import masks, sources, talking_mouth, writers
from st_generator import baselines, configs, export
from st_generator.multimodal import MultimodalTrainer
from st_generator.train import HIDDEN

SHARED_VIDEO = os.path.join(os.path.dirname(runs.DEFAULT_ROOT), os.pardir, "shared", "data", "trainingVideo")
# The shared clips with enough frames for several 32-frame segments (250-500 frames each), and a synthetic one.
TABLE_CLIPS = (("fire", os.path.join("dynamicTexture", "fire", "fire.avi")),
               ("flashing_light", os.path.join("dynamicTexture", "flashing_light", "64ce210.avi")),
               ("boiling_water", os.path.join("dynamicTexture", "boiling_water", "55fa210.avi")),
               ("fountain", os.path.join("recovery_dataset", "data", "fountain", "6486110.avi")))
TABLE_SYNTHETIC = (("synthetic_fire", "synthetic:fire"),)
# Column headers of the recovery table, per method.
METHOD_LABELS = {"abp": "ABP", "li_abp": "LI-ABP", "vae": "VAE", "ws": "WS", "gan": "GAN"}


def method_tag(config):
    """The method's part of a run directory name: `abp` / `li` (the names ABP and LI-ABP runs always had), or the
    baseline's name."""
    return config.method if config.method in configs.BASELINES else config.init


def default_workdir(config, root=runs.DEFAULT_ROOT):
    """`checkpoints/<experiment>/<data>_<what>_<preset>`."""
    if config.experiment == "st_synthesis":
        what = f"model{config.model}"
    elif config.experiment == "st_interpolate":
        what = f"{config.mask_type}_{config.init}"
    else:
        what = f"{config.stage}_{method_tag(config)}" + (f"_{config.mask_type}" if config.stage == "train" else "")
    return os.path.join(root, config.experiment, f"{sources.data_name(config.data)}_{what}_{config.preset}")


def load_segments(config):
    """The segments of the one clip `--data` names: float32 [segments, frames, size, size, 3] in [-1, 1]."""
    loaded = sources.load_segments(config.data, config.num_frames, config.image_size, config.max_segments,
                                   config.seed)
    if len(loaded) != 1:
        raise ValueError(f"--data {config.data} holds {len(loaded)} clips; give one video file, frame folder or "
                         f"synthetic:NAME")
    return loaded[0]


def split_segments(segments, test_fraction):
    """4:1 train/test split (§4.2): the last fifth of the segments (at least one) is the test set."""
    if len(segments) < 2:
        raise ValueError(f"the clip gives {len(segments)} segment(s); the train/test split needs at least 2 "
                         f"(a longer clip, or a smaller --num_frames)")
    num_test = min(len(segments) - 1, max(1, int(round(test_fraction * len(segments)))))
    return segments[:-num_test], segments[-num_test:]


def segment_masks(mask_type, shape, seed):
    """One generated `visible` mask per segment (own random place per segment), [segments, frames, size, size, 3]."""
    return np.stack([masks.generate_mask(mask_type, shape[1], shape[2], seed=1000 * seed + index)
                     for index in range(shape[0])])


def heat_diffusion(segments, visible):
    """The LHD baseline (WACV'19 §4.2) on every segment separately."""
    return np.stack([recovery_baselines.laplacian_heat_diffusion(segment * mask, mask)
                     for segment, mask in zip(segments, visible)])


def _write_recovery(run, name, original, visible, recovered, lhd=None, max_segments=2):
    """occluded | recovered | (LHD |) original, the first segments one after another: GIF, MP4 and strip."""
    def flat(videos):
        return np.concatenate(list(videos[:max_segments]), axis=0)

    shown = np.where(visible > 0, original, HIDDEN)
    panels = [flat(shown), flat(recovered)] + ([] if lhd is None else [flat(lhd)]) + [flat(original)]
    video = writers.side_by_side(panels)
    every = max(1, len(panels[0]) // 10)
    return [writers.write_gif(run.sample_path(f"{name}.gif"), video),
            writers.write_mp4(run.sample_path(f"{name}.mp4"), video),
            writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(panels, every=every))]


def _train(config, run, observed, visible=None, description=""):
    run.prepare(config)
    trainer = baselines.build_trainer(config, observed, visible)
    loop = run_training(trainer, run, description)
    return trainer, loop


def restore_trainer(workdir):
    """The trainer of a finished or interrupted st_synthesis / st_interpolate / st_recover run, at its latest
    checkpoint (weights, chains, RNG); its segments are not reloaded (zeros of the trained shape stand in)."""
    run = runs.RunDirectory(workdir)
    config = runs.config_from_dict(configs.STConfig, run.read_config_dict())
    latest = tf.train.latest_checkpoint(run.checkpoint_dir)
    if latest is None:
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    shapes = tf.train.load_checkpoint(latest).get_variable_to_shape_map()
    num_segments = shapes["latents/.ATTRIBUTES/VARIABLE_VALUE"][0]
    trainer = baselines.build_trainer(config, np.zeros([num_segments, *config.video_shape, 3], np.float32))
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    return run, trainer


def _errors(prefix, recovered, original, visible):
    result = metrics.recovery_metrics(recovered, original, visible)
    return {f"{prefix}{key}": value for key, value in result.items()}


# ---- st_synthesis (§4.1) -------------------------------------------------------------------------------------------

def run_synthesis(config, workdir=None):
    """Learns Model-1/2 from one clip or Model-3 from many segments, and synthesises (Figure 1).

    Model-1 synthesises from a latent grid larger in space and time, Model-2 from a longer one (`synthesis_grid`).
    Writes `samples/observed_reconstructed.{gif,mp4}` and strip, `samples/synthesised.{gif,mp4}` and strip, and
    `metrics.json`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, segments = load_segments(config)
    run = runs.RunDirectory(workdir or default_workdir(config))
    trainer, loop = _train(config, run, segments, description=f"st_synthesis model {config.model} {clip.name}")
    reconstruction = trainer.reconstruct()
    samples = trainer.synthesize(config.num_output_samples, seed=config.seed, grid=config.synthesis_grid or None)
    shown = min(2, len(segments))
    observed, rebuilt = (np.concatenate(list(video[:shown])) for video in (segments, reconstruction))
    paths = [writers.write_gif(run.sample_path("observed_reconstructed.gif"), writers.side_by_side([observed, rebuilt])),
             writers.write_png(run.sample_path("observed_reconstructed_strip.png"),
                               writers.frame_strip([observed, rebuilt], every=max(1, len(observed) // 10)))]
    video = writers.side_by_side(list(samples))
    paths += [writers.write_gif(run.sample_path("synthesised.gif"), video),
              writers.write_mp4(run.sample_path("synthesised.mp4"), video),
              writers.write_png(run.sample_path("synthesised_strip.png"),
                                writers.frame_strip(list(samples), every=max(1, samples.shape[1] // 10)))]
    result = dict(loop, clip=clip.name, data=clip.source, model=config.model, segments=len(segments),
                  recon_mse=float(np.mean(np.square(reconstruction - segments))),
                  synthesised_shape=list(samples.shape[1:4]))
    run.write_metrics(result)
    print(f"{clip.name}, Model-{config.model}: reconstruction MSE {result['recon_mse']:.4f} over {len(segments)} "
          f"segment(s) after {result['iterations']} iterations; synthesised {samples.shape[1]} frames of "
          f"{samples.shape[2]}x{samples.shape[3]}; wrote {', '.join(paths)}")
    return run.path, result


# ---- st_interpolate (§4.2, Table 1) --------------------------------------------------------------------------------

def run_interpolation(config, workdir=None, quiet=False):
    """Table 1: Model-2 learns one clip with blocked frames (training-time masked energy) and fills them in.

    `mask_type` is `middle_frames` (8 consecutive frames in the middle) or `frame_blocks` (3 blocks of 3 frames at
    random places). The error is the mean absolute difference over occluded pixels ([0, 255]); LHD beside it.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, segments = load_segments(dataclasses.replace(config, max_segments=1))
    visible = segment_masks(config.mask_type, segments.shape, config.seed)
    run = runs.RunDirectory(workdir or default_workdir(config))
    trainer, loop = _train(config, run, segments, visible, f"st_interpolate {clip.name} ({config.mask_type})")
    recovered, lhd = trainer.recover(), heat_diffusion(segments, visible)
    result = dict(loop, **_errors("", recovered, segments, visible), **_errors("lhd_", lhd, segments, visible),
                  clip=clip.name, data=clip.source, mask=config.mask_type, init=config.init)
    paths = _write_recovery(run, "occluded_recovered_lhd_original", segments, visible, recovered, lhd)
    run.write_metrics(result)
    if not quiet:
        print(f"{clip.name} ({config.mask_type}), {config.init}: error {result['recovery_error']:.2f} on [0, 255] "
              f"over occluded pixels (LHD {result['lhd_recovery_error']:.2f}); wrote {', '.join(paths)}")
    return run.path, result


# ---- st_recover (§4.2, Tables 2-3) ---------------------------------------------------------------------------------

def run_recovery(config, workdir=None, quiet=False):
    """Model-3 recovery by `method` (ABP, LI-ABP or a baseline of st_generator/baselines.py), occlusions at test
    time or in the training data (`stage`). Every method sees the same segments and masks (seeded).

    `test`: learns from the complete training segments (4/5), then recovers the test segments under every mask of
    `test_masks` with the frozen model (200 Langevin steps of δ = 0.05 on the visible pixels). `train`: learns from
    the training segments occluded by `mask_type` (masked energy in inference and learning) and recovers them.
    LHD runs on the same segments and masks. Metrics per mask: `<mask>_recovery_error` (and `_psnr`), and
    `<mask>_lhd_recovery_error`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, segments = load_segments(config)
    train_segments, test_segments = split_segments(segments, config.test_fraction)
    run = runs.RunDirectory(workdir or default_workdir(config))
    result = dict(clip=clip.name, data=clip.source, stage=config.stage, init=config.init, method=config.method,
                  train_segments=len(train_segments), test_segments=len(test_segments))
    paths = []
    if config.stage == "test":
        trainer, loop = _train(config, run, train_segments,
                               description=f"st_recover {clip.name} (test, {config.method})")
        cases = [(mask, test_segments, segment_masks(mask, test_segments.shape, config.seed + 1))
                 for mask in config.test_mask_types]
        for mask, original, visible in cases:
            recovered = trainer.recover_frozen(original, visible, seed=config.seed)
            lhd = heat_diffusion(original, visible)
            result.update(_errors(f"{mask}_", recovered, original, visible),
                          **_errors(f"{mask}_lhd_", lhd, original, visible))
            paths += _write_recovery(run, f"{mask}_occluded_recovered_lhd_original", original, visible, recovered,
                                     lhd)
        result["recon_mse_train"] = float(np.mean(np.square(trainer.reconstruct() - train_segments)))
    else:
        visible = segment_masks(config.mask_type, train_segments.shape, config.seed)
        trainer, loop = _train(config, run, train_segments, visible,
                               f"st_recover {clip.name} (train, {config.method}, {config.mask_type})")
        recovered, lhd = trainer.recover(), heat_diffusion(train_segments, visible)
        result.update(_errors(f"{config.mask_type}_", recovered, train_segments, visible),
                      **_errors(f"{config.mask_type}_lhd_", lhd, train_segments, visible))
        paths += _write_recovery(run, f"{config.mask_type}_occluded_recovered_lhd_original", train_segments, visible,
                                 recovered, lhd)
    result.update(loop)
    # The budget each method got: ABP spends l Langevin passes and one update per iteration, the baselines
    # `updates_per_iteration` updates.
    result["generator_updates_per_iteration"] = (
        config.updates_per_iteration if config.method in configs.BASELINES else 1)
    result["langevin_steps_per_iteration"] = {"abp": config.num_langevin_steps,
                                              "li_abp": config.li_langevin_steps}.get(config.method, 0)
    run.write_metrics(result)
    if not quiet:
        masks_done = config.test_mask_types if config.stage == "test" else (config.mask_type,)
        summary = ", ".join(f"{mask} {result[f'{mask}_recovery_error']:.2f} (LHD "
                            f"{result[f'{mask}_lhd_recovery_error']:.2f})" for mask in masks_done)
        print(f"{clip.name}, {config.stage} stage, {config.method}: recovery error on [0, 255] {summary}; wrote "
              f"{', '.join(paths)}")
    return run.path, result


# ---- tables ----------------------------------------------------------------------------------------------------

def table_clips(shared=SHARED_VIDEO):
    """(name, --data) of the shared clips that exist, then the synthetic clip."""
    found = [(name, os.path.join(shared, path)) for name, path in TABLE_CLIPS
             if os.path.isfile(os.path.join(shared, path))]
    if len(found) < len(TABLE_CLIPS):
        print(f"note: {len(TABLE_CLIPS) - len(found)} shared clip(s) not found under {shared}")
    return found + list(TABLE_SYNTHETIC)


def selected_clips(names):
    """The table clips named in `names` (comma-separated, e.g. `fountain,synthetic_fire`; None or empty = all)."""
    clips = table_clips()
    if not names:
        return clips
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {name: data for name, data in clips}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"--data {names}: in --mode table, --data picks table clips by name; {unknown} is not one "
                         f"of {sorted(known)}")
    return [(name, known[name]) for name in wanted]


def _finished(run, config):
    """Metrics of a finished run of exactly this config in `run`, or None."""
    if not run.exists() or not run.read_metrics():
        return None
    stored = runs.config_from_dict(configs.STConfig, run.read_config_dict())
    return run.read_metrics() if stored == config else None


def _cell(value):
    return "–" if value is None else f"{value:.2f}"


def _write_table(workdir, title, header, lines, payload):
    table = "\n".join([f"| {' | '.join(header)} |", "|" + " --- |" * len(header)] +
                      [f"| {' | '.join(line)} |" for line in lines])
    runs.write_json_atomic(os.path.join(workdir, "table.json"), dict(payload, title=title, markdown=table))
    with open(os.path.join(workdir, "table.md"), "w") as handle:
        handle.write(f"{title}\n\n{table}\n")
    print(f"\n{title}\n\n{table}\n\nwrote {os.path.join(workdir, 'table.json')}")
    return table


def selected_methods(names):
    """The recovery-table methods named in `names` (a list or comma-separated; None or empty = all of METHODS)."""
    if not names:
        return configs.METHODS
    wanted = [name.strip() for name in (names.split(",") if isinstance(names, str) else names) if name.strip()]
    unknown = [name for name in wanted if name not in configs.METHODS]
    if unknown or not wanted:
        raise ValueError(f"--methods {','.join(wanted)}: unknown methods {unknown}; choose from {configs.METHODS}")
    return tuple(dict.fromkeys(wanted))


def recovery_table(config, workdir=None, clips=None, methods=configs.METHODS):
    """Tables 2-3 in one command: for every clip, every method of `methods` side by side with LHD, per stage and mask.

    Runs (or reads back / resumes) one `test`-stage run per (clip, method) and one `train`-stage run per
    (clip, method, training mask) under `workdir` (`<clip>/<stage>_<abp|li|vae|ws|gan>[_<mask>]`, the names ABP and
    LI-ABP runs always had), all on the same segments and masks; prints a Markdown table and writes `table.json` and
    `table.md`.

    Returns:
      list of rows {clip, stage, mask, <method>..., lhd, seconds_per_iteration {method: seconds}}.
    """
    workdir = workdir or os.path.join(runs.DEFAULT_ROOT, "st_recover", f"table_{config.preset}")
    os.makedirs(workdir, exist_ok=True)
    clips = clips if clips is not None else table_clips()
    train_masks = ("m50", "p20", "b25")
    rows = []
    for name, data in clips:
        for stage, stage_masks in (("test", (None,)), ("train", train_masks)):
            for mask in stage_masks:
                results = {}
                for method in methods:
                    case = dataclasses.replace(config, data=data, stage=stage, method=method,
                                               init="li" if method == "li_abp" else "abp",
                                               mask_type=mask or config.mask_type).validate()
                    if method not in configs.BASELINES:  # The baselines' budget flags leave ABP's runs as they are.
                        case = dataclasses.replace(case, baseline_updates=configs.STConfig.baseline_updates,
                                                   gan_learning_rate=configs.STConfig.gan_learning_rate)
                    run = runs.RunDirectory(os.path.join(
                        workdir, name, f"{stage}_{method_tag(case)}" + (f"_{mask}" if mask else "")))
                    results[method] = _finished(run, case) or run_recovery(case, run.path)[1]
                first = results[methods[0]]
                for shown in (config.test_mask_types if stage == "test" else (mask,)):
                    rows.append(dict(clip=name, stage=stage, mask=shown,
                                     **{method: results[method][f"{shown}_recovery_error"] for method in methods},
                                     lhd=first[f"{shown}_lhd_recovery_error"],
                                     seconds_per_iteration={method: results[method]["seconds_per_iteration"]
                                                            for method in methods}))
    title = (f"Recovery error on [0, 255] over occluded pixels, Model-3 ({config.preset} preset: "
             f"{config.image_size}x{config.image_size}, segments of {config.num_frames} frames, "
             f"{config.num_iterations} iterations; VAE / WS / GAN: {config.updates_per_iteration} generator updates "
             f"per iteration; test stage: frozen model, {config.recovery_langevin_steps} Langevin steps (VAE / WS: "
             f"imputation passes) on held-out segments; train stage: occluded training segments)")
    lines = [[row["clip"], row["stage"], row["mask"], *(_cell(row[method]) for method in methods), _cell(row["lhd"])]
             for row in rows]
    _write_table(workdir, title, ["clip", "stage", "mask", *(METHOD_LABELS[method] for method in methods), "LHD"],
                 lines, dict(config=runs.config_to_dict(config), methods=list(methods), rows=rows))
    return rows


def interpolation_table(config, workdir=None, clips=None):
    """Table 1 in one command: Model-2 on each clip, both frame masks, ABP and LI-ABP beside LHD.

    Returns:
      list of rows {clip, mask, abp, li, lhd}.
    """
    workdir = workdir or os.path.join(runs.DEFAULT_ROOT, "st_interpolate", f"table_{config.preset}")
    os.makedirs(workdir, exist_ok=True)
    clips = clips if clips is not None else table_clips()
    rows = []
    for name, data in clips:
        for mask in ("middle_frames", "frame_blocks"):
            results = {}
            for init in configs.INITS:
                case = dataclasses.replace(config, data=data, mask_type=mask, init=init).validate()
                run = runs.RunDirectory(os.path.join(workdir, name, f"{mask}_{init}"))
                results[init] = _finished(run, case) or run_interpolation(case, run.path)[1]
            rows.append(dict(clip=name, mask=mask, abp=results["abp"]["recovery_error"],
                             li=results["li"]["recovery_error"], lhd=results["abp"]["lhd_recovery_error"]))
    title = (f"Interpolation error on [0, 255] over occluded frames, Model-2 ({config.preset} preset: "
             f"{config.image_size}x{config.image_size}, {config.num_frames} frames, {config.num_iterations} "
             f"iterations; middle_frames = 8 consecutive frames in the middle, frame_blocks = 3 blocks of 3 frames)")
    lines = [[row["clip"], row["mask"], _cell(row["abp"]), _cell(row["li"]), _cell(row["lhd"])] for row in rows]
    _write_table(workdir, title, ["clip", "mask", "ABP", "LI-ABP", "LHD"], lines,
                 dict(config=runs.config_to_dict(config), rows=rows))
    return rows


# ---- st_multimodal (§3.5, §4.2, Table 4) ---------------------------------------------------------------------------

def split_repetitions(dataset, test_repetitions):
    """Held-out repetitions: the last `test_repetitions` repetitions of every speaker and phrase are the test set.

    Returns:
      (train mask, test mask), bool [utterances].
    """
    test = dataset.repetitions >= dataset.repetitions.max() + 1 - test_repetitions
    if not test.any() or len(np.unique(dataset.repetitions[~test])) < 2:
        raise ValueError(f"--data {dataset.source}: repetitions {sorted(set(dataset.repetitions.tolist()))} with "
                         f"--test_repetitions {test_repetitions} leave no test utterance or fewer than 2 training "
                         f"repetitions; lower --test_repetitions")
    return ~test, test


def _per_utterance_mse(predicted, observed):
    return np.mean(np.square(predicted - observed).reshape(len(observed), -1), axis=1)


def _loudness(audio, num_frames):
    """Root mean square of the audio over each video frame's span, [utterances, frames]: a phase-blind view."""
    usable = audio.shape[1] // num_frames * num_frames
    return np.sqrt(np.mean(np.square(audio[:, :usable]).reshape(len(audio), num_frames, -1), axis=2))


def _write_multimodal_samples(run, config, videos, audio, from_audio, cca_from_audio, from_video, cca_from_video):
    """observed video | ours from audio | CCA from audio (one row per test utterance), and the waveforms."""
    shown = slice(0, config.num_output_samples)
    rows = [[observed, ours, cca] for observed, ours, cca in zip(videos[shown], from_audio[shown],
                                                                  cca_from_audio[shown])]
    grid = writers.grid(rows)
    every = max(1, config.num_frames // 10)
    strip_rows = [clip for row in rows for clip in row]
    colours = [(0, 0, 0), (220, 30, 30), (40, 90, 220)]
    waves = writers.waveform_plot([[real, ours, cca] for real, ours, cca in zip(
        audio[shown], from_video[shown], cca_from_video[shown])], colours)
    return [writers.write_gif(run.sample_path("video_observed_from_audio_cca.gif"), grid),
            writers.write_png(run.sample_path("video_observed_from_audio_cca_strip.png"),
                              writers.frame_strip(strip_rows, every=every)),
            writers.write_png(run.sample_path("audio_real_from_video_cca.png"), waves)]


def run_multimodal(config, workdir=None):
    """Table 4: learns the shared audio-video representation by ABP and predicts each modality from the other.

    Trains the video and audio generators on one latent Z per training utterance (joint energy), then, frozen,
    infers Z from the video of each held-out utterance and generates its audio (V→A), and from its audio generates
    its video (A→V). CCA (PCA, then regularised CCA; settings chosen by cross-validation over the training
    repetitions) predicts the same. The error is the mean squared difference per value on the [-1, 1] scale, per
    test utterance, averaged per phrase. Writes `table.json` / `table.md` (and prints the table), `metrics.json`,
    `samples/video_observed_from_audio_cca.gif` and strip, and `samples/audio_real_from_video_cca.png`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    dataset = talking_mouth.load(config.data, config.num_frames, config.image_size, config.num_samples,
                                 config.num_speakers, config.num_phrases, config.num_repetitions, config.seed)
    train, test = split_repetitions(dataset, config.test_repetitions)
    run = runs.RunDirectory(workdir or os.path.join(runs.DEFAULT_ROOT, config.experiment,
                                                    f"{sources.data_name(config.data)}_{config.preset}"))
    run.prepare(config)
    trainer = MultimodalTrainer(config, dataset.videos[train], dataset.audio[train])
    loop = run_training(trainer, run, f"st_multimodal {sources.data_name(config.data)}")
    videos, audio = dataset.videos[test], dataset.audio[test]
    from_video, from_audio = trainer.predict(videos, audio, seed=config.seed)

    # CCA on the raw signals (flattened), fitted on the training pairs, one setting per direction.
    flat_videos = dataset.videos.reshape(len(dataset.videos), -1)
    folds = dataset.repetitions[train]
    cca_v2a, chosen_v2a = cca.select_and_fit(flat_videos[train], dataset.audio[train], folds, "x_to_y")
    cca_a2v, chosen_a2v = cca.select_and_fit(flat_videos[train], dataset.audio[train], folds, "y_to_x")
    cca_from_video = np.clip(cca_v2a.predict_y(flat_videos[test]), -1, 1).astype(np.float32)
    cca_from_audio = np.clip(cca_a2v.predict_x(audio), -1, 1).reshape(videos.shape).astype(np.float32)

    errors = {"v2a_ours": _per_utterance_mse(from_video, audio), "v2a_cca": _per_utterance_mse(cca_from_video, audio),
              "a2v_ours": _per_utterance_mse(from_audio, videos), "a2v_cca": _per_utterance_mse(cca_from_audio, videos),
              # The training mean, for scale: what predicting nothing from the other modality scores.
              "v2a_mean": _per_utterance_mse(np.broadcast_to(dataset.audio[train].mean(0), audio.shape), audio),
              "a2v_mean": _per_utterance_mse(np.broadcast_to(dataset.videos[train].mean(0), videos.shape), videos)}
    # Waveform MSE punishes a right sound at a slightly wrong phase twice over; the per-frame loudness does not.
    loudness = _loudness(audio, config.num_frames)
    errors.update({f"v2a_loudness_{method}": _per_utterance_mse(_loudness(predicted, config.num_frames), loudness)
                   for method, predicted in (("ours", from_video), ("cca", cca_from_video),
                                             ("mean", np.broadcast_to(dataset.audio[train].mean(0), audio.shape)))})
    phrases = dataset.phrases[test]
    rows = []
    for index, name in enumerate(dataset.phrase_names):
        chosen = phrases == index
        if chosen.any():
            rows.append(dict(phrase=name, utterances=int(chosen.sum()),
                             **{key: float(np.mean(value[chosen])) for key, value in errors.items()}))
    rows.append(dict(phrase="all", utterances=int(test.sum()),
                     **{key: float(np.mean(value)) for key, value in errors.items()}))
    reconstructed_videos, reconstructed_audio = trainer.reconstruct()
    result = dict(loop, data=dataset.source, train_utterances=int(train.sum()), test_utterances=int(test.sum()),
                  audio_sigma=config.resolved_audio_sigma,
                  recon_mse=float(np.mean(np.square(reconstructed_videos - dataset.videos[train]))),
                  audio_recon_mse=float(np.mean(np.square(reconstructed_audio - dataset.audio[train]))),
                  **{f"cca_v2a_{key}": value for key, value in chosen_v2a.items()},
                  **{f"cca_a2v_{key}": value for key, value in chosen_a2v.items()},
                  **{f"{row['phrase']}_{key}": row[key] for row in rows for key in errors})
    writer = tf.summary.create_file_writer(run.tensorboard_dir)
    with writer.as_default(step=loop["iterations"]):
        for key in errors:
            tf.summary.scalar(f"eval/{key}_mse", result[f"all_{key}"])
    writer.flush()
    run.write_metrics(result)
    paths = _write_multimodal_samples(run, config, videos, audio, from_audio, cca_from_audio, from_video,
                                      cca_from_video)
    title = (f"Prediction error (MSE per value on [-1, 1]) on held-out repetitions, {dataset.source} "
             f"({config.preset} preset: {config.image_size}x{config.image_size}, {config.num_frames} frames, "
             f"{config.num_samples} audio samples, {int(train.sum())} training / {int(test.sum())} test utterances, "
             f"{loop['iterations']} iterations; test-time Langevin {config.recovery_langevin_steps} steps)")
    lines = [[row["phrase"], *(f"{row[key]:.4f}" for key in ("v2a_ours", "v2a_cca", "a2v_ours", "a2v_cca"))]
             for row in rows]
    _write_table(run.path, title, ["phrase", "V→A ours", "V→A CCA", "A→V ours", "A→V CCA"], lines,
                 dict(config=runs.config_to_dict(config), rows=rows))
    print(f"wrote {', '.join(paths)}")
    return run.path, result


# ---- registry ------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Experiment:
    """As `dynamic_generator.experiments.Experiment`, plus `variant(config, model)`: the preset for `--model N`."""
    name: str
    config_class: type
    presets: dict
    modes: dict
    variant: object = None
    export: object = None  # `export(run, stored config dict) -> (tf.Module, signatures)`; None = not exportable.
    # main.py's option flags (not config fields) each mode reads, {mode: names}; any other given is refused.
    option_flags: dict = dataclasses.field(default_factory=dict)

    def mode_names(self):
        return sorted(self.modes) + (["export"] if self.export is not None else [])


EXPERIMENTS = {
    "st_synthesis": Experiment("st_synthesis", configs.STConfig, configs.PRESETS["st_synthesis"],
                               {"train": lambda config, workdir, options: run_synthesis(config, workdir)},
                               variant=configs.model_variant, export=export.export_generator),
    "st_interpolate": Experiment("st_interpolate", configs.STConfig, configs.PRESETS["st_interpolate"],
                                 {"train": lambda config, workdir, options: run_interpolation(config, workdir),
                                  "table": lambda config, workdir, options: interpolation_table(
                                      config, workdir, selected_clips(options.get("data")))},
                                 export=export.export_generator),
    "st_recover": Experiment("st_recover", configs.STConfig, configs.PRESETS["st_recover"],
                             {"train": lambda config, workdir, options: run_recovery(config, workdir),
                              "table": lambda config, workdir, options: recovery_table(
                                  config, workdir, selected_clips(options.get("data")),
                                  selected_methods(options.get("methods")))},
                             export=export.export_generator, option_flags={"table": ("methods",)}),
    "st_multimodal": Experiment("st_multimodal", configs.MultimodalConfig, configs.MULTIMODAL_PRESETS,
                                {"train": lambda config, workdir, options: run_multimodal(config, workdir)}),
}
