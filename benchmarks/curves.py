"""What the learning-curve scripts share: runs named `LABEL=RUN_DIR` on the command line and their logged columns.

Reads a run's `history.jsonl` directly rather than through abp_video.runs.RunDirectory, whose module loads TensorFlow:
drawing a plot should not take its start-up time.
"""

import json
import os


def labelled_runs(arguments, what):
    """[(label, run directory)] for `LABEL=RUN_DIR` arguments, split at the first `=` (a bare RUN_DIR, `=` in its
    name or not, is its own label); exits with one error line naming what to give when there is none or a directory
    is missing."""
    if not arguments:
        raise SystemExit(f"error: give LABEL=RUN_DIR for one or more {what}")
    pairs = []
    for argument in arguments:
        label, _, run = argument.partition("=")
        if os.path.isdir(argument) or not run:
            label, run = argument, argument
        if not os.path.isdir(run):
            raise SystemExit(f"error: {run} is not a folder; give LABEL=RUN_DIR for one or more {what}")
        pairs.append((label, run))
    return pairs


def labelled_histories(arguments):
    """{label: history rows} for `LABEL=RUN_DIR` arguments (read as `labelled_runs` reads them); exits with one
    error line naming a run without a history."""
    histories = {}
    for label, run in labelled_runs(arguments, "trained runs"):
        path = os.path.join(run, "history.jsonl")
        if not os.path.isfile(path):
            raise SystemExit(f"error: {path} is missing; give run directories of trained runs")
        with open(path) as handle:
            histories[label] = [json.loads(line) for line in handle if line.strip()]
    return histories


def logged(rows, key):
    """(iterations, values) of the history rows that logged a number under `key` (a GAN logs no `recon_mse`)."""
    rows = [row for row in rows if isinstance(row.get(key), float)]
    return [row["iteration"] for row in rows], [row[key] for row in rows]
