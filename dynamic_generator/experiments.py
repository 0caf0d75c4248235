"""One runner per AAAI'19 experiment of the dynamic generator: learn, then write what a person looks at."""

import dataclasses
import json
import os
import time

import numpy as np
import tensorflow as tf

from common import fooling_rate, metrics, recovery_baselines, runs
from common.loop import run_training
from data import masks, sources, video_io, writers
from dynamic_generator import baselines, configs
from dynamic_generator.export import export_action, export_animate, export_texture
from dynamic_generator.train import AnimationTrainer, Trainer


def default_workdir(config, root=runs.DEFAULT_ROOT):
    """`checkpoints/<experiment>/<data name>_<preset>`."""
    return os.path.join(root, config.experiment, f"{sources.data_name(config.data)}_{config.preset}")


def _write_synthesis(run, name, observed, samples, reconstruction=None):
    """GIF + MP4 of observed | samples side by side, and a Figure-1 style strip (one row per clip)."""
    panels = ([] if observed is None else [observed]) + list(samples)
    video = writers.side_by_side(panels)
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), video),
             writers.write_mp4(run.sample_path(f"{name}.mp4"), video)]
    rows = ([] if observed is None else [observed]) + ([] if reconstruction is None else [reconstruction])
    rows += list(samples)
    every = max(1, max(len(row) for row in rows) // 10)
    paths.append(writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(rows, every=every)))
    return paths


def _clip_runs(config, workdir):
    """Loads the clips named by `config.data`; yields (clip, its config, its prepared run directory) for each.

    One clip runs in `workdir` itself, several in one sub-directory per clip.
    """
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    for clip in clips:
        clip_config = config if len(clips) == 1 else dataclasses.replace(config, data=clip.source)
        run = runs.RunDirectory(workdir if len(clips) == 1 else os.path.join(workdir, clip.name))
        run.prepare(clip_config)
        yield clip, clip_config, run


def train_texture(config, workdir=None):
    """AAAI'19 §4.1: learns one model per clip named by `config.data` and synthesises from each.

    Writes, per clip, `samples/observed_vs_synthesised.{gif,mp4}` (observed clip looped beside
    `num_output_samples` synthesised clips twice its length), a strip PNG, and `metrics.json`.

    Returns:
      list of (run directory path, metrics dict), one per clip.
    """
    config.validate()
    results = []
    for clip, clip_config, run in _clip_runs(config, workdir or default_workdir(config)):
        trainer = Trainer(clip_config, clip.frames[None])
        loop_metrics = run_training(trainer, run, f"texture {clip.name}")
        reconstruction = trainer.reconstruct()[0]
        samples = trainer.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed)
        paths = _write_synthesis(run, "observed_vs_synthesised", clip.frames, samples, reconstruction)
        metrics = dict(run.read_metrics(), clip=clip.name, data=clip.source,
                       recon_mse=float(np.mean(np.square(reconstruction - clip.frames))), **loop_metrics)
        history = run.read_history()
        if history:
            metrics["final_train_loss"] = history[-1]["loss"]
        run.write_metrics(metrics)
        print(f"{clip.name}: reconstruction MSE {metrics['recon_mse']:.4f} after {metrics['iterations']} iterations "
              f"({metrics['seconds_per_iteration']:.2f} s/iteration); wrote {', '.join(paths)}")
        results.append((run.path, metrics))
    return results


def restore_trainer(workdir):
    """The trainer of a finished or interrupted run in `workdir`, at its latest checkpoint."""
    run = runs.RunDirectory(workdir)
    config = runs.config_from_dict(configs.TextureConfig, run.read_config_dict())
    clips_file = os.path.join(run.path, CLIPS_FILE)
    num_clips = 1
    if os.path.isfile(clips_file):  # A run of many clips (action).
        with open(clips_file) as handle:
            num_clips = len(json.load(handle)["training"])
    trainer = (AnimationTrainer if config.experiment == "animate" else Trainer)(config, num_clips=num_clips)
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    return run, trainer


def sample_texture(workdir, num_frames, num_samples, seed=0, burn_in=0, stream=False):
    """Synthesises `num_samples` clips of `num_frames` frames from a trained run, by unrolling F_α.

    With `stream`, the clips (side by side) go into one MP4 chunk by chunk as they are synthesised: the state is
    carried from chunk to chunk and no more than one chunk of frames is held, so memory does not grow with
    `num_frames` (README, "Endless synthesis"). Otherwise GIF, MP4 and strip are written from the whole clips.

    Returns:
      list of written file paths.
    """
    if num_frames <= 0 or num_samples <= 0 or burn_in < 0:
        raise ValueError(f"--num_frames and --num_samples must be positive and --burn_in not negative, got "
                         f"{num_frames}, {num_samples}, {burn_in}")
    run, trainer = restore_trainer(workdir)
    if stream:
        return [stream_samples(run, trainer, num_frames, num_samples, seed, burn_in)]
    samples = trainer.synthesize(num_samples, num_frames, seed=seed, burn_in=burn_in)
    paths = _write_synthesis(run, f"sample_{num_frames}f_seed{seed}", None, samples)
    print(f"wrote {', '.join(paths)}")
    return paths


def stream_samples(run, trainer, num_frames, num_samples, seed=0, burn_in=0):
    """Writes `samples/stream_<N>f_seed<S>.mp4` chunk by chunk from `Trainer.synthesize_chunks`; returns its path.

    The file is written under a temporary name and renamed when complete, so an interrupted stream leaves no
    truncated MP4 under the final name.
    """
    path = run.sample_path(f"stream_{num_frames}f_seed{seed}.mp4")
    temporary = path + ".partial.mp4"
    size, gap = trainer.config.image_size, 2
    bar = runs.progress_bar(0, num_frames, "synthesising")
    try:
        with writers.Mp4Writer(temporary, size, num_samples * (size + gap) - gap) as writer:
            for chunk in trainer.synthesize_chunks(num_samples, num_frames, seed=seed, burn_in=burn_in):
                writer.write(writers.side_by_side(list(chunk), gap=gap))
                bar.update(chunk.shape[1])
        os.replace(temporary, path)
    finally:
        bar.close()
        if os.path.exists(temporary):
            os.remove(temporary)
    print(f"wrote {path} ({num_frames} frames of {num_samples} clip{'s' if num_samples > 1 else ''} side by side)")
    return path


# ---- learning from incomplete videos: recovery (§4.3, Table 2) and content removal (§4.4) -------------------------

SHARED_RECOVERY_DATASET = os.path.join(os.path.dirname(runs.DEFAULT_ROOT), os.pardir, "shared", "data",
                                       "trainingVideo", "recovery_dataset")
# Occluded pixels are shown black in the written clips.
_HIDDEN = -1.0


def _mask_name(config):
    return os.path.splitext(os.path.basename(os.path.normpath(config.mask)))[0] if config.mask else config.mask_type


def default_recovery_workdir(config, root=runs.DEFAULT_ROOT):
    """`checkpoints/<experiment>/<data>_<mask>_<method>_<preset>`."""
    return os.path.join(root, config.experiment,
                        f"{sources.data_name(config.data)}_{_mask_name(config)}_{config.method}_{config.preset}")


