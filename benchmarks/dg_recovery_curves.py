"""Learning curves of dynamic-generator recovery runs as one PNG (not a test): visible MSE and recovery error.

    python benchmarks/dg_recovery_curves.py --out docs/recover_curves_quick.png \
        --baseline linear=1.91 --baseline lhd=7.26 region=RUN_DIR missing=RUN_DIR

Reads each `--experiment recover` run's `history.jsonl`: `recon_mse`, the mean squared residual over the visible
values ([-1, 1] scale) of the iteration's forward pass, and `recovery_error`, mean |recovered − original| over the
occluded values ([0, 255]), both logged every `--log_every` iterations (an STGCN run logs the latter only). Draws
the two side by side (a baseline is a flat line in the right panel) and prints, per run, both at every `--every`
iterations, with the visible MSE as the median of the logged values in the window ending there (one iteration's
value jumps with the Adam step), its change from one window to the next, and the first iteration from which it
falls by less than `--flat` per window: where the visible MSE has flattened, the rule the recovery presets'
iteration counts follow (docs/recover.md).
The occluded ground truth is the test, not a tuning signal: it is printed, never used to choose.
"""

import os
import sys

import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import curves  # noqa: E402
from abp_video.data import writers  # noqa: E402

flags.DEFINE_string("out", None, "PNG to write.", required=True)
flags.DEFINE_string("title", "fountain", "What the runs are (the plots' titles start with it).")
flags.DEFINE_multi_string("baseline", [], "LABEL=RECOVERY_ERROR of a model-free baseline, drawn as a flat line.")
flags.DEFINE_integer("every", 100, "Window (iterations) of the printed table and of the flatness rule.")
flags.DEFINE_float("flat", 0.05, "Relative fall of the windowed visible MSE below which the curve counts as flat.")
FLAGS = flags.FLAGS


def windowed(iterations, values, every):
    """{end iteration: median of the logged values in (end − every, end]} for end = every, 2·every, ..."""
    windows = {}
    for iteration, value in zip(iterations, values):
        windows.setdefault(-(-iteration // every) * every, []).append(value)
    last = max(iterations, default=0)  # A window the run has not reached the end of is left out.
    return {end: float(np.median(window)) for end, window in sorted(windows.items()) if end <= last}


def value_at(iterations, values, end):
    """The last value logged at or before iteration `end` (NaN if none)."""
    earlier = [value for iteration, value in zip(iterations, values) if iteration <= end]
    return earlier[-1] if earlier else float("nan")


def flat_from(medians, threshold):
    """The first window end from which every later window falls by less than `threshold` (relative), or None."""
    ends = sorted(medians)
    for position, end in enumerate(ends[:-1]):
        later = ends[position:]
        if all((medians[a] - medians[b]) / medians[a] < threshold for a, b in zip(later, later[1:])):
            return end
    return None


def main(argv):
    mse_series, error_series = {}, {}
    for label, rows in curves.labelled_histories(argv[1:]).items():
        mse_series[label] = curves.logged(rows, "recon_mse")
        # History rows name the error's scale (recovery_error_255) since the metric-scale change; older runs'
        # rows hold the bare key, on the same [0, 255] scale in the dynamic generator's runs.
        key = "recovery_error_255" if any("recovery_error_255" in row for row in rows) else "recovery_error"
        error_series[label] = curves.logged(rows, key)
        if not mse_series[label][0]:  # STGCN logs no visible MSE: its recovery error only.
            print(f"\n{label}: recovery error every {FLAGS.every} iterations (no visible MSE logged)")
            print("| iteration | recovery error |\n| --- | --- |")
            ends = range(FLAGS.every, max(error_series[label][0], default=0) + 1, FLAGS.every)
            print("\n".join(f"| {end} | {value_at(*error_series[label], end):.2f} |" for end in ends))
            continue
        medians = windowed(*mse_series[label], FLAGS.every)
        errors = {end: value_at(*error_series[label], end) for end in medians}
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
    span = [iteration for iterations, _ in error_series.values() for iteration in iterations]
    for entry in FLAGS.baseline:
        label, _, value = entry.partition("=")
        error_series[label] = ((min(span), max(span)), (float(value), float(value)))
    mse_series = {k: v for k, v in mse_series.items() if v[0]}
    panels = [writers.curve_plot(mse_series, f"{FLAGS.title}: visible MSE", "iteration",
                                 "MSE over visible values, [-1, 1]")] if mse_series else []
    panels.append(writers.curve_plot({k: v for k, v in error_series.items() if v[0]},
                                     f"{FLAGS.title}: recovery error", "iteration", "error on occluded values, [0, 255]"))
    writers.write_png(FLAGS.out, np.concatenate(panels, axis=1))
    print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)
