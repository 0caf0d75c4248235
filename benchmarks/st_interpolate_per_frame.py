"""Where a Table 1 run loses to the simple baselines (not a test): its error per blocked frame, by distance to the
nearest visible frame, beside LHD, temporal linear interpolation and the nearest visible frame.

    python benchmarks/st_interpolate_per_frame.py LABEL=RUN_DIR ...

Each RUN_DIR is a finished `st_interpolate` run (one cell of `--mode table`, e.g. TABLE/fire/frame_blocks_abp). The
script rebuilds the run's segment and mask from its config, restores its last checkpoint, recovers the blocked
frames as the run did (and checks the error equals the one the run stored), and prints, per run:

- the mean absolute error (pixels in [-1, 1]) over the blocked frames at distance 1, 2, ... from the nearest visible
  frame, for the model, LHD, linear interpolation and the nearest frame;
- the model's own reconstruction error over the *visible* frames (mean absolute, the same scale): the floor of what
  its decoder reproduces of frames it was shown, against which a blocked-frame error can be read.
"""

import dataclasses
import os
import sys

import numpy as np
from absl import app

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from abp_video import startup  # noqa: E402
from benchmarks import curves  # noqa: E402

startup.import_tensorflow_quietly().get_logger().setLevel("ERROR")  # Each run is its own trace: no retracing notes.
from abp_video import metrics, runs  # noqa: E402
from st_generator import configs  # noqa: E402
from st_generator.experiments.base import (FRAME_BASELINES, heat_diffusion, load_segments, per_segment,  # noqa: E402
                                           segment_masks)
from st_generator.restore import build_trainer  # noqa: E402


def distance_to_visible(frame_visible):
    """Per frame: 0 for a visible frame, else the number of frames to the nearest visible one."""
    visible_frames = np.flatnonzero(frame_visible)
    return np.array([np.abs(visible_frames - index).min() for index in range(len(frame_visible))])


def per_distance(filled, original, frame_visible, distances):
    """{distance: mean |filled − original| over the blocked frames at that distance}, [-1, 1] scale."""
    error = np.abs(filled - original).mean(axis=(2, 3, 4))  # [segments, frames]
    return {int(d): float(error[:, (distances == d) & ~frame_visible].mean()) for d in np.unique(distances) if d}


def analyse(label, workdir):
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.STConfig)
    _, segments = load_segments(dataclasses.replace(config, max_segments=1))
    visible = segment_masks(config.mask_type, segments.shape, config.seed)
    trainer = build_trainer(config, segments, visible)
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}")
    recovered = trainer.recover()
    reconstructed = trainer.reconstruct()
    frame_visible = visible[0, :, 0, 0, 0] > 0
    if any(not np.array_equal(mask[:, 0, 0, 0] > 0, frame_visible) for mask in visible):
        raise ValueError(f"{workdir}: its segments' masks block different frames; this script reads one frame mask")
    distances = distance_to_visible(frame_visible)
    stored = metrics.stored_error(run.read_metrics(), scale="unit")
    mine = float(np.abs(recovered - segments)[visible == 0].mean())
    fills = {"model": recovered, "LHD": heat_diffusion(segments, visible)}
    fills.update({name: per_segment(fill, segments, visible) for name, fill in FRAME_BASELINES.items()})
    table = {name: per_distance(filled, segments, frame_visible, distances) for name, filled in fills.items()}
    floor = float(np.abs(reconstructed - segments)[visible > 0].mean())
    print(f"\n{label}: {workdir}\n  blocked frames {np.flatnonzero(~frame_visible).tolist()}; error recomputed "
          f"{mine:.4f} (stored {stored:.4f}); the model's error on the visible frames {floor:.4f}")
    steps = sorted(table["model"])
    counts = {d: int(((distances == d) & ~frame_visible).sum()) for d in steps}
    print("  | distance to a visible frame (frames blocked) | " + " | ".join(table) + " |")
    print("  | --- |" + " --- |" * len(table))
    for d in steps:
        print(f"  | {d} ({counts[d]}) | " + " | ".join(f"{table[name][d]:.4f}" for name in table) + " |")
    overall = {name: float(np.abs(filled - segments)[visible == 0].mean()) for name, filled in fills.items()}
    print("  | all | " + " | ".join(f"{overall[name]:.4f}" for name in table) + " |")
    return dict(label=label, stored=stored, recomputed=mine, visible_floor=floor, per_distance=table, overall=overall)


def main(argv):
    for label, workdir in curves.labelled_runs(argv[1:], "finished st_interpolate runs"):
        analyse(label, workdir)


if __name__ == "__main__":
    app.run(main)
