"""Test-stage recovery over several seeds (not a test): mean ± std of ABP, LI-ABP and LHD per clip and mask.

    python benchmarks/st_seed_table.py --clips fountain,flashing_light --seeds 1,2,3 --methods abp,li_abp

Each (clip, method, seed) is one `python main.py --experiment st_recover --stage test` run in
`<workdir>/<clip>_<method>_s<seed>`; finished runs are read back and interrupted ones resume. A seed changes the
weights' initialisation, the masks and the Langevin noise. Prints a Markdown table on the paper's scale (mean absolute
error, pixels in [-1, 1]) and writes it with every per-seed value to `<workdir>/seeds.json`.
"""

import json
import os
import subprocess
import sys

import numpy as np
from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from abp_video.metrics import stored_error  # noqa: E402
from st_generator.experiments.base import selected_clips  # noqa: E402

flags.DEFINE_list("clips", ["fountain", "flashing_light"], "Table clips by name (st_generator/experiments/base.py).")
flags.DEFINE_list("seeds", ["1", "2", "3"], "Seeds.")
flags.DEFINE_list("methods", ["abp", "li_abp"], "Methods of st_recover (LHD comes with every run).")
flags.DEFINE_list("masks", ["m50", "p20", "b35"], "Test masks.")
flags.DEFINE_string("preset", "quick", "Preset of the runs.")
flags.DEFINE_string("workdir", os.path.join(REPO, "checkpoints", "st_seeds"), "Root of the runs.")
FLAGS = flags.FLAGS


def run(clip, data, method, seed):
    workdir = os.path.join(FLAGS.workdir, f"{clip}_{method}_s{seed}")
    metrics = os.path.join(workdir, "metrics.json")
    if not os.path.isfile(metrics):
        subprocess.run([sys.executable, os.path.join(REPO, "main.py"), "--experiment", "st_recover", "--stage", "test",
                        "--preset", FLAGS.preset, "--method", method, "--data", data, "--seed", str(seed),
                        "--test_masks", ",".join(FLAGS.masks), "--workdir", workdir], check=True)
    with open(metrics) as handle:
        return json.load(handle)


def spread(values):
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main(argv):
    del argv
    try:
        known = dict(selected_clips(",".join(FLAGS.clips)))
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    found = {(clip, method, seed): run(clip, known[clip], method, seed)
             for clip in FLAGS.clips for method in FLAGS.methods for seed in FLAGS.seeds}
    header = ["clip", "mask", *FLAGS.methods, "LHD", "seconds / iteration"]
    lines, rows = [], []
    for clip in FLAGS.clips:
        for mask in FLAGS.masks:
            values = {method: [stored_error(found[clip, method, seed], f"{mask}_", "unit") for seed in FLAGS.seeds]
                      for method in FLAGS.methods}
            values["lhd"] = [stored_error(found[clip, FLAGS.methods[0], seed], f"{mask}_lhd_", "unit")
                             for seed in FLAGS.seeds]
            seconds = [found[clip, method, seed]["seconds_per_iteration"] for method in FLAGS.methods
                       for seed in FLAGS.seeds]
            rows.append(dict(clip=clip, mask=mask, **values))
            lines.append([clip, mask, *(spread(values[key]) for key in [*FLAGS.methods, "lhd"]),
                          f"{np.median(seconds):.2f}"])
    table = "\n".join([f"| {' | '.join(header)} |", "|" + " --- |" * len(header)] +
                      [f"| {' | '.join(line)} |" for line in lines])
    print(f"Test-stage recovery error (mean absolute, pixels in [-1, 1]), mean ± std over seeds "
          f"{','.join(FLAGS.seeds)} ({FLAGS.preset} preset)\n\n{table}")
    with open(os.path.join(FLAGS.workdir, "seeds.json"), "w") as handle:
        json.dump(dict(seeds=FLAGS.seeds, rows=rows, markdown=table), handle, indent=2)


if __name__ == "__main__":
    app.run(main)
