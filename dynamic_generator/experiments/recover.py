"""AAAI'19 §4.3-4.4: learning from incomplete videos (recovery, Table 2) and content removal (inpainting)."""

import dataclasses
import os

import numpy as np

from abp_video.baselines import recovery as recovery_baselines
from abp_video.baselines.stgcn import STGCN, STGCNRecoveryTrainer
from abp_video import metrics, registry, runs
from abp_video.loop import run_training
from abp_video.data import masks, sources, video_io, writers
from dynamic_generator import configs, export
from dynamic_generator.experiments.texture import SAMPLE
from dynamic_generator.train import RecoveryTrainer

SHARED_RECOVERY_DATASET = os.path.join(runs.shared_video_root(), "recovery_dataset")

def _mask_source(config):
    """The mask file, or `generated:<type>`, as metrics.json records it."""
    return config.incomplete.mask or f"generated:{config.incomplete.mask_type}"


def _mask_name(config):
    part = config.incomplete
    return os.path.splitext(os.path.basename(os.path.normpath(part.mask)))[0] if part.mask else part.mask_type

def default_recovery_workdir(config, root=None):
    """`checkpoints/<experiment>/<data>_<mask>_<method>_<preset>`."""
    root = root or runs.default_root()
    return os.path.join(root, config.experiment,
                        f"{sources.data_name(config.data)}_{_mask_name(config)}_{config.method}_{config.preset}")

def load_incomplete_clip(config):
    """The clip named by `--data` ([-1, 1], [frames, size, size, 3]) and its `visible` mask of the same shape."""
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    if len(clips) != 1:
        raise ValueError(f"--data {config.data} holds {len(clips)} clips; recovery and inpainting take one clip "
                         f"(a video file, a frame folder or synthetic:NAME)")
    part = config.incomplete
    visible = masks.load_mask(part.mask, clips[0].frames.shape, part.mask_type, config.seed)
    if visible.all():
        raise ValueError(f"the mask {part.mask or part.mask_type} occludes nothing in the first "
                         f"{config.num_frames} frames at {config.image_size}x{config.image_size}; give a mask "
                         f"that marks the pixels to recover (1 or white = occluded)")
    if not visible.any():
        raise ValueError(f"the mask {part.mask or part.mask_type} occludes every pixel of the first "
                         f"{config.num_frames} frames: there is nothing to learn from; give a mask with visible "
                         f"pixels (0 or black = visible)")
    return clips[0], visible

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
    shown = writers.show_occluded(original, visible)
    if config.experiment == "inpaint":
        name, panels = "original_masked_inpainted", [original, shown, recovered]
    else:
        name, panels = "occluded_recovered_original", [shown, recovered, original]
    video = writers.side_by_side(panels)
    every = max(1, len(original) // 10)
    return [writers.write_gif(run.sample_path(f"{name}.gif"), video),
            writers.write_mp4(run.sample_path(f"{name}.mp4"), video),
            writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(panels, every=every))]

