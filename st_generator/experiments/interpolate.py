"""WACV'19 §4.2, Table 1: Model-2 learns one clip with blocked frames and fills them in, beside LHD."""

import dataclasses
import os

from abp_video import configs, metrics, registry, runs
from st_generator import configs as st_configs, export, paper
from st_generator.experiments.base import (FRAME_BASELINES, cell, default_workdir, errors, finished,
                                           frame_baseline_errors, heat_diffusion, load_segments, segment_masks,
                                           selected_clips, table_clips, train, write_recovery, write_table)

def run_interpolation(config, workdir=None, quiet=False):
    """Table 1: Model-2 learns one clip with blocked frames (training-time masked energy) and fills them in.

    `mask_type` is `middle_frames` (8 consecutive frames in the middle) or `frame_blocks` (3 blocks of 3 frames at
    random places). The error is the mean absolute difference over occluded pixels in [-1, 1] (the paper's scale;
    `recovery_error_unit`; on [0, 255] `recovery_error_255`); LHD, temporal linear interpolation and the nearest visible frame beside it
    (`lhd_`, `linear_`, `nearest_` keys).

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clip, segments = load_segments(dataclasses.replace(config, max_segments=1))
    visible = segment_masks(config.mask_type, segments.shape, config.seed)
    run = runs.RunDirectory(workdir or default_workdir(config))
    trainer, loop = train(config, run, segments, visible, f"st_interpolate {clip.name} ({config.mask_type})",
                          original=segments)
    recovered, lhd = trainer.recover(), heat_diffusion(segments, visible)
    result = dict(loop, **errors("", recovered, segments, visible), **errors("lhd_", lhd, segments, visible),
                  clip=clip.name, data=clip.source, mask=config.mask_type, init=config.init,
                  normalization_statistics=config.normalization_statistics)
    result.update(frame_baseline_errors(segments, visible))
    paths = write_recovery(run, "occluded_recovered_lhd_original", segments, visible, recovered, lhd)
    run.write_metrics(result)
    if not quiet:
        print(f"{clip.name} ({config.mask_type}), {config.init}: error {result['recovery_error_unit']:.4f} on "
              f"[-1, 1] over occluded pixels (LHD {result['lhd_recovery_error_unit']:.4f}); wrote {', '.join(paths)}")
    return run.path, result

def interpolation_table(config, workdir=None, clips=None):
    """Table 1 in one command: Model-2 on each clip, both frame masks, ABP and LI-ABP beside LHD, temporal linear
    interpolation and the nearest visible frame (the last two are computed here for runs stored without them).

    Returns:
      list of rows {clip, mask, abp, li, lhd, linear, nearest}.
    """
    workdir = workdir or os.path.join(runs.default_root(), "st_interpolate", f"table_{config.preset}")
    os.makedirs(workdir, exist_ok=True)
    clips = clips if clips is not None else table_clips()
    rows = []
    for name, data in clips:
        for mask in ("middle_frames", "frame_blocks"):
            results = {}
            for init in st_configs.INITS:
                case = dataclasses.replace(config, data=data, mask_type=mask, init=init).validate()
                run = runs.RunDirectory(os.path.join(workdir, name, f"{mask}_{init}"))
                results[init] = finished(run, case) or run_interpolation(case, run.path)[1]
            row = dict(clip=name, mask=mask, abp=metrics.stored_error(results["abp"], scale="unit"),
                       li=metrics.stored_error(results["li"], scale="unit"),
                       lhd=metrics.stored_error(results["abp"], "lhd_", "unit"))
            stored = results["abp"]
            if any(metrics.stored_error(stored, f"{baseline}_") is None for baseline in FRAME_BASELINES):
                stored = _frame_baseline_errors_of(case)  # A run stored before these columns.
            rows.append(dict(row, **{baseline: metrics.stored_error(stored, f"{baseline}_", "unit")
                                     for baseline in FRAME_BASELINES}))
    title = (f"Interpolation error (mean absolute, pixels in [-1, 1]) over occluded frames, Model-2 "
             f"({config.preset} preset: {config.image_size}x{config.image_size}, {config.num_frames} frames, "
             f"{config.num_iterations} iterations; middle_frames = 8 consecutive frames in the middle, frame_blocks = "
             f"3 blocks of 3 frames), then the paper's Table 1 (64x64, its own clips; its 'ours' in the ABP column; "
             f"same kind as ours: {', '.join(f'{theirs} ~ {mine}' for mine, theirs in paper.SAME_KIND.items())})")
    lines = [[row["clip"], row["mask"], cell(row["abp"]), cell(row["li"]), cell(row["lhd"]), cell(row["linear"]),
              cell(row["nearest"])] for row in rows]
    lines += [line + ["–", "–"] for line in paper.table_1_lines()]
    write_table(workdir, title, ["clip", "mask", "ABP", "LI-ABP", "LHD", "linear", "nearest frame"], lines,
                 dict(config=configs.to_dict(config), rows=rows))
    return rows


def _frame_baseline_errors_of(config):
    """`frame_baseline_errors` on the clip and mask of `config` (the run's own mask, drawn from its seed)."""
    _, segments = load_segments(dataclasses.replace(config, max_segments=1))
    return frame_baseline_errors(segments, segment_masks(config.mask_type, segments.shape, config.seed))


def _table_mode(config, workdir, options):
    return interpolation_table(config, workdir, selected_clips(options["data"]))


registry.register(registry.Experiment(
    name="st_interpolate", paper="WACV'19 §4.2, Table 1", config_class=st_configs.STConfig,
    presets=st_configs.PRESETS["st_interpolate"], resolve=st_configs.resolve, docs="docs/st_interpolate.md",
    modes={"train": registry.Mode(lambda config, workdir, options: run_interpolation(config, workdir), trains=True),
           "table": registry.Mode(_table_mode, trains=True, options=("data",))},
    export=export.export_generator))
