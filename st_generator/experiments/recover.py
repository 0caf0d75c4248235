"""WACV'19 §4.2, Tables 2-3: Model-3 recovery at test time and in the training data, ABP / LI-ABP beside LHD and
the VAE, wake-sleep and GAN baselines with the same generator."""

import dataclasses
import os

import numpy as np

from abp_video import configs, metrics, registry, runs
from st_generator import configs as st_configs, export, paper
from st_generator.experiments.base import (cell, default_workdir, errors, finished, heat_diffusion, load_segments,
                                           method_tag, segment_masks, selected_clips, split_segments, table_clips,
                                           train, write_recovery, write_table)

# Column headers of the recovery table, per method.
METHOD_LABELS = {"abp": "ABP", "li_abp": "LI-ABP", "vae": "VAE", "ws": "WS", "gan": "GAN"}

def run_recovery(config, workdir=None, quiet=False):
    """Model-3 recovery by `method` (ABP, LI-ABP or a baseline of st_generator/baselines.py), occlusions at test
    time or in the training data (`stage`). Every method sees the same segments and masks (seeded).

    `test`: learns from the complete training segments (4/5), then recovers the test segments under every mask of
    `test_masks` with the frozen model (200 Langevin steps of δ = 0.05 on the visible pixels). `train`: learns from
    the training segments occluded by `mask_type` (masked energy in inference and learning) and recovers them,
    logging ABP's and LI-ABP's error over the occluded values at every logged iteration (`recovery_error_unit`).
    LHD runs on the same segments and masks. Metrics per mask: `<mask>_recovery_error_unit` ([-1, 1]; `_255`
    on [0, 255]; and `_psnr`), and `<mask>_lhd_recovery_error_unit`.

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
        trainer, loop = train(config, run, train_segments,
                               description=f"st_recover {clip.name} (test, {config.method})")
        cases = [(mask, test_segments, segment_masks(mask, test_segments.shape, config.seed + 1))
                 for mask in config.test_mask_types]
        for mask, original, visible in cases:
            recovered = trainer.recover_frozen(original, visible, seed=config.seed)
            lhd = heat_diffusion(original, visible)
            result.update(errors(f"{mask}_", recovered, original, visible),
                          **errors(f"{mask}_lhd_", lhd, original, visible))
            paths += write_recovery(run, f"{mask}_occluded_recovered_lhd_original", original, visible, recovered,
                                     lhd)
        result["recon_mse_train"] = float(np.mean(np.square(trainer.reconstruct() - train_segments)))
    else:
        visible = segment_masks(config.mask_type, train_segments.shape, config.seed)
        trainer, loop = train(config, run, train_segments, visible,
                               f"st_recover {clip.name} (train, {config.method}, {config.mask_type})",
                               original=train_segments)
        recovered, lhd = trainer.recover(), heat_diffusion(train_segments, visible)
        result.update(errors(f"{config.mask_type}_", recovered, train_segments, visible),
                      **errors(f"{config.mask_type}_lhd_", lhd, train_segments, visible))
        paths += write_recovery(run, f"{config.mask_type}_occluded_recovered_lhd_original", train_segments, visible,
                                 recovered, lhd)
    result.update(loop)
    # The budget each method got: ABP spends l Langevin passes and one update per iteration, the baselines
    # `updates_per_iteration` updates.
    result["generator_updates_per_iteration"] = (
        config.updates_per_iteration if config.method in st_configs.BASELINES else 1)
    result["langevin_steps_per_iteration"] = {"abp": config.num_langevin_steps,
                                              "li_abp": config.li_langevin_steps}.get(config.method, 0)
    run.write_metrics(result)
    if not quiet:
        masks_done = config.test_mask_types if config.stage == "test" else (config.mask_type,)
        summary = ", ".join(f"{mask} {result[f'{mask}_recovery_error_unit']:.4f} (LHD "
                            f"{result[f'{mask}_lhd_recovery_error_unit']:.4f})" for mask in masks_done)
        print(f"{clip.name}, {config.stage} stage, {config.method}: recovery error on [-1, 1] {summary}; wrote "
              f"{', '.join(paths)}")
    return run.path, result

def selected_methods(names):
    """The recovery-table methods named in `names` (a list or comma-separated; None or empty = all of METHODS)."""
    if not names:
        return st_configs.METHODS
    wanted = [name.strip() for name in (names.split(",") if isinstance(names, str) else names) if name.strip()]
    unknown = [name for name in wanted if name not in st_configs.METHODS]
    if unknown or not wanted:
        raise ValueError(f"--table_methods {','.join(wanted)}: unknown methods {unknown}; choose from {st_configs.METHODS}")
    return tuple(dict.fromkeys(wanted))

STAGES = ("test", "train")


def selected_stages(names):
    """The stages named in `names` (`test` = Table 2, `train` = Table 3; None or empty = both)."""
    wanted = tuple(dict.fromkeys(name.strip() for name in (names or STAGES) if name.strip()))
    unknown = [name for name in wanted if name not in STAGES]
    if unknown or not wanted:
        raise ValueError(f"--table_stages {','.join(wanted)}: unknown stages {unknown}; choose from {STAGES}")
    return wanted

def recovery_table(config, workdir=None, clips=None, methods=st_configs.METHODS, stages=STAGES,
                   baseline_iterations=0):
    """Tables 2-3 in one command: for every clip, every method of `methods` side by side with LHD, per stage and mask.

    Runs (or reads back / resumes) one `test`-stage run per (clip, method) and one `train`-stage run per
    (clip, method, training mask) under `workdir`; the GAN only at the test stage (the paper's Table 3 has none) (`<clip>/<stage>_<abp|li|vae|ws|gan>[_<mask>]`, the names ABP and
    LI-ABP runs always had), all on the same segments and masks; the VAE, wake-sleep and GAN runs make
    `baseline_iterations` iterations (0 = ABP's). Prints a Markdown table and writes `table.json` and `table.md`.

    Returns:
      list of rows {clip, stage, mask, <method>..., lhd, seconds_per_iteration {method: seconds}}.
    """
    workdir = workdir or os.path.join(runs.default_root(), "st_recover", f"table_{config.preset}")
    os.makedirs(workdir, exist_ok=True)
    clips = clips if clips is not None else table_clips()
    train_masks = ("m50", "p20", "b25")
    rows = []
    for name, data in clips:
        for stage, stage_masks in (("test", (None,)), ("train", train_masks)):
            stage_methods = [method for method in methods if stage == "test" or method != "gan"]
            if stage not in stages or not stage_methods:
                continue
            for mask in stage_masks:
                results = {}
                for method in stage_methods:
                    case = dataclasses.replace(config, data=data, stage=stage, method=method,
                                               init="li" if method == "li_abp" else "abp",
                                               mask_type=mask or config.mask_type).validate()
                    if method not in st_configs.BASELINES:  # The baselines' budget flags leave ABP's runs as they are.
                        case = dataclasses.replace(case, baseline_updates=st_configs.STConfig.baseline_updates,
                                                   gan_learning_rate=st_configs.STConfig.gan_learning_rate)
                    elif baseline_iterations:  # Trained until their own curves flatten (docs/st_recover.md).
                        case = dataclasses.replace(case, num_iterations=baseline_iterations)
                    run = runs.RunDirectory(os.path.join(
                        workdir, name, f"{stage}_{method_tag(case)}" + (f"_{mask}" if mask else "")))
                    results[method] = finished(run, case) or run_recovery(case, run.path)[1]
                first = results[stage_methods[0]]
                for shown in (config.test_mask_types if stage == "test" else (mask,)):
                    rows.append(dict(clip=name, stage=stage, mask=shown,
                                     **{method: metrics.stored_error(results[method], f"{shown}_", "unit")
                                        if method in results else None for method in methods},
                                     lhd=metrics.stored_error(first, f"{shown}_lhd_", "unit"),
                                     seconds_per_iteration={method: results[method]["seconds_per_iteration"]
                                                            for method in results}))
    title = (f"Recovery error (mean absolute, pixels in [-1, 1]) over occluded pixels, Model-3 ({config.preset} preset: "
             f"{config.image_size}x{config.image_size}, segments of {config.num_frames} frames, "
             f"{config.num_iterations} iterations; VAE / WS / GAN: {baseline_iterations or config.num_iterations} "
             f"iterations of {config.updates_per_iteration} generator updates "
             f"per iteration, GAN at the test stage only; test stage: frozen model, {config.recovery_langevin_steps} Langevin steps (VAE / WS: "
             f"imputation passes) on held-out segments; train stage: occluded training segments), then the paper's "
             f"Tables 2 (test) and 3 (train) on its own 64x64 clips, none of which is one of ours")
    lines = [[row["clip"], row["stage"], row["mask"], *(cell(row[method]) for method in methods), cell(row["lhd"])]
             for row in rows]
    for stage in dict.fromkeys(row["stage"] for row in rows):
        lines += paper.recovery_lines(stage, methods)
    write_table(workdir, title, ["clip", "stage", "mask", *(METHOD_LABELS[method] for method in methods), "LHD"],
                 lines, dict(config=configs.to_dict(config), methods=list(methods), rows=rows))
    return rows


def _table_mode(config, workdir, options):
    if options["baseline_iterations"] < 0:
        raise ValueError(f"--baseline_iterations must be 0 (ABP's --iterations) or positive, got "
                         f"{options['baseline_iterations']}")
    return recovery_table(config, workdir, selected_clips(options["data"]), selected_methods(options["table_methods"]),
                          selected_stages(options["table_stages"]), options["baseline_iterations"])


registry.register(registry.Experiment(
    name="st_recover", paper="WACV'19 §4.2, Tables 2-3", config_class=st_configs.STConfig,
    presets=st_configs.PRESETS["st_recover"], resolve=st_configs.resolve, docs="docs/st_recover.md",
    modes={"train": registry.Mode(lambda config, workdir, options: run_recovery(config, workdir), trains=True),
           "table": registry.Mode(_table_mode, trains=True, options=("data", "table_methods", "table_stages",
                                                                             "baseline_iterations"))},
    export=export.export_generator))
