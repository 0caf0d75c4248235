"""The fooling rate of the dynamic generator against the LDS along the training budget (not a test).

    python benchmarks/texture_budget_curve.py --workdir RUN --budgets 300,600,1000,1500,2000,2500,3000 \
        --out docs/results/texture_budget_curve_fire.png -- --preset paper --data CLIP

For each budget, in order, runs `texture_eval` in RUN with `--num_iterations BUDGET --mocogan_iterations 0` and the
arguments after `--` (the dynamic generator's run resumes from the previous budget's checkpoint, so the whole curve
costs the largest budget's training; the LDS is fitted once and re-evaluated), keeps that evaluation's
`table.json` as `RUN/budget_<BUDGET>.json` and each clip's synthesised frames (`samples_strip.png`: ours' two clips
above the LDS's) as `RUN/budget_<BUDGET>_<CLIP>_strip.png`, and stops at the first budget that does not finish
(Ctrl-C or a crash: what was measured stays). Then prints one row per budget (fooling rate mean ± std over the
classifier seeds and the statistics distances, ours beside the LDS) and draws the fooling rates against the budget
as a PNG.
`--plot_only` redraws from the `budget_*.json` already in RUN.
"""

import glob
import json
import os
import shutil
import subprocess
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from abp_video.data import writers  # noqa: E402

flags.DEFINE_string("workdir", None, "The texture_eval run directory.", required=True)
flags.DEFINE_list("budgets", ["300", "600", "1000", "1500", "2000", "2500", "3000"], "Iterations of ours to "
                  "evaluate at, increasing.")
flags.DEFINE_string("out", None, "PNG of the fooling rate against the budget.")
flags.DEFINE_bool("plot_only", False, "Only read the budget_*.json already in --workdir.")
FLAGS = flags.FLAGS
COLUMNS = (("fooling rate", "fooling_rate"), ("mean img", "mean_image_rmse"), ("std img", "std_image_rmse"),
           ("temporal PSD", "temporal_spectrum_distance"), ("motion ratio", "motion_energy_ratio"),
           ("recon MSE", "recon_mse"))


def measure(budget, arguments):
    """One texture_eval at `budget` iterations; True when it finished and its table was kept."""
    main = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "main.py")
    command = [sys.executable, main, "--experiment", "texture_eval", "--workdir", FLAGS.workdir,
               "--num_iterations", str(budget), "--mocogan_iterations", "0", *arguments]
    print("$ " + " ".join(command), flush=True)
    if subprocess.call(command) != 0:
        return False
    shutil.copy(os.path.join(FLAGS.workdir, "table.json"), os.path.join(FLAGS.workdir, f"budget_{budget}.json"))
    for strip in glob.glob(os.path.join(FLAGS.workdir, "*", "samples_strip.png")):
        clip = os.path.basename(os.path.dirname(strip))
        shutil.copy(strip, os.path.join(FLAGS.workdir, f"budget_{budget}_{clip}_strip.png"))
    return True


def read_budgets():
    """{budget: {method: row}} from the kept tables."""
    tables = {}
    for path in glob.glob(os.path.join(FLAGS.workdir, "budget_*.json")):
        with open(path) as handle:
            table = json.load(handle)
        budget = int(os.path.basename(path)[len("budget_"):-len(".json")])
        tables[budget] = {row["method"].split(" ")[0]: row for row in table["rows"]}
    return dict(sorted(tables.items()))


def main(argv):
    if not FLAGS.plot_only:
        for budget in (int(value) for value in FLAGS.budgets):
            if not measure(budget, argv[1:]):
                print(f"stopped at {budget} iterations", flush=True)
                break
    tables = read_budgets()
    if not tables:
        raise app.UsageError(f"no budget_*.json in {FLAGS.workdir}")
    print("| iterations | method | " + " | ".join(name for name, _ in COLUMNS) + " |\n|" + " --- |" *
          (2 + len(COLUMNS)))
    for budget, rows in tables.items():
        for method, row in rows.items():
            cells = [f"{row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}"] + [
                "–" if row.get(key) is None else f"{row[key]:.{4 if key == 'recon_mse' else 3}f}"
                for _, key in COLUMNS[1:]]
            print(f"| {budget} | {method} | " + " | ".join(cells) + " |")
    if FLAGS.out:
        budgets = list(tables)
        series = {method: (budgets, [tables[b][method]["fooling_rate"] for b in budgets])
                  for method in ("dg", "lds", "real") if all(method in tables[b] for b in budgets)}
        writers.write_png(FLAGS.out, writers.curve_plot(series, "fooling rate against our iterations", "iterations",
                                                        "fooling rate", log_y=False))
        print(f"wrote {FLAGS.out}")


if __name__ == "__main__":
    app.run(main)
