"""Learning curves of spatial-temporal runs as one PNG (not a test): training reconstruction MSE per iteration.

    python benchmarks/st_learning_curves.py --out docs/st_curves_fountain.png --title "..." LABEL=RUN_DIR ...

Reads each run's `history.jsonl` (the `recon_mse` logged every `--log_every` iterations; a GAN logs none) and draws
one line per run (data/writers.curve_plot). Also prints, per run, the value at the last logged iteration and its
relative change over the last fifth of the iterations, the number that says whether a curve has flattened.
A label `PANEL/LABEL` puts the run in plot PANEL (e.g. `fire/ABP=RUN fire/VAE=RUN boiling_water/ABP=RUN ...`):
the panels are tiled two to a row in one PNG. `--baseline PANEL/LABEL=VALUE` draws a model-free baseline's error
as a flat line in its panel.
"""

import os
import sys

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import curves  # noqa: E402
from abp_video.data import writers  # noqa: E402

flags.DEFINE_string("out", None, "PNG to write.", required=True)
flags.DEFINE_string("title", "training reconstruction MSE", "Title of the plot.")
flags.DEFINE_string("key", "recon_mse", "The history column to plot.")
flags.DEFINE_multi_string("baseline", [], "[PANEL/]LABEL=VALUE of a model-free baseline, drawn as a flat line "
                          "across its panel (e.g. fire/LHD=0.1336).")
FLAGS = flags.FLAGS


def main(argv):
    def key_of(rows):  # ST runs logged the blocked-frame error as `recovery_error` before keys named their scale.
        if FLAGS.key == "recovery_error_unit" and not any(FLAGS.key in row for row in rows):
            return "recovery_error"
        return FLAGS.key

    series = {label: curves.logged(rows, key_of(rows))
              for label, rows in curves.labelled_histories(argv[1:]).items()}
    print(f"| run | last iteration | {FLAGS.key} | change over the last fifth |\n| --- | --- | --- | --- |")
    for label, (iterations, values) in series.items():
        if not values:
            print(f"| {label} | – | – | – |")
            continue
        last = values[-1]
        earlier = next((value for iteration, value in zip(iterations, values)
                        if iteration >= 0.8 * iterations[-1]), last)
        print(f"| {label} | {iterations[-1]} | {last:.5f} | {(last - earlier) / earlier:+.1%} |")
    panels = {}
    for label, curve in series.items():
        panel, _, name = label.rpartition("/")
        if curve[1]:
            panels.setdefault(panel, {})[name] = curve
    for entry in FLAGS.baseline:
        label, _, value = entry.partition("=")
        panel, _, name = label.rpartition("/")
        if panel not in panels:
            raise app.UsageError(f"--baseline {entry}: no run in panel {panel!r}")
        span = [iteration for iterations, _ in panels[panel].values() for iteration in iterations]
        panels[panel][name] = ((min(span), max(span)), (float(value), float(value)))
    images = [writers.curve_plot(curves, f"{panel}: {FLAGS.title}" if panel else FLAGS.title, "iteration", FLAGS.key)
              for panel, curves in panels.items()]
    if len(images) % 2 and len(images) > 1:
        images.append(np.full_like(images[0], 255))
    rows = [np.concatenate(images[i:i + 2], axis=1) for i in range(0, len(images), 2)]
    writers.write_png(FLAGS.out, np.concatenate(rows, axis=0))
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)