def load_incomplete_clip(config):
    """The clip named by `--data` ([-1, 1], [frames, size, size, 3]) and its `visible` mask of the same shape."""
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    if len(clips) != 1:
        raise ValueError(f"--data {config.data} holds {len(clips)} clips; recovery and inpainting take one clip "
                         f"(a video file, a frame folder or synthetic:NAME)")
    visible = masks.load_mask(config.mask, clips[0].frames.shape, config.mask_type, config.seed)
    if visible.all():
        raise ValueError(f"the mask {config.mask or config.mask_type} occludes nothing in the first "
                         f"{config.num_frames} frames at {config.image_size}x{config.image_size}; give a mask "
                         f"that marks the pixels to recover (1 or white = occluded)")
    if not visible.any():
        raise ValueError(f"the mask {config.mask or config.mask_type} occludes every pixel of the first "
                         f"{config.num_frames} frames: there is nothing to learn from; give a mask with visible "
                         f"pixels (0 or black = visible)")
    return clips[0], visible


class RecoveryTrainer(Trainer):
    """ABPTT on an incomplete clip that also reports the recovery error at every logged iteration.

    The original clip is used for that number only; training sees `visible * observed`.
    """

    def __init__(self, config, original, visible):
        super().__init__(config, (visible * original)[None], visible=visible[None])
        self.original, self.visible_mask = original, visible

    def recover(self):
        """Visible pixels kept, occluded ones from G_β(s_t), s_t unrolled from the inferred ξ and s_0 (§4.3)."""
        return np.where(self.visible_mask > 0, self.original, self.reconstruct()[0])

    def train_iteration(self):
        result = super().train_iteration()
        iteration = int(self.iteration.numpy())
        if iteration % self.config.log_every == 0 or iteration == self.config.num_iterations:
            result["recovery_error"] = metrics.recovery_error(self.recover(), self.original, self.visible_mask)
        return result

    def summary_images(self):
        every = max(1, self.config.num_frames // 10)
        shown = np.where(self.visible_mask > 0, self.original, _HIDDEN)
        return {"samples/occluded_recovered_original":
                writers.frame_strip([shown, self.recover(), self.original], every=every)}


def _baseline(method, observed, visible, seed):
    """Runs one model-free method on the visible values.

    Returns:
      (recovered clip, dict of further named estimates, dict of extra metrics).
    """
    if method == "lhd":
        return recovery_baselines.laplacian_heat_diffusion(observed, visible), {}, {}
    if method == "linear":
        return recovery_baselines.temporal_linear_interpolation(observed, visible), {}, {}
    result = recovery_baselines.mrf_gibbs(observed, visible, method[len("mrf_"):], seed=seed)
    # The paper reports the sample after burn-in; the average of the later samples is the stronger estimate.
    return (np.clip(result["sample"], -1.0, 1.0), {"average_of_samples": np.clip(result["mean"], -1.0, 1.0)},
            {"beta": result["beta"]})


def _write_recovery(run, config, original, visible, recovered):
    """occluded | recovered | original (recover) or original | masked | inpainted (inpaint): GIF, MP4, strip."""
    shown = np.where(visible > 0, original, _HIDDEN)
    if config.experiment == "inpaint":
        name, panels = "original_masked_inpainted", [original, shown, recovered]
    else:
        name, panels = "occluded_recovered_original", [shown, recovered, original]
    video = writers.side_by_side(panels)
    every = max(1, len(original) // 10)
    return [writers.write_gif(run.sample_path(f"{name}.gif"), video),
            writers.write_mp4(run.sample_path(f"{name}.mp4"), video),
            writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(panels, every=every))]


def run_recovery(config, workdir=None, quiet=False):
    """AAAI'19 §4.3 / §4.4: fills the occluded pixels of one clip by `config.method` and measures the result.

    `dg` learns the dynamic generator from the visible pixels alone (ABPTT with the masked energy, resumable from
    its checkpoints) and fills the holes with G_β(s_t); the baselines fill them directly. Every method writes
    `samples/occluded_recovered_original.*` (inpaint: `original_masked_inpainted.*`) and `metrics.json` with
    `recovery_error` (mean |recovered − original| over occluded values, [0, 255] scale) and `recovery_psnr`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, visible = load_incomplete_clip(config)
    run = runs.RunDirectory(workdir or default_recovery_workdir(config))
    run.prepare(config)
    if config.method == "dg":
        trainer = RecoveryTrainer(config, clip.frames, visible)
        result = run_training(trainer, run, f"{config.experiment} {clip.name} ({_mask_name(config)})")
        recovered = trainer.recover()
        result = dict(metrics.recovery_metrics(recovered, clip.frames, visible), **result,
                      recon_mse_visible=trainer.reconstruction_mse())
    else:
        stopwatch = runs.Stopwatch()
        stopwatch.start()
        recovered, alternatives, extra = _baseline(config.method, visible * clip.frames, visible, config.seed)
        seconds = stopwatch.stop()
        result = dict(metrics.recovery_metrics(recovered, clip.frames, visible), **extra, seconds=seconds)
        for name, estimate in alternatives.items():
            result[f"recovery_error_{name}"] = metrics.recovery_error(estimate, clip.frames, visible)
            result[f"recovery_psnr_{name}"] = metrics.recovery_psnr(estimate, clip.frames, visible)
    paths = _write_recovery(run, config, clip.frames, visible, recovered)
    result.update(clip=clip.name, data=clip.source, mask=config.mask or f"generated:{config.mask_type}",
                  method=config.method)
    run.write_metrics(result)
    if not quiet:
        print(f"{clip.name} ({_mask_name(config)}), {config.method}: recovery error {result['recovery_error']:.2f} "
              f"on [0, 255], PSNR {result['recovery_psnr']:.2f} dB over occluded pixels; wrote {', '.join(paths)}")
    return run.path, result


def restore_frozen_weights(trainer, checkpoint_dir):
    """Loads the trained weights into `trainer` and starts its latents afresh from the prior (a new clip).

    The whole checkpoint is restored (the model's weights are reached through the optimizer's variable list), then
    ξ, s_0 and the random generator are reset from `trainer.config.seed`, so nothing of the training clip remains.
    """
    if not runs.Checkpointer(checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {checkpoint_dir}; train first with --mode train")
    trainer.generator.reset_from_seed(trainer.config.seed)
    trainer.latents.reset(trainer.generator)


def recover_new_clip(workdir, data, mask="", mask_type=None, num_iterations=100, overrides=None):
    """Recovers the occluded pixels of a new clip with a trained, frozen `recover` model (§4.3).

    Only the latents are inferred, by `num_iterations` Langevin sweeps from their prior; the weights stay as
    trained. Writes `<workdir>/recover_new/<clip>_<mask>_seed<S>_<energy scale>_step<δ>/` with the usual
    clips and metrics.json.

    Args:
      workdir: a trained `--experiment recover` (or inpaint) run with `--method dg`.
      data, mask, mask_type: the new clip and its mask (as for training).
      num_iterations: Langevin sweeps (each `num_langevin_steps` steps per chunk).
      overrides: optional config fields for inference only, e.g. {"energy_scale": "sum",
        "langevin_step_size": 0.003, "seed": 2}.

    Returns:
      (output directory, metrics dict).
    """
    if num_iterations <= 0:
        raise ValueError(f"--inference_iterations must be positive, got {num_iterations}")
    trained = runs.RunDirectory(workdir)
    config = runs.config_from_dict(configs.TextureConfig, trained.read_config_dict())
    if config.experiment not in ("recover", "inpaint") or config.method != "dg":
        raise ValueError(f"--workdir {workdir} holds a {config.experiment!r} run with method {config.method!r}; "
                         f"--mode recover_new needs a trained `--experiment recover --method dg` run")
    if not data:
        raise ValueError("--mode recover_new needs --data, the new clip to recover")
    config = dataclasses.replace(config, data=data, mask=mask or "", mask_type=mask_type or config.mask_type,
                                 **(overrides or {})).validate()
    clip, visible = load_incomplete_clip(config)
    trainer = RecoveryTrainer(config, clip.frames, visible)
    restore_frozen_weights(trainer, trained.checkpoint_dir)
    weights = [weight.numpy() for weight in trainer.model.weights]
    stopwatch = runs.Stopwatch()
    for _ in range(num_iterations):
        stopwatch.start()
        trainer.infer_iteration()
        stopwatch.stop()
    if any(not np.array_equal(before, after.numpy()) for before, after in zip(weights, trainer.model.weights)):
        raise RuntimeError("the weights changed during inference")  # A bug, not a user error.
    recovered = trainer.recover()
    name = (f"{clip.name}_{_mask_name(config)}_seed{config.seed}_{config.energy_scale}"
            f"_step{config.langevin_step_size:g}")
    run = runs.RunDirectory(os.path.join(workdir, "recover_new", name))
    run.prepare(dataclasses.replace(config, num_iterations=num_iterations))
    result = dict(metrics.recovery_metrics(recovered, clip.frames, visible), clip=clip.name, data=clip.source,
                  mask=config.mask or f"generated:{config.mask_type}", method="dg (frozen, inference only)",
                  inference_iterations=num_iterations, seconds_per_iteration=stopwatch.seconds_per_iteration(),
                  recon_mse_visible=trainer.reconstruction_mse(), energy_scale=config.energy_scale,
                  langevin_step_size=config.langevin_step_size)
    paths = _write_recovery(run, config, clip.frames, visible, recovered)
    run.write_metrics(result)
    print(f"{clip.name} ({_mask_name(config)}), frozen model from {workdir}: recovery error "
          f"{result['recovery_error']:.2f}, PSNR {result['recovery_psnr']:.2f} dB; wrote {', '.join(paths)}")
    return run.path, result


# ---- Table 2 -------------------------------------------------------------------------------------------------------

TABLE_METHODS = ("dg", "mrf_l1", "mrf_l2", "lhd", "linear")
# AAAI'19 Table 2, fountain (150x150, 70 frames): recovery error for (region, missing frames).
PAPER_FOUNTAIN = {"dg": (5.70, 5.57), "stgcn": (6.03, 8.05), "mrf_l1": (11.83, 19.43), "mrf_l2": (12.17, 13.23)}
# The authors' two masks per clip of the recovery dataset, under the names of our generators.
_AUTHORS_MASKS = (("region", "region_type.mat"), ("missing_frames", "missing_frame_type.mat"))


def table_cases(dataset=SHARED_RECOVERY_DATASET, textures=("fire", "water")):
    """(clip name, --data, --mask, mask label) for every clip of the recovery dataset that has its two masks,
    then the built-in synthetic textures with generated region and missing-frame masks."""
    cases = []
    data_folder, mask_folder = os.path.join(dataset, "data"), os.path.join(dataset, "mask")
    if os.path.isdir(data_folder):
        for name in sorted(os.listdir(data_folder)):
            folder = os.path.join(data_folder, name)
            videos = sorted(entry for entry in os.listdir(folder) if video_io.is_video_file(os.path.join(folder, entry)))
            mask_files = [os.path.join(mask_folder, name, file) for _, file in _AUTHORS_MASKS]
            if videos and all(os.path.isfile(path) for path in mask_files):
                cases += [(name, os.path.join(folder, videos[0]), path, label)
                          for (label, _), path in zip(_AUTHORS_MASKS, mask_files)]
    for texture in textures:
        cases += [(f"synthetic_{texture}", f"synthetic:{texture}", "", label) for label, _ in _AUTHORS_MASKS]
    return cases


def _table_columns(methods):
    columns = []
    for method in methods:
        columns.append((method, method, "recovery_error"))
        if method.startswith("mrf_"):
            columns.append((f"{method}_avg", method, "recovery_error_average_of_samples"))
    return columns + [("zeros", None, "zeros")]


def format_table(rows, methods):
    """Table 2's layout: one row per clip x mask, one column per method (recovery error, [0, 255])."""
    columns = _table_columns(methods)
    header = f"{'clip':<18}{'mask':<16}" + "".join(f"{name:>11}" for name, _, _ in columns)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = "".join(f"{row['errors'].get(name, float('nan')):>11.2f}" for name, _, _ in columns)
        lines.append(f"{row['clip']:<18}{row['mask']:<16}{cells}")
    return "\n".join(lines)


def recovery_table(config, workdir=None, methods=TABLE_METHODS, dataset=SHARED_RECOVERY_DATASET,
                   textures=("fire", "water")):
    """Table 2 for the shared recovery clips with the authors' masks and for the built-in synthetic clips.

    Every (clip, mask, method) is one run directory under `workdir`, so a stopped table resumes: finished
    baselines are read back, the dynamic generator resumes from its checkpoint. Baselines run first.
    Writes `table.json` and prints the table.

    Returns:
      list of rows {clip, mask, data, mask_file, errors: {column: recovery error}}.
    """
    unknown = sorted(set(methods) - set(TABLE_METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {TABLE_METHODS}")
    workdir = workdir or os.path.join(runs.DEFAULT_ROOT, config.experiment, f"table_{config.preset}")
    cases = table_cases(dataset, textures)
    if not os.path.isdir(dataset):
        print(f"note: {dataset} not found; the table has the synthetic clips only")
    results = {}
    order = sorted(methods, key=lambda method: method == "dg")  # The slow one last.
    for method in order:
        for name, data, mask, label in cases:
            case = dataclasses.replace(config, data=data, mask=mask, mask_type=label, method=method).validate()
            run = runs.RunDirectory(os.path.join(workdir, f"{name}_{label}", method))
            stored = run.read_metrics()
            done = (run.exists() and "recovery_error" in stored and runs.config_from_dict(
                configs.TextureConfig, run.read_config_dict()) == case)
            if not done:
                stored = run_recovery(case, run.path)[1]
            results[(name, label, method)] = stored
            print(f"{name} {label} {method}: {stored['recovery_error']:.2f}", flush=True)
    rows = []
    for name, data, mask, label in cases:
        clip, visible = load_incomplete_clip(dataclasses.replace(config, data=data, mask=mask, mask_type=label))
        errors = {"zeros": metrics.recovery_error(visible * clip.frames, clip.frames, visible)}
        for column, method, key in _table_columns(methods):
            if method is not None:
                errors[column] = results[(name, label, method)][key]
        rows.append(dict(clip=name, mask=label, data=data, mask_file=mask or f"generated:{label}", errors=errors,
                         occluded_fraction=float(np.mean(visible == 0))))
    table = format_table(rows, methods)
    runs.write_json_atomic(os.path.join(workdir, "table.json"), {
        "preset": config.preset, "image_size": config.image_size, "num_frames": config.num_frames,
        "num_iterations": config.num_iterations, "metric": "recovery_error: mean |recovered - original| over "
        "occluded values, [0, 255] scale", "rows": rows, "paper_fountain_region_missing_frames": PAPER_FOUNTAIN})
    print(f"\nRecovery error on [0, 255] over occluded pixels ({config.preset} preset: {config.image_size}x"
          f"{config.image_size}, {config.num_frames} frames, {config.num_iterations} iterations for dg; "
          f"_avg = average of MRF samples, zeros = holes left at 0)\n{table}")
    print("Paper, fountain 150x150 (region / missing frames): " + ", ".join(
        f"{method} {region:.2f} / {missing:.2f}" for method, (region, missing) in PAPER_FOUNTAIN.items()))
    print(f"wrote {os.path.join(workdir, 'table.json')}")
    return rows


# ---- §4.1 synthesis quality: the LDS baseline and the fooling-rate table (texture --method lds, texture_eval) ----

LDS_FILE = "lds.npz"
# texture_eval: synthesised clips per model, each twice the observed length (as in §4.1), and their noise seed.
EVAL_NUM_SAMPLES = 3
EVAL_SEED = 0


def default_lds_workdir(config, root=runs.DEFAULT_ROOT):
    """`checkpoints/texture/<data name>_<preset>_lds`, beside the dynamic generator's run on the same clip."""
    return default_workdir(config, root) + "_lds"


def train_lds(config, workdir=None, lds_config=baselines.LdsConfig()):
    """The LDS baseline of §4.1 (Doretto et al., IJCV 2003): one closed-form fit per clip named by `config.data`.

    Reads exactly the frames `train_texture` would (`data`, `num_frames`, `image_size`, `seed`) and writes the same
    outputs: `samples/observed_vs_synthesised.{gif,mp4}` and strip, `metrics.json` (recon_mse is the projection on
    the d principal components), the fitted system in `ckpt/lds.npz` and `config.json`.

    Returns:
      list of (run directory path, metrics dict), one per clip.
    """
    config.validate()
    lds_config.validate()
    results = []
    for clip, _, run in _clip_runs(config, workdir or default_lds_workdir(config)):
        start = time.perf_counter()
        lds = baselines.fit_lds(clip.frames, lds_config)
        seconds = time.perf_counter() - start
        lds.save(os.path.join(run.checkpoint_dir, LDS_FILE))
        reconstruction = lds.reconstruct()
        samples = lds.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed)
        paths = _write_synthesis(run, "observed_vs_synthesised", clip.frames, samples, reconstruction)
        metrics = dict(clip=clip.name, data=clip.source, method="lds",
                       recon_mse=float(np.mean(np.square(reconstruction - clip.frames))), train_seconds=seconds,
                       state_dim=lds.state_dim, noise_dim=lds.noise_dim, explained_variance=lds.explained_variance,
                       spectral_radius=lds.spectral_radius, stabilised=lds.stabilised,
                       lds_config=dataclasses.asdict(lds_config))
        run.write_metrics(metrics)
        print(f"{clip.name}: LDS with d = {lds.state_dim} ({100 * lds.explained_variance:.1f}% of the variance), "
              f"n_v = {lds.noise_dim}, spectral radius {lds.spectral_radius:.3f}"
              f"{' (stabilised)' if lds.stabilised else ''}, reconstruction MSE {metrics['recon_mse']:.4f} "
              f"in {seconds:.2f} s; wrote {', '.join(paths)}")
        results.append((run.path, metrics))
    return results


def _is_lds_run(workdir):
    return os.path.isfile(os.path.join(runs.RunDirectory(workdir).checkpoint_dir, LDS_FILE))


def sample_lds(workdir, num_frames, num_samples, seed=0, burn_in=0):
    """`--mode sample` for an LDS run: new clips of any length from `ckpt/lds.npz`."""
    if num_frames <= 0 or num_samples <= 0 or burn_in < 0:
        raise ValueError(f"--num_frames and --num_samples must be positive and --burn_in not negative, got "
                         f"{num_frames}, {num_samples}, {burn_in}")
    run = runs.RunDirectory(workdir)
    lds = baselines.LinearDynamicalSystem.load(os.path.join(run.checkpoint_dir, LDS_FILE))
    samples = lds.synthesize(num_samples, num_frames, seed=seed, burn_in=burn_in)
    paths = _write_synthesis(run, f"sample_{num_frames}f_seed{seed}", None, samples)
    print(f"wrote {', '.join(paths)}")
    return paths


def _eval_clip_name(clip):
    """`synthetic_fire`, `fire` (.../fire/fire.avi), `flashing_light_64ce210` (.../flashing_light/64ce210.avi)."""
    if clip.source.startswith(sources.SYNTHETIC_PREFIX) or not os.path.isfile(clip.source):
        return clip.name
    folder = os.path.basename(os.path.dirname(os.path.abspath(clip.source)))
    return clip.name if folder in ("", clip.name) else f"{folder}_{clip.name}"


def later_segments(clip, config, num_segments, segment_length):
    """Up to `num_segments` real segments of `segment_length` frames that follow the observed clip in its source.

    They are the reference row of the table: what the fooling rate and the distances give for real video of the
    same texture that no model saw (a synthetic texture is simply simulated further).

    Returns:
      list of float32 [segment_length, height, width, 3] in [-1, 1] (empty when the source is too short).
    """
    needed = config.num_frames + num_segments * segment_length
    if clip.source.startswith(sources.SYNTHETIC_PREFIX):
        frames = sources.load_clips(clip.source, needed, config.image_size, config.seed)[0].frames
    elif os.path.isfile(clip.source):
        frames = video_io.normalize_frames(video_io.read_video(clip.source, None, config.image_size))
    else:
        frames = video_io.normalize_frames(video_io.read_frame_folder(clip.source, None, config.image_size))
    if not np.allclose(frames[:config.num_frames], clip.frames, atol=1e-5):
        raise ValueError(f"{clip.source} did not decode to the same first {config.num_frames} frames twice")
    rest = frames[config.num_frames:needed]
    return [rest[start:start + segment_length] for start in range(0, len(rest) - segment_length + 1, segment_length)]


def _train_for_eval(method, config, lds_config, run_path):
    """Trains (or resumes) one method on one clip; returns (metrics, synthesised clips for the evaluation)."""
    run = runs.RunDirectory(run_path)
    num_frames = 2 * config.num_frames
    if method == "lds":
        metrics = train_lds(config, run_path, lds_config)[0][1]
        lds = baselines.LinearDynamicalSystem.load(os.path.join(run.checkpoint_dir, LDS_FILE))
        return metrics, lds.synthesize(EVAL_NUM_SAMPLES, num_frames, seed=EVAL_SEED)
    before = run.read_metrics()
    start = time.perf_counter()
    metrics = train_texture(config, run_path)[0][1]
    seconds = time.perf_counter() - start
    if metrics["iterations"] > before.get("iterations", 0):
        # Wall-clock of the sessions that trained (a resumed run adds to what its earlier sessions took).
        metrics["train_seconds"] = before.get("train_seconds", 0.0) + seconds
        run.write_metrics(metrics)
    _, trainer = restore_trainer(run_path)
    return metrics, trainer.synthesize(EVAL_NUM_SAMPLES, num_frames, seed=EVAL_SEED)


def _evaluate(observed, fakes, fooling_config):
    result = fooling_rate.fooling_rate(observed, fakes, fooling_config)
    return dict(fooling_rate=result["mean"], fooling_rate_std=result["std"], fooling_rate_per_seed=result["per_seed"],
                crop=result["crop"], **fooling_rate.statistics_distances(observed, fakes))


QUALITY_COLUMNS = (  # (header, row key, format)
    ("fooling rate", "fooling_rate", None), ("mean img", "mean_image_rmse", ".3f"),
    ("std img", "std_image_rmse", ".3f"), ("spatial PSD", "spatial_spectrum_distance", ".2f"),
    ("temporal PSD", "temporal_spectrum_distance", ".2f"), ("motion ratio", "motion_energy_ratio", ".2f"),
    ("nearest-frame MSE", "nearest_frame_mse", ".3f"), ("recon MSE", "recon_mse", ".4f"),
    ("train s", "train_seconds", ".1f"))


def format_quality_table(rows):
    """The Markdown table: one row per clip x method (and the real reference), one column per measure."""
    lines = ["| clip | method | " + " | ".join(header for header, _, _ in QUALITY_COLUMNS) + " |",
             "|" + " --- |" * (2 + len(QUALITY_COLUMNS))]
    for row in rows:
        cells = []
        for _, key, spec in QUALITY_COLUMNS:
            if key == "fooling_rate":
                cells.append(f"{row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}")
            else:
                cells.append("–" if row.get(key) is None else format(row[key], spec))
        lines.append(f"| {row['clip']} | {row['method']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def texture_eval(config, workdir=None, more_data=(), lds_config=baselines.LdsConfig(),
                 fooling_config=fooling_rate.DEFAULT_CONFIG):
    """§4.1 / Figure 2 without people: ours and the LDS on every clip, same frames, ranked by the fooling rate.

    For each clip of `config.data` and `more_data`: trains the dynamic generator (`config`'s budget, resumed if
    its run exists) and fits the LDS, synthesises `EVAL_NUM_SAMPLES` clips of twice the observed length from each,
    and measures them against the observed clip (fooling rate and statistics distances, common/fooling_rate.py).
    A `real` row does the same for the real segments that follow the observed clip in its source: the value a
    perfect model would get on that clip. Prints the Markdown table, writes it to `table.md` and `table.json`.

    Returns:
      list of table rows (dicts).
    """
    specs = list(dict.fromkeys([config.data, *more_data]))
    workdir = workdir or os.path.join(runs.DEFAULT_ROOT, "texture_eval", config.preset)
    # Every clip is read before the run directory is made, so bad input leaves nothing behind.
    loaded = [sources.load_clips(spec, config.num_frames, config.image_size, config.seed) for spec in specs]
    runs.RunDirectory(workdir).prepare(dataclasses.replace(config, experiment="texture_eval"))
    config = dataclasses.replace(config, experiment="texture", method="dg")
    rows = []
    for clips in loaded:
        for clip in clips:
            name = _eval_clip_name(clip)
            clip_config = dataclasses.replace(config, data=clip.source)
            candidates = []
            for method in ("dg", "lds"):
                metrics, fakes = _train_for_eval(method, dataclasses.replace(clip_config, method=method),
                                                 lds_config, os.path.join(workdir, name, method))
                candidates.append((method, fakes, metrics))
            segments = later_segments(clip, config, EVAL_NUM_SAMPLES, 2 * config.num_frames)
            if segments:
                candidates.append((f"real (next {len(segments)}x{2 * config.num_frames} frames)", segments, {}))
            for method, fakes, metrics in candidates:
                row = dict(clip=name, data=clip.source, method=method, recon_mse=metrics.get("recon_mse"),
                           train_seconds=metrics.get("train_seconds"), iterations=metrics.get("iterations"),
                           **_evaluate(clip.frames, fakes, fooling_config))
                if method == "lds":
                    row.update(state_dim=metrics["state_dim"], noise_dim=metrics["noise_dim"])
                rows.append(row)
                print(f"{name} {method}: fooling rate {row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}",
                      flush=True)
    table = format_quality_table(rows)
    with open(os.path.join(workdir, "table.md"), "w") as handle:
        handle.write(table + "\n")
    runs.write_json_atomic(os.path.join(workdir, "table.json"), {
        "preset": config.preset, "image_size": config.image_size, "num_frames": config.num_frames,
        "num_iterations": config.num_iterations, "eval_num_samples": EVAL_NUM_SAMPLES,
        "eval_num_frames": 2 * config.num_frames, "eval_seed": EVAL_SEED,
        "fooling_rate_config": dataclasses.asdict(fooling_config), "lds_config": dataclasses.asdict(lds_config),
        "rows": rows, "markdown": table})
    print(f"\nSynthesis quality ({config.preset} preset: {config.num_frames} observed frames of "
          f"{config.image_size}x{config.image_size}, dg {config.num_iterations} iterations; {EVAL_NUM_SAMPLES} "
          f"synthesised clips of {2 * config.num_frames} frames per method; fooling rate mean ± std over seeds "
          f"{list(fooling_config.seeds)}, 0.5 = indistinguishable)\n\n{table}\n\nwrote {workdir}/table.json")
    return rows


def _lds_config_from(options):
    return baselines.LdsConfig(state_dim=options.get("lds_state_dim") or 0,
                               noise_dim=options.get("lds_noise_dim") or 0).validate()


def _texture_eval_mode(config, workdir, options):
    return texture_eval(config, workdir, options.get("more_data", ()), _lds_config_from(options))


# ---- many clips, one motion model: action patterns (§4.2, Figures 3-4) -------------------------------------------

CLIPS_FILE = "clips.json"
# Figure 3: how many training appearances are shown, and new motions per appearance.
FIGURE3_APPEARANCES = 4
FIGURE3_MOTIONS = 2


def default_clips_workdir(config, root=runs.DEFAULT_ROOT):
    """`checkpoints/<experiment>/<data name>_<preset>` for the experiments that learn from many clips."""
    return os.path.join(root, config.experiment, f"{sources.data_name(config.data)}_{config.preset}")


def _write_clips_file(run, training, held_out):
    """`clips.json`: training clip names in latent order, held-out names, and where each clip came from."""
    runs.write_json_atomic(os.path.join(run.path, CLIPS_FILE), {
        "training": [clip.name for clip in training], "held_out": [clip.name for clip in held_out],
        "sources": {clip.name: clip.source for clip in training + held_out}})


def split_held_out(clips, config):
    """(training clips, held-out clips): `config.num_held_out` clips chosen by `config.seed`, order kept."""
    if config.num_held_out >= len(clips):
        raise ValueError(f"--num_held_out {config.num_held_out} leaves no training clip: --data {config.data} holds "
                         f"{len(clips)} clips")
    held_out = set(np.random.default_rng(config.seed).permutation(len(clips))[:config.num_held_out].tolist())
    return ([clip for index, clip in enumerate(clips) if index not in held_out],
            [clip for index, clip in enumerate(clips) if index in held_out])


def load_action_clips(config):
    """The clips of `config.data` (a folder of clips, or synthetic:actions), checked, split into training/held out."""
    if not config.appearance_dim:
        raise ValueError("--experiment action learns an appearance vector per clip: --appearance_dim must be "
                         "positive (the presets use 100)")
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    if len(clips) < 2:
        raise ValueError(f"--data {config.data} holds one clip; --experiment action learns one model from several "
                         f"clips (give a folder of videos), --experiment texture learns from one")
    return split_held_out(clips, config)


def _mse_per_clip(reconstruction, clips):
    return {clip.name: float(np.mean(np.square(frames - clip.frames))) for clip, frames in zip(clips, reconstruction)}


def _new_motions(trainer, appearance, motion, num_frames, seed):
    """`FIGURE3_MOTIONS` new videos for each appearance: ξ ~ N(0, I) and s_0 ~ N(0, I) (the authors' test), the
    whole batch of appearances generated together (normalisation statistics over a batch of clips, as in training).

    Returns:
      float32 [motions, appearances, num_frames, height, width, 3].
    """
    return np.stack([trainer.synthesize(len(appearance), num_frames, seed=seed + index, random_initial_state=True,
                                        appearance=appearance, motion=motion, num_groups=1)
                     for index in range(FIGURE3_MOTIONS)])


def write_figure3(run, name, trainer, clips, seed):
    """Figure 3: for a few appearances, the observed clip, then new motions with that appearance (GIF + strip).

    Returns:
      list of written paths.
    """
    vectors = trainer.latents.clip_vectors()
    motion = vectors["motion"].numpy() if "motion" in vectors else None
    samples = _new_motions(trainer, vectors["appearance"].numpy(), motion, trainer.config.num_frames, seed)
    shown = np.unique(np.linspace(0, len(clips) - 1, min(FIGURE3_APPEARANCES, len(clips))).round().astype(int))
    rows = [[clips[i].frames] + [samples[k, i] for k in range(FIGURE3_MOTIONS)] for i in shown]
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), writers.grid(rows)),
             writers.write_mp4(run.sample_path(f"{name}.mp4"), writers.grid(rows))]
    every = max(1, trainer.config.num_frames // 10)
    strip = writers.frame_strip([clip for row in rows for clip in row], every=every)
    paths.append(writers.write_png(run.sample_path(f"{name}_strip.png"), strip))
    return paths


def _frozen_trainer(trained_config, trained_run, observed):
    """A trainer on new clips `observed` with the weights of a trained action run, latents from their prior.

    The trained checkpoint is restored whole into a trainer shaped like the training run (weights are reached
    through the optimizer), then the weights are copied: nothing else of the training clips comes along.
    """
    trained = restore_trainer(trained_run.path)[1]
    trainer = Trainer(trained_config, observed)
    trainer.model.set_weights(trained.model.get_weights())
    return trainer


def infer_clips(trained_config, trained_run, clips, num_iterations):
    """With the model frozen, infers a, s_0 and ξ of `clips` by `num_iterations` Langevin sweeps from the prior.

    Returns:
      (trainer holding the inferred latents, reconstruction MSE per clip, seconds per sweep).
    """
    if num_iterations <= 0:
        raise ValueError(f"--inference_iterations must be positive, got {num_iterations}")
    trainer = _frozen_trainer(trained_config, trained_run, np.stack([clip.frames for clip in clips]))
    weights = [weight.numpy() for weight in trainer.model.weights]
    stopwatch = runs.Stopwatch()
    with runs.progress_bar(0, num_iterations, "inferring new clips") as bar:
        for _ in range(num_iterations):
            stopwatch.start()
            trainer.infer_iteration()
            stopwatch.stop()
            bar.update()
    if any(not np.array_equal(before, after.numpy()) for before, after in zip(weights, trainer.model.weights)):
        raise RuntimeError("the weights changed during inference")  # A bug, not a user error.
    return trainer, _mse_per_clip(trainer.reconstruct(), clips), stopwatch.seconds_per_iteration()


def train_action(config, workdir=None, inference_iterations=100):
    """AAAI'19 §4.2: one model (α, β) from many clips, an appearance vector per clip, then Figure 3.

    Writes `samples/figure3.{gif,mp4}` and strip (rows: observed clip, then new motions with its inferred
    appearance), `clips.json` (training and held-out clip names, in latent order) and `metrics.json` with the
    reconstruction MSE of every training clip and, with `--num_held_out`, of every held-out clip after
    `inference_iterations` Langevin sweeps with the model frozen.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    training, held_out = load_action_clips(config)
    run = runs.RunDirectory(workdir or default_clips_workdir(config))
    run.prepare(config)
    _write_clips_file(run, training, held_out)
    trainer = Trainer(config, np.stack([clip.frames for clip in training]))
    loop_metrics = run_training(trainer, run, f"action {sources.data_name(config.data)}")
    train_mse = _mse_per_clip(trainer.reconstruct(), training)
    paths = write_figure3(run, "figure3", trainer, training, config.seed)
    result = dict(run.read_metrics(), **loop_metrics, data=config.data, num_training_clips=len(training),
                  recon_mse=float(np.mean(list(train_mse.values()))), recon_mse_per_clip=train_mse)
    if held_out:
        trainer_new, held_mse, seconds = infer_clips(config, run, held_out, inference_iterations)
        paths += write_figure3(run, "figure3_held_out", trainer_new, held_out, config.seed)
        result.update(held_out_recon_mse=float(np.mean(list(held_mse.values()))),
                      held_out_recon_mse_per_clip=held_mse, held_out_inference_iterations=inference_iterations,
                      held_out_seconds_per_inference_iteration=seconds)
    run.write_metrics(result)
    held = (f"; held-out clips after {inference_iterations} inference sweeps: {result['held_out_recon_mse']:.4f}"
            if held_out else "")
    print(f"{len(training)} training clips: mean reconstruction MSE {result['recon_mse']:.4f}{held}; "
          f"wrote {', '.join(paths)}")
    return run.path, result


def _read_clips(run):
    path = os.path.join(run.path, CLIPS_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: --workdir {run.path} is not an --experiment action run")
    with open(path) as handle:
        return json.load(handle)


def _action_run(workdir):
    if not workdir:
        raise ValueError("this mode needs --workdir, the directory of a trained --experiment action run")
    run = runs.RunDirectory(workdir)
    config = runs.config_from_dict(configs.TextureConfig, run.read_config_dict())
    if config.experiment != "action":
        raise ValueError(f"--workdir {workdir} holds a {config.experiment!r} run; this mode needs an "
                         f"--experiment action run")
    return run, config


def infer_new_clips(workdir, data, num_iterations=100):
    """`--mode infer`: a trained action model, frozen, applied to clips it never saw (§4.2).

    Infers appearance, s_0 and ξ of every clip of `data`, reports their reconstruction MSE and synthesises new
    motions with the inferred appearances. Writes `<workdir>/infer/<data name>/` (metrics.json, Figure-3 GIF and
    strip of the new clips).

    Returns:
      (output directory, metrics dict).
    """
    run, config = _action_run(workdir)
    if not data:
        raise ValueError("--mode infer needs --data, the new clips (a folder of videos)")
    clips = sources.load_clips(data, config.num_frames, config.image_size, config.seed)
    trainer, mse, seconds = infer_clips(config, run, clips, num_iterations)
    out = runs.RunDirectory(os.path.join(run.path, "infer", sources.data_name(data)))
    out.prepare(dataclasses.replace(config, data=data, num_iterations=num_iterations))
    paths = write_figure3(out, "figure3_new_clips", trainer, clips, config.seed)
    result = dict(data=data, inference_iterations=num_iterations, seconds_per_inference_iteration=seconds,
                  recon_mse=float(np.mean(list(mse.values()))), recon_mse_per_clip=mse)
    out.write_metrics(result)
    print(f"{len(clips)} new clips, model frozen, {num_iterations} inference sweeps: mean reconstruction MSE "
          f"{result['recon_mse']:.4f}; wrote {', '.join(paths)}")
    return out.path, result


def interpolate(workdir, clip_names, steps=5, seed=0, num_frames=None):
    """Figure 4: videos from appearances interpolated between two inferred ones, with one ξ and s_0 for all.

    a_k = (1 - w_k) a_A + w_k a_B for w_k evenly spaced in [0, 1] (linear, as the paper). The `steps` videos are
    generated together as one batch (the normalisation statistics of a batch of clips, as in training). Writes
    `samples/interpolate_<A>_<B>.{gif,mp4}` (a row of `steps` videos) and a strip (one row per step).

    Returns:
      list of written paths.
    """
    run, config = _action_run(workdir)
    names = _read_clips(run)["training"]
    if len(clip_names or ()) != 2:
        raise ValueError(f"--clips takes two training clip names, got {list(clip_names or ())}; this run has "
                         f"{names}")
    unknown = [name for name in clip_names if name not in names]
    if unknown:
        raise ValueError(f"--clips {' '.join(unknown)}: no such training clip in {workdir}; choose from {names}")
    if steps < 2:
        raise ValueError(f"--steps must be at least 2 (the two ends), got {steps}")
    num_frames = config.num_frames if num_frames is None else num_frames
    if num_frames <= 0:
        raise ValueError(f"--num_frames must be positive, got {num_frames}")
    _, trainer = restore_trainer(workdir)
    appearance = trainer.latents.appearance.numpy()[[names.index(name) for name in clip_names]]
    weights = np.linspace(0.0, 1.0, steps)[:, None]
    interpolated = (1 - weights) * appearance[0] + weights * appearance[1]
    rng = np.random.default_rng(seed)
    chunks = -(-num_frames // config.chunk_length)
    noise = np.repeat(rng.standard_normal((1, chunks * config.chunk_length, config.noise_dim)), steps, axis=0)
    initial_state = np.repeat(rng.standard_normal((1, config.state_dim)), steps, axis=0)
    motion = None
    if trainer.latents.motion is not None:  # The motion type of clip A for every step.
        motion = np.repeat(trainer.latents.motion.numpy()[[names.index(clip_names[0])]], steps, axis=0)
    videos = trainer.synthesize(steps, num_frames, seed, appearance=interpolated.astype(np.float32),
                                motion=motion, initial_state=initial_state.astype(np.float32),
                                noise=noise.astype(np.float32), num_groups=1)
    name = f"interpolate_{clip_names[0]}_{clip_names[1]}"
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), writers.side_by_side(list(videos))),
             writers.write_mp4(run.sample_path(f"{name}.mp4"), writers.side_by_side(list(videos)))]
    every = max(1, num_frames // 10)
    paths.append(writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(list(videos), every)))
    print(f"{steps} appearances from {clip_names[0]} to {clip_names[1]}, one ξ and s_0 (seed {seed}); "
          f"wrote {', '.join(paths)}")
    return paths


def sample_action(workdir, num_frames, seed=0):
    """`--mode sample` for an action run: new motions for every training appearance (Figure 3 layout)."""
    run, config = _action_run(workdir)
    names = _read_clips(run)["training"]
    num_frames = config.num_frames if num_frames is None else num_frames
    if num_frames <= 0:
        raise ValueError(f"--num_frames must be positive, got {num_frames}")
    _, trainer = restore_trainer(workdir)
    vectors = trainer.latents.clip_vectors()
    motion = vectors["motion"].numpy() if "motion" in vectors else None
    samples = _new_motions(trainer, vectors["appearance"].numpy(), motion, num_frames, seed)
    rows = [[samples[k, i] for k in range(FIGURE3_MOTIONS)] for i in range(len(names))]
    name = f"sample_{num_frames}f_seed{seed}"
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), writers.grid(rows))]
    print(f"new motions for {len(names)} appearances; wrote {', '.join(paths)}")
    return paths


# ---- animating a static image: the conditional dynamic generator (§4.5, Eq. 15-17, Figure 7) ----------------------

REFERENCE_FILE = "reference_first_frames.npy"
# Videos per evaluation clip (best of K and mean over K), and predicted frames in a Figure-7 strip.
ANIMATE_EVAL_SAMPLES = 5
FIGURE7_FRAMES = 6


def prediction_errors(predicted, clips):
    """MSE of predicted frames against the true continuation, per clip: best of the K samples, mean over them,
    and the copy baseline (x_0 repeated), over all predicted frames and over the first `FIGURE7_FRAMES`.

    Args:
      predicted: [clips, K, frames, h, w, 3]; clips: list of `Clip` holding x_0 and the true frames.
    """
    rows = {}
    for clip, samples in zip(clips, predicted):
        truth, first = clip.frames[1:], clip.frames[0]
        row = {}
        for label, horizon in (("", len(truth)), (f"_first{FIGURE7_FRAMES}", FIGURE7_FRAMES)):
            per_sample = np.mean(np.square(samples[:, :horizon] - truth[None, :horizon]), axis=(1, 2, 3, 4))
            row[f"best_of_k{label}"] = float(per_sample.min())
            row[f"mean_over_k{label}"] = float(per_sample.mean())
            row[f"copy_first_frame{label}"] = float(np.mean(np.square(truth[:horizon] - first[None])))
        rows[clip.name] = row
    return rows


def write_figure7(run, name, clips, predicted):
    """Figure 7: per clip, the static image then `FIGURE7_FRAMES` predicted frames (one row per sample shown), and
    the true frames; a GIF of the true clip beside its animations."""
    strip_rows, gif_rows = [], []
    for clip, samples in zip(clips, predicted):
        for sample in samples[:2]:
            strip_rows.append(np.concatenate([clip.frames[:1], sample[:FIGURE7_FRAMES]]))
        strip_rows.append(clip.frames[:FIGURE7_FRAMES + 1])
        gif_rows.append([clip.frames] + [np.concatenate([clip.frames[:1], sample]) for sample in samples[:3]])
    return [writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(strip_rows, every=1)),
            writers.write_gif(run.sample_path(f"{name}.gif"), writers.grid(gif_rows))]


def train_animate(config, workdir=None):
    """AAAI'19 §4.5: learns E_γ, F_α, G_β jointly from clips, then animates first frames it did not train on.

    Evaluates on the held-out clips (`--num_held_out`; the training clips when there are none): prediction MSE
    of `ANIMATE_EVAL_SAMPLES` animations of each first frame against the true continuation (best of K, mean over
    K) beside the copy-the-first-frame baseline. Writes `metrics.json`, `samples/figure7*` and
    `reference_first_frames.npy` (training x_0's, the batch company of `--mode animate`).

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clips = sources.load_clips(config.data, config.num_frames + 1, config.image_size, config.seed)
    if len(clips) < 2:
        raise ValueError(f"--data {config.data} holds one clip; --experiment animate learns from several clips "
                         f"(a folder of videos)")
    training, held_out = split_held_out(clips, config)
    run = runs.RunDirectory(workdir or default_clips_workdir(config))
    run.prepare(config)
    _write_clips_file(run, training, held_out)
    reference = np.stack([clip.frames[0] for clip in training[:config.batch_size or len(training)]])
    np.save(os.path.join(run.path, REFERENCE_FILE), reference)
    trainer = AnimationTrainer(config, np.stack([clip.frames for clip in training]))
    loop_metrics = run_training(trainer, run, f"animate {sources.data_name(config.data)}")
    train_mse = _mse_per_clip(trainer.reconstruct(), [dataclasses.replace(c, frames=c.frames[1:]) for c in training])
    evaluated = held_out or training
    predicted = trainer.animate(np.stack([clip.frames[0] for clip in evaluated]), config.num_frames,
                                ANIMATE_EVAL_SAMPLES, config.seed, reference)
    errors = prediction_errors(predicted, evaluated)
    summary = {key: float(np.mean([row[key] for row in errors.values()])) for key in next(iter(errors.values()))}
    paths = write_figure7(run, "figure7_held_out" if held_out else "figure7_training", evaluated[:4], predicted[:4])
    result = dict(run.read_metrics(), **loop_metrics, data=config.data, num_training_clips=len(training),
                  recon_mse=float(np.mean(list(train_mse.values()))), evaluated_on="held_out" if held_out else
                  "training", eval_samples=ANIMATE_EVAL_SAMPLES, prediction_mse=summary,
                  prediction_mse_per_clip=errors)
    run.write_metrics(result)
    print(f"{len(training)} training clips, reconstruction MSE {result['recon_mse']:.4f}; prediction MSE on "
          f"{len(evaluated)} {result['evaluated_on']} clips: best of {ANIMATE_EVAL_SAMPLES} "
          f"{summary['best_of_k']:.4f}, mean {summary['mean_over_k']:.4f}, copy first frame "
          f"{summary['copy_first_frame']:.4f}; wrote {', '.join(paths)}")
    return run.path, result


def animate_image(workdir, image, num_frames=None, num_samples=3, seed=0):
    """`--mode animate`: any image file, resized and scaled as in training, into `num_samples` videos.

    Writes `samples/animate_<image>_seed<S>.gif` (the image beside its animations) and a Figure-7 strip (the
    image, then `FIGURE7_FRAMES` predicted frames, one row per video).

    Returns:
      list of written paths.
    """
    if not workdir:
        raise ValueError("--mode animate needs --workdir, the directory of a trained --experiment animate run")
    run = runs.RunDirectory(workdir)
    config = runs.config_from_dict(configs.TextureConfig, run.read_config_dict())
    if config.experiment != "animate":
        raise ValueError(f"--workdir {workdir} holds a {config.experiment!r} run; --mode animate needs an "
                         f"--experiment animate run")
    if not image:
        raise ValueError("--mode animate needs --image, the image file to animate")
    num_frames = config.num_frames if num_frames is None else num_frames
    if num_frames <= 0 or num_samples <= 0:
        raise ValueError(f"--num_frames and --num_samples must be positive, got {num_frames} and {num_samples}")
    frame = video_io.normalize_frames(video_io.read_image(image, config.image_size)[None])[0]
    _, trainer = restore_trainer(workdir)
    reference = np.load(os.path.join(run.path, REFERENCE_FILE))
    videos = trainer.animate(frame[None], num_frames, num_samples, seed, reference)[0]
    name = f"animate_{os.path.splitext(os.path.basename(image))[0]}_seed{seed}"
    rows = [np.concatenate([frame[None], video[:FIGURE7_FRAMES]]) for video in videos]
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"),
                               writers.side_by_side([np.concatenate([frame[None], video]) for video in videos])),
             writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(rows, every=1))]
    print(f"{num_samples} videos of {num_frames} frames from {image}; wrote {', '.join(paths)}")
    return paths


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A paper experiment as `main.py` sees it: its config class, presets, and one runner per `--mode`.

    A runner is called as `runner(config, workdir, options)`: `config` is the resolved preset (train modes) or
    None (modes that read the run's own config from `workdir`), `options` the non-config flags as a dict.

    `export` is the hook of `--mode export` (common/export.py): `export(run_directory, stored_config_dict)`
    returns `(tf.Module, {signature name: tf.function})` for a trained run; None when the experiment has none.
    """
    name: str
    config_class: type
    presets: dict
    modes: dict
    export: object = None

    def mode_names(self):
        return sorted(self.modes) + (["export"] if self.export is not None else [])


def _train_texture_mode(config, workdir, options):
    if options.get("more_data"):
        raise ValueError(f"unexpected arguments {' '.join(options['more_data'])}: --experiment texture learns "
                         f"from one --data; --experiment texture_eval takes several")
    if config.method == "lds":
        return train_lds(config, workdir, _lds_config_from(options))
    return train_texture(config, workdir)


def _sample_length(options):
    """--num_frames of --mode sample: 120 when not given (0 and negatives are errors, not the default)."""
    return 120 if options["num_frames"] is None else options["num_frames"]


def _sample_texture_mode(config, workdir, options):
    if not workdir:
        raise ValueError("--mode sample needs --workdir, the directory of a trained run")
    if _is_lds_run(workdir):
        if options.get("stream"):
            raise ValueError(f"--stream is for dynamic generator runs; {workdir} holds an LDS run: drop --stream")
        return sample_lds(workdir, _sample_length(options), options["num_samples"], options["sample_seed"],
                          options["burn_in"])
    return sample_texture(workdir, _sample_length(options), options["num_samples"], options["sample_seed"],
                          options["burn_in"], stream=options.get("stream", False))


def _recover_mode(config, workdir, options):
    return run_recovery(config, workdir)


def _recover_new_mode(config, workdir, options):
    if not workdir:
        raise ValueError("--mode recover_new needs --workdir, the directory of a trained recover run")
    overrides = {name: options[name] for name in ("energy_scale", "langevin_step_size", "seed")
                 if options[name] is not None}
    return recover_new_clip(workdir, options["data"], options["mask"], options["mask_type"],
                            options["inference_iterations"], overrides)


def _recover_table_mode(config, workdir, options):
    return recovery_table(config, workdir, tuple(options["table_methods"]))


def _train_action_mode(config, workdir, options):
    return train_action(config, workdir, options["inference_iterations"])


def _sample_action_mode(config, workdir, options):
    if options.get("stream"):
        raise ValueError("--stream is for texture, recover and inpaint runs; an action run's --mode sample writes "
                         "the Figure-3 layout: drop --stream")
    return sample_action(workdir, options["num_frames"], options["sample_seed"])


def _infer_action_mode(config, workdir, options):
    return infer_new_clips(workdir, options["data"], options["inference_iterations"])


def _interpolate_mode(config, workdir, options):
    # `--clips A,B` or `--clips A B` (absl leaves B among the positional arguments).
    clips = list(options["clips"] or ()) + list(options["more_data"])
    return interpolate(workdir, clips, options["steps"], options["sample_seed"], options["num_frames"])


def _train_animate_mode(config, workdir, options):
    return train_animate(config, workdir)


def _animate_mode(config, workdir, options):
    return animate_image(workdir, options["image"], options["num_frames"], options["num_samples"],
                         options["sample_seed"])


EXPERIMENTS = {
    "texture": Experiment("texture", configs.TextureConfig, configs.PRESETS["texture"],
                          {"train": _train_texture_mode, "sample": _sample_texture_mode}, export=export_texture),
    "texture_eval": Experiment("texture_eval", configs.TextureConfig, configs.PRESETS["texture"],
                               {"train": _texture_eval_mode}),
    # A recover / inpaint run's generator is the texture model: the same sampler serves it.
    "recover": Experiment("recover", configs.TextureConfig, configs.PRESETS["recover"],
                          {"train": _recover_mode, "recover_new": _recover_new_mode, "table": _recover_table_mode,
                           "sample": _sample_texture_mode},
                          export=export_texture),
    "inpaint": Experiment("inpaint", configs.TextureConfig, configs.PRESETS["inpaint"],
                          {"train": _recover_mode, "recover_new": _recover_new_mode, "sample": _sample_texture_mode},
                          export=export_texture),
    "action": Experiment("action", configs.TextureConfig, configs.PRESETS["action"],
                         {"train": _train_action_mode, "sample": _sample_action_mode, "infer": _infer_action_mode,
                          "interpolate": _interpolate_mode}, export=export_action),
    "animate": Experiment("animate", configs.TextureConfig, configs.PRESETS["animate"],
                          {"train": _train_animate_mode, "animate": _animate_mode}, export=export_animate),
    # Figure 4 on a trained action run (`--workdir`); no preset: everything comes from the run.
    "interpolate": Experiment("interpolate", configs.TextureConfig, {}, {"train": _interpolate_mode}),
}
