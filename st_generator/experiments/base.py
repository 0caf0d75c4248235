"""What the spatial-temporal experiments share: segments of one clip, their masks, LHD beside every recovery, the
written clips and the Markdown tables."""

import os

import numpy as np

from abp_video.baselines import recovery as recovery_baselines
from abp_video import metrics, runs
from abp_video.loop import run_training
from abp_video.data import masks, sources, writers
from st_generator import configs as st_configs
from st_generator.restore import build_trainer

SHARED_VIDEO = runs.shared_video_root()

# The shared clips with enough frames for several 32-frame segments (250-500 frames each), and a synthetic one.
TABLE_CLIPS = (("fire", os.path.join("dynamicTexture", "fire", "fire.avi")),
               ("flashing_light", os.path.join("dynamicTexture", "flashing_light", "64ce210.avi")),
               ("boiling_water", os.path.join("dynamicTexture", "boiling_water", "55fa210.avi")),
               ("fountain", os.path.join("recovery_dataset", "data", "fountain", "6486110.avi")))

TABLE_SYNTHETIC = (("synthetic_fire", "synthetic:fire"),)

def method_tag(config):
    """The method's part of a run directory name: `abp` / `li` (the names ABP and LI-ABP runs always had), or the
    baseline's name."""
    return config.method if config.method in st_configs.BASELINES else config.init

def default_workdir(config, root=None):
    """`checkpoints/<experiment>/<data>_<what>_<preset>`."""
    root = root or runs.default_root()
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

def per_segment(fill, segments, visible):
    """A baseline `fill(video, visible)` of abp_video/baselines/recovery.py on every segment separately (sees only what is
    visible)."""
    return np.stack([fill(segment * mask, mask) for segment, mask in zip(segments, visible)])


def heat_diffusion(segments, visible):
    """The LHD baseline (WACV'19 §4.2) on every segment separately."""
    return per_segment(recovery_baselines.laplacian_heat_diffusion, segments, visible)


# Table 1's simple baselines beside LHD (not in the paper): what a user would try first on blocked frames.
FRAME_BASELINES = {"linear": recovery_baselines.temporal_linear_interpolation,
                   "nearest": recovery_baselines.nearest_visible_frame}


def frame_baseline_errors(segments, visible):
    """The recovery metrics of `FRAME_BASELINES` on these segments, keys prefixed `linear_` and `nearest_`."""
    result = {}
    for name, fill in FRAME_BASELINES.items():
        result.update(errors(f"{name}_", per_segment(fill, segments, visible), segments, visible))
    return result

def write_recovery(run, name, original, visible, recovered, lhd=None, max_segments=2):
    """occluded | recovered | (LHD |) original, the first segments one after another: GIF, MP4 and strip."""
    def flat(videos):
        return np.concatenate(list(videos[:max_segments]), axis=0)

    shown = writers.show_occluded(original, visible)
    panels = [flat(shown), flat(recovered)] + ([] if lhd is None else [flat(lhd)]) + [flat(original)]
    video = writers.side_by_side(panels)
    every = max(1, len(panels[0]) // 10)
    return [writers.write_gif(run.sample_path(f"{name}.gif"), video),
            writers.write_mp4(run.sample_path(f"{name}.mp4"), video),
            writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(panels, every=every))]

def train(config, run, observed, visible=None, description="", original=None):
    """Builds the method's trainer and runs the loop; `original` (the whole segments) is read only to log the
    recovery error over the occluded values at every logged iteration (ABP and LI-ABP)."""
    trainer = build_trainer(config, observed, visible)  # Refuses bad settings before the run directory exists.
    if original is not None and visible is not None:
        trainer.original = np.asarray(original, np.float32)
    run.prepare(config)
    loop = run_training(trainer, run, description)
    return trainer, loop

def errors(prefix, recovered, original, visible):
    """Recovery metrics: `<prefix>recovery_error_unit` on the WACV paper's scale (the mean absolute difference over
    the occluded values with pixels in [-1, 1], §4), `<prefix>recovery_error_255` on [0, 255], PSNR."""
    return metrics.recovery_metrics(recovered, original, visible, prefix=prefix)

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

def finished(run, config):
    """Metrics of a finished run of exactly this config in `run`, or None."""
    if not run.exists() or not run.read_metrics():
        return None
    stored = run.read_config(st_configs.STConfig)
    return run.read_metrics() if stored == config else None

def cell(value):
    return "–" if value is None else f"{value:.4f}"

def write_table(workdir, title, header, lines, payload):
    table = "\n".join([f"| {' | '.join(header)} |", "|" + " --- |" * len(header)] +
                      [f"| {' | '.join(line)} |" for line in lines])
    runs.write_json_atomic(os.path.join(workdir, "table.json"), dict(payload, title=title, markdown=table))
    with open(os.path.join(workdir, "table.md"), "w") as handle:
        handle.write(f"{title}\n\n{table}\n")
    print(f"\n{title}\n\n{table}\n\nwrote {os.path.join(workdir, 'table.json')}")
    return table
