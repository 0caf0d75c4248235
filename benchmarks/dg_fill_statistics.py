"""What a finished `recover` / `inpaint` run of the dynamic generator put into the occluded pixels (not a test).

    python benchmarks/dg_fill_statistics.py LABEL=RUN_DIR ...

Rebuilds each run's clip and mask from its config, restores its last checkpoint, fills the occluded pixels as the
run did (the recovery error it recomputes is printed beside the stored one), and prints, over the occluded values:
the mean and the spatial standard deviation (per frame, then averaged) of the fill, beside the same of the
original and of temporal linear interpolation's fill. A grey fill (what batch statistics over unobserved positions
produced in WACV Table 1) shows as a spatial standard deviation far below the original's and a mean near 0.
Pixels on [-1, 1].
"""

import os
import sys

import numpy as np
from absl import app

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from abp_video import startup  # noqa: E402
from benchmarks import curves  # noqa: E402

startup.import_tensorflow_quietly().get_logger().setLevel("ERROR")
from abp_video import metrics, runs  # noqa: E402
from abp_video.baselines import recovery as recovery_baselines  # noqa: E402
from dynamic_generator import configs  # noqa: E402
from dynamic_generator.experiments.recover import load_incomplete_clip  # noqa: E402
from dynamic_generator.train import RecoveryTrainer  # noqa: E402


def fill_statistics(video, occluded):
    """(mean, mean over frames of the spatial std) of `video` [frames, h, w, 3] over the `occluded` values."""
    means, spreads = [], []
    for frame, hidden in zip(video, occluded):
        if hidden.any():
            means.append(frame[hidden].mean())
            spreads.append(frame[hidden].std())
    return float(np.mean(means)), float(np.mean(spreads))


def analyse(label, workdir):
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.DynamicGeneratorConfig)
    clip, visible = load_incomplete_clip(config)
    trainer = RecoveryTrainer(config, clip.frames, visible)
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}")
    recovered = trainer.recover()
    original = clip.frames
    linear = recovery_baselines.temporal_linear_interpolation(original * visible, visible)
    occluded = visible == 0
    error = metrics.recovery_metrics(recovered, original, visible)["recovery_error_255"]
    stored = metrics.stored_error(run.read_metrics())
    print(f"\n{label}: {workdir}\n  occluded {occluded.mean():.1%} of the values; recovery error recomputed "
          f"{error:.2f} (stored {stored:.2f}), on [0, 255]")
    print("  | fill | mean | spatial std |\n  | --- | --- | --- |")
    for name, video in (("original", original), ("dynamic generator", recovered), ("linear", linear)):
        mean, spread = fill_statistics(video, occluded)
        print(f"  | {name} | {mean:.4f} | {spread:.4f} |")


def main(argv):
    for label, workdir in curves.labelled_runs(argv[1:], "finished recover / inpaint runs (--method dg)"):
        analyse(label, workdir)


if __name__ == "__main__":
    app.run(main)
