"""Which samples LI-ABP's f_V should learn from, measured on held-back training segments (not a test).

    python benchmarks/st_li_validation.py --clips fountain,flashing_light,boiling_water,fire,synthetic_fire

For each clip, two `st_recover --stage test --method li_abp` runs on the clip's first four segments only
(`--max_segments 4`: three train, the fourth, a training segment of the table runs, is held back and recovered
under the test masks), one with f_V learning from complete samples (§3.3 as written) and one with
`--li_occluded_samples` (samples occluded by random test masks). The table runs' test segment (the fifth) is never
touched, so the choice is not tuned on the cells the tables report. Prints the errors (mean absolute, pixels in
[-1, 1]) side by side and writes them to `<workdir>/li_validation.json`; finished runs are read back.
"""

import json
import os
import subprocess
import sys

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from abp_video.metrics import stored_error  # noqa: E402
from st_generator.experiments.base import selected_clips  # noqa: E402

flags.DEFINE_list("clips", ["fountain", "flashing_light"], "Table clips by name (st_generator/experiments/base.py).")
flags.DEFINE_list("masks", ["m50", "p20", "b35"], "Test masks.")
flags.DEFINE_string("preset", "quick", "Preset of the runs.")
flags.DEFINE_integer("seed", 1, "Seed of the runs.")
flags.DEFINE_string("workdir", os.path.join(REPO, "checkpoints", "st_li_validation"), "Root of the runs.")
FLAGS = flags.FLAGS

VARIANTS = {"complete": [], "occluded": ["--li_occluded_samples"]}


def run(clip, data, variant):
    workdir = os.path.join(FLAGS.workdir, f"{clip}_{variant}")
    metrics = os.path.join(workdir, "metrics.json")
    if not os.path.isfile(metrics):
        subprocess.run([sys.executable, os.path.join(REPO, "main.py"), "--experiment", "st_recover", "--stage", "test",
                        "--preset", FLAGS.preset, "--method", "li_abp", "--max_segments", "4", "--data", data,
                        "--seed", str(FLAGS.seed), "--test_masks", ",".join(FLAGS.masks), "--workdir", workdir,
                        *VARIANTS[variant]], check=True)
    with open(metrics) as handle:
        return json.load(handle)


def main(argv):
    del argv
    try:
        known = dict(selected_clips(",".join(FLAGS.clips)))
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    rows, wins = [], 0
    for clip in FLAGS.clips:
        found = {variant: run(clip, known[clip], variant) for variant in VARIANTS}
        for mask in FLAGS.masks:
            values = {variant: stored_error(found[variant], f"{mask}_", "unit") for variant in VARIANTS}
            rows.append(dict(clip=clip, mask=mask, lhd=stored_error(found["complete"], f"{mask}_lhd_", "unit"),
                             **values))
            wins += values["occluded"] < values["complete"]
    header = "| clip | mask | f_V from complete samples | f_V from occluded samples | LHD |\n| --- | --- | --- | --- | --- |"
    lines = [f"| {row['clip']} | {row['mask']} | {row['complete']:.4f} | {row['occluded']:.4f} | {row['lhd']:.4f} |"
             for row in rows]
    print(f"LI-ABP recovery error on held-back training segments (mean absolute, pixels in [-1, 1]; {FLAGS.preset} "
          f"preset, seed {FLAGS.seed}); occluded samples better in {wins} of {len(rows)} cells\n")
    print("\n".join([header, *lines]))
    with open(os.path.join(FLAGS.workdir, "li_validation.json"), "w") as handle:
        json.dump(dict(rows=rows, occluded_better=wins, cells=len(rows)), handle, indent=2)


if __name__ == "__main__":
    app.run(main)
