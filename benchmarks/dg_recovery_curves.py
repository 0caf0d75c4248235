"""Learning curves of dynamic-generator recovery runs as one PNG (not a test): visible MSE and recovery error.

    python benchmarks/dg_recovery_curves.py --out docs/recover_curves_quick.png \
        --baseline linear=1.91 --baseline lhd=7.26 region=RUN_DIR missing=RUN_DIR

Reads each `--experiment recover` run's `history.jsonl`: `recon_mse`, the mean squared residual over the visible
values ([-1, 1] scale) of the iteration's forward pass, and `recovery_error`, mean |recovered − original| over the
occluded values ([0, 255]), both logged every `--log_every` iterations. Draws the two side by side (a baseline is a
flat line in the right panel) and prints, per run, both at every `--every` iterations, with the visible MSE as the
median of the logged values in the window ending there (one iteration's value jumps with the Adam step), its
change from one window to the next, and the first iteration from which it falls by less than `--flat` per window:
where the visible MSE has flattened, the rule the recovery presets' iteration counts follow (docs/recover.md).
The occluded ground truth is the test, not a tuning signal: it is printed, never used to choose.
"""

import json
import os
import sys

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from data import writers  # noqa: E402

flags.DEFINE_string("out", None, "PNG to write.", required=True)
flags.DEFINE_string("title", "fountain", "What the runs are (the plots' titles start with it).")
flags.DEFINE_multi_string("baseline", [], "LABEL=RECOVERY_ERROR of a model-free baseline, drawn as a flat line.")
flags.DEFINE_integer("every", 100, "Window (iterations) of the printed table and of the flatness rule.")
flags.DEFINE_float("flat", 0.05, "Relative fall of the windowed visible MSE below which the curve counts as flat.")
FLAGS = flags.FLAGS


def read_history(run):
    path = os.path.join(run, "history.jsonl")
    if not os.path.isfile(path):
        raise SystemExit(f"error: {path} is missing; give the run directory of an --experiment recover run")
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def windowed(rows, key, every):
    """{end iteration: median of `key` over the logged rows in (end − every, end]} for end = every, 2·every, ..."""
    points = [(row["iteration"], row[key]) for row in rows if isinstance(row.get(key), float)]
    if not points:
        return {}
    last = max(iteration for iteration, _ in points)
    return {end: float(np.median([value for iteration, value in points if end - every < iteration <= end]))
            for end in range(every, last + 1, every)
            if any(end - every < iteration <= end for iteration, _ in points)}


def flat_from(medians, threshold):
    """The first window end from which every later window falls by less than `threshold` (relative), or None."""
    ends = sorted(medians)
    for position, end in enumerate(ends[:-1]):
        later = ends[position:]
        if all((medians[a] - medians[b]) / medians[a] < threshold for a, b in zip(later, later[1:])):
            return end
    return None


def main(argv):
    runs = {}
    for argument in argv[1:]:
        label, _, run = argument.partition("=")
        if not run:
            raise SystemExit(f"error: {argument!r} is not LABEL=RUN_DIR")
        runs[label] = read_history(run)
    if not runs:
        raise SystemExit("error: give at least one LABEL=RUN_DIR")
    mse_series, error_series = {}, {}
    for label, rows in runs.items():
        mse = [(row["iteration"], row["recon_mse"]) for row in rows if isinstance(row.get("recon_mse"), float)]
        error = [(row["iteration"], row["recovery_error"]) for row in rows
                 if isinstance(row.get("recovery_error"), float)]
        mse_series[label] = tuple(zip(*mse))
        error_series[label] = tuple(zip(*error))
        medians = windowed(rows, "recon_mse", FLAGS.every)
        errors = {end: value for end, value in
                  ((end, next((row["recovery_error"] for row in reversed(rows) if row["iteration"] <= end
                               and isinstance(row.get("recovery_error"), float)), float("nan"))) for end in medians)}
        print(f"\n{label}: visible MSE (median over each {FLAGS.every}-iteration window) and recovery error at "
              f"the window's end")
        print("| iteration | visible MSE | change | recovery error |\n| --- | --- | --- | --- |")
        previous = None
        for end in sorted(medians):
            change = "" if previous is None else f"{(medians[end] - previous) / previous:+.0%}"
            print(f"| {end} | {medians[end]:.5f} | {change} | {errors[end]:.2f} |")
            previous = medians[end]
        flat = flat_from(medians, FLAGS.flat)
        print(f"visible MSE falls by less than {FLAGS.flat:.0%} per {FLAGS.every} iterations from iteration "
              f"{flat if flat is not None else '– (not within these iterations)'}")
    span = [iteration for values in error_series.values() if values for iteration in values[0]]
    for entry in FLAGS.baseline:
        label, _, value = entry.partition("=")
        error_series[label] = ((min(span), max(span)), (float(value), float(value)))
    panels = [writers.curve_plot({k: v for k, v in mse_series.items() if v}, f"{FLAGS.title}: visible MSE",
                                 "iteration", "MSE over visible values, [-1, 1]"),
              writers.curve_plot({k: v for k, v in error_series.items() if v}, f"{FLAGS.title}: recovery error",
                                 "iteration", "error on occluded values, [0, 255]")]
    writers.write_png(FLAGS.out, np.concatenate(panels, axis=1))
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)