class STGCNRecovery(STGCNRecoveryTrainer):
    """STGCN's recovery with its TensorBoard images: occluded | recovered | original | a synthesis chain."""

    def summary_images(self):
        every = max(1, self.original.shape[0] // 10)
        shown = writers.show_occluded(self.original, self.visible_mask)
        return {"samples/occluded_recovered_original_synthesised":
                writers.frame_strip([shown, self.recover(), self.original, self.synthesize()[0]], every=every)}

def run_recovery(config, workdir=None, quiet=False):
    """AAAI'19 §4.3 / §4.4: fills the occluded pixels of one clip by `config.method` and measures the result.

    `dg` learns the dynamic generator from the visible pixels alone (ABPTT with the masked energy, resumable from
    its checkpoints) and fills the holes with G_β(s_t); `stgcn` learns the CVPR'17 energy model and fills them by
    Langevin while it learns (abp_video/baselines/stgcn.py, resumable too); the other baselines fill them directly. Every
    method writes
    `samples/occluded_recovered_original.*` (inpaint: `original_masked_inpainted.*`) and `metrics.json` with
    `recovery_error_255` (mean |recovered − original| over occluded values, [0, 255] scale; `_unit`: the same on
    [-1, 1]) and `recovery_psnr`.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, visible = load_incomplete_clip(config)
    run = runs.RunDirectory(workdir or default_recovery_workdir(config))
    # The trainer refuses bad settings (e.g. --strategy with one clip) before the run directory exists.
    trainer, synthesised = None, []
    if config.method == "dg":
        trainer = RecoveryTrainer(config, clip.frames, visible)
    elif config.method == "stgcn":
        trainer = STGCNRecovery(config, clip.frames, visible)
    run.prepare(config)
    if trainer is not None:
        result = run_training(trainer, run, f"{config.experiment} {clip.name} ({_mask_name(config)})")
        recovered = trainer.recover()
        result = dict(metrics.recovery_metrics(recovered, clip.frames, visible), **result)
        if config.method == "dg":
            result["recon_mse_visible"] = trainer.reconstruction_mse()
        else:  # STGCN's synthesis chains, side by side.
            synthesised = [writers.write_gif(run.sample_path("synthesised.gif"),
                                             writers.side_by_side(list(trainer.synthesize())))]
    else:
        stopwatch = runs.Stopwatch()
        stopwatch.start()
        recovered, alternatives, extra = _baseline(config.method, visible * clip.frames, visible, config.seed)
        seconds = stopwatch.stop()
        result = dict(metrics.recovery_metrics(recovered, clip.frames, visible), **extra, seconds=seconds)
        for name, estimate in alternatives.items():
            result.update(metrics.recovery_metrics(estimate, clip.frames, visible, prefix=f"{name}_"))
    paths = _write_recovery(run, config, clip.frames, visible, recovered) + synthesised
    result.update(clip=clip.name, data=clip.source, mask=_mask_source(config), method=config.method)
    run.write_metrics(result)
    if not quiet:
        print(f"{clip.name} ({_mask_name(config)}), {config.method}: recovery error {result['recovery_error_255']:.2f} "
              f"on [0, 255], PSNR {result['recovery_psnr']:.2f} dB over occluded pixels; wrote {', '.join(paths)}")
    return run.path, result

def recover_new_clip(config, workdir, num_iterations=100):
    """Recovers the occluded pixels of a new clip with a trained, frozen `recover` model (§4.3).

    Only the latents are inferred, by `num_iterations` Langevin sweeps from their prior; the weights stay as
    trained. Writes `<workdir>/recover_new/<clip>_<mask>_seed<S>_<energy scale>_step<δ>/` with the usual
    clips and metrics.json.

    Args:
      config: the trained run's config with the new clip (`data`) and any of the mask, `energy_scale`,
        `langevin_step_size` and `seed` given for the inference (the run's own otherwise).
      workdir: a trained `--experiment recover` (or inpaint) run with `--method dg`.
      num_iterations: Langevin sweeps (each `num_langevin_steps` steps per chunk).

    Returns:
      (output directory, metrics dict).
    """
    if num_iterations <= 0:
        raise ValueError(f"--inference_iterations must be positive, got {num_iterations}")
    if config.experiment not in ("recover", "inpaint") or config.method != "dg":
        raise ValueError(f"--workdir {workdir} holds a {config.experiment!r} run with method {config.method!r}; "
                         f"--mode recover_new needs a trained `--experiment recover --method dg` run")
    trained = runs.RunDirectory(workdir)
    clip, visible = load_incomplete_clip(config)
    trainer = RecoveryTrainer(config, clip.frames, visible)
    trainer.restore_frozen(trained.checkpoint_dir)
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
                  mask=_mask_source(config), method="dg (frozen, inference only)",
                  inference_iterations=num_iterations, seconds_per_iteration=stopwatch.seconds_per_iteration(),
                  recon_mse_visible=trainer.reconstruction_mse(), energy_scale=config.energy_scale,
                  langevin_step_size=config.langevin_step_size)
    paths = _write_recovery(run, config, clip.frames, visible, recovered)
    run.write_metrics(result)
    print(f"{clip.name} ({_mask_name(config)}), frozen model from {workdir}: recovery error "
          f"{result['recovery_error_255']:.2f}, PSNR {result['recovery_psnr']:.2f} dB; wrote {', '.join(paths)}")
    return run.path, result


# ---- Table 2 -------------------------------------------------------------------------------------------------------

TABLE_METHODS = ("dg", "stgcn", "mrf_l1", "mrf_l2", "lhd", "linear")

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
        columns.append((method, method, ""))
        if method.startswith("mrf_"):
            columns.append((f"{method}_avg", method, "average_of_samples_"))  # The key's prefix.
    return columns + [("zeros", None, "zeros")]

def _stored_error(stored, prefix):
    """A column's error on [0, 255]; the MRF's average of samples was stored as `recovery_error_average_of_samples`
    before the keys named their scale."""
    value = metrics.stored_error(stored, prefix)
    return stored.get(f"recovery_error_{prefix.rstrip('_')}") if value is None and prefix else value

def format_table(rows, methods):
    """Table 2's layout: one row per clip x mask, one column per method (recovery error, [0, 255])."""
    columns = _table_columns(methods)
    header = f"{'clip':<18}{'mask':<16}" + "".join(f"{name:>11}" for name, _, _ in columns)
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = "".join(f"{row['errors'].get(name, float('nan')):>11.2f}" for name, _, _ in columns)
        lines.append(f"{row['clip']:<18}{row['mask']:<16}{cells}")
    return "\n".join(lines)

# What a baseline's result depends on: its finished run is read back by a table with other learning settings
# (e.g. `--iterations 2000 --mixed_precision` for the dynamic generator's cell). STGCN learns, so its result also
# depends on its own iteration count; the dynamic generator's on every setting.
_BASELINE_SETTINGS = ("experiment", "data", "seed", "image_size", "num_frames", "incomplete", "method")
_RESULT_SETTINGS = {"stgcn": _BASELINE_SETTINGS + ("num_iterations",)}


def _finished(run, case):
    """The metrics of the finished run in `run` if it is the run `case` asks for, else None."""
    stored = run.read_metrics() if run.exists() else {}
    if metrics.stored_error(stored) is None:
        return None
    config = run.read_config(configs.DynamicGeneratorConfig)
    if case.method == "dg":
        return stored if config == case else None
    settings = _RESULT_SETTINGS.get(case.method, _BASELINE_SETTINGS)
    return stored if all(getattr(config, name) == getattr(case, name) for name in settings) else None


def recovery_table(config, workdir=None, methods=TABLE_METHODS, dataset=SHARED_RECOVERY_DATASET,
                   textures=("fire", "water"), cases=None, stgcn_iterations=STGCN.table_iterations):
    """Table 2 for the shared recovery clips with the authors' masks and for the built-in synthetic clips.

    Every (clip, mask, method) is one run directory under `workdir`, so a stopped table resumes: finished
    baselines are read back, the dynamic generator resumes from its checkpoint. Baselines run first.
    `cases` (names `<clip>_<mask>`, e.g. `fountain_region`) keeps only those rows. STGCN runs
    `stgcn_iterations` (its reference code's budget), the dynamic generator `config.num_iterations`. Writes
    `table.json` and prints the table.

    Returns:
      list of rows {clip, mask, data, mask_file, errors: {column: recovery error}}.
    """
    unknown = sorted(set(methods) - set(TABLE_METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {TABLE_METHODS}")
    workdir = workdir or os.path.join(runs.default_root(), config.experiment, f"table_{config.preset}")
    every_case = table_cases(dataset, textures)
    if not os.path.isdir(dataset):
        print(f"note: {dataset} not found; the table has the synthetic clips only")
    names = [f"{name}_{label}" for name, _, _, label in every_case]
    unknown = sorted(set(cases or ()) - set(names))
    if unknown:
        raise ValueError(f"--table_cases: no row {unknown} in this table; choose from {names}")
    selected = [case for case, case_name in zip(every_case, names) if not cases or case_name in cases]
    results = {}
    order = sorted(methods, key=lambda method: method == "dg")  # The slow one last.
    for method in order:
        for name, data, mask, label in selected:
            case = dataclasses.replace(config, data=data, method=method,
                                       incomplete=configs.IncompleteConfig(mask, label)).validate()
            if method == "stgcn":  # Its own budget: the reference code's epochs (abp_video/baselines/stgcn.py).
                case = dataclasses.replace(case, num_iterations=stgcn_iterations)
            run = runs.RunDirectory(os.path.join(workdir, f"{name}_{label}", method))
            stored = _finished(run, case)
            if stored is None:
                stored = run_recovery(case, run.path)[1]
            results[(name, label, method)] = stored
            print(f"{name} {label} {method}: {metrics.stored_error(stored):.2f}", flush=True)
    rows = []
    for name, data, mask, label in selected:
        clip, visible = load_incomplete_clip(dataclasses.replace(config, data=data,
                                                                 incomplete=configs.IncompleteConfig(mask, label)))
        errors = {"zeros": metrics.recovery_error(visible * clip.frames, clip.frames, visible)}
        for column, method, prefix in _table_columns(methods):
            if method is not None:
                errors[column] = _stored_error(results[(name, label, method)], prefix)
        rows.append(dict(clip=name, mask=label, data=data, mask_file=mask or f"generated:{label}", errors=errors,
                         occluded_fraction=float(np.mean(visible == 0))))
    table = format_table(rows, methods)
    runs.write_json_atomic(os.path.join(workdir, "table.json"), {
        "preset": config.preset, "image_size": config.image_size, "num_frames": config.num_frames,
        "num_iterations": config.num_iterations, "stgcn_iterations": stgcn_iterations,
        "metric": "recovery_error_255: mean |recovered - original| over occluded values, [0, 255] scale", "rows": rows,
        "paper_fountain_region_missing_frames": PAPER_FOUNTAIN})
    print(f"\nRecovery error on [0, 255] over occluded pixels ({config.preset} preset: {config.image_size}x"
          f"{config.image_size}, {config.num_frames} frames, {config.num_iterations} iterations for dg, "
          f"{stgcn_iterations} for stgcn; "
          f"_avg = average of MRF samples, zeros = holes left at 0)\n{table}")
    print("Paper, fountain 150x150 (region / missing frames): " + ", ".join(
        f"{method} {region:.2f} / {missing:.2f}" for method, (region, missing) in PAPER_FOUNTAIN.items()))
    print(f"wrote {os.path.join(workdir, 'table.json')}")
    return rows


def _train_mode(config, workdir, options):
    return run_recovery(config, workdir)


def _recover_new_mode(config, workdir, options):
    return recover_new_clip(config, workdir, options["inference_iterations"])


def _table_mode(config, workdir, options):
    return recovery_table(config, workdir, tuple(options["table_methods"] or TABLE_METHODS), cases=options["table_cases"])


# On a trained run, --mode recover_new takes a new clip and may change these settings for its inference.
RECOVER_NEW = registry.Mode(_recover_new_mode, options=("inference_iterations",),
                            settings=("data", "mask", "mask_type", "energy_scale", "langevin_step_size", "seed"),
                            required={"data": "the new clip to recover"})

for _name, _paper, _table in (("recover", "AAAI'19 §4.3, Table 2", True), ("inpaint", "AAAI'19 §4.4", False)):
    registry.register(registry.Experiment(
        name=_name, paper=_paper, config_class=configs.DynamicGeneratorConfig, presets=configs.PRESETS[_name],
        family="texture", resolve=configs.resolve, docs="docs/recover.md", export=export.export_texture,
        modes={"train": registry.Mode(_train_mode, trains=True), "recover_new": RECOVER_NEW, "sample": SAMPLE,
               **({"table": registry.Mode(_table_mode, trains=True, options=("table_methods", "table_cases"))}
                  if _table else {})}))
