"""MoCoGAN's budget for texture_eval: its fooling rate against iterations on a few clips (not a test; docs/texture.md).

    python benchmarks/mocogan_budget.py --clips synthetic:fire,../shared/data/trainingVideo/dynamicTexture/fire/fire.avi \
        --iterations 250,500,1000,2000,4000 --workdir checkpoints/mocogan_budget

One MoCoGAN run per clip at the texture preset (`--preset quick` by default: 30 frames of 32x32), extended from
checkpoint to checkpoint: after each count of `--iterations` it synthesises texture_eval's clips (the same number,
length and seed) and measures them against the observed clip with texture_eval's fooling rate and statistics
distances. Prints a Markdown table, writes `budget.json` and a PNG of the fooling rate (and the motion-energy
ratio) against iterations. A GAN has no likelihood to converge: "converged" here means the fooling rate and the
distances stop changing beyond their spread over the fooling-rate seeds. Called again with more counts in the same
`--workdir`, it reads back the counts already in `budget.json` and extends each run from where it stopped.
"""

import argparse
import dataclasses
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", default="synthetic:fire,synthetic:water",
                        help="--data of each clip, comma-separated")
    parser.add_argument("--iterations", default="250,500,1000,2000,4000", help="increasing iteration counts")
    parser.add_argument("--preset", default="quick", choices=("quick", "paper", "tiny"))
    parser.add_argument("--workdir", default=os.path.join(REPO, "checkpoints", "mocogan_budget"))
    args = parser.parse_args()
    counts = [int(value) for value in args.iterations.split(",")]
    if counts != sorted(counts) or counts[0] <= 0:
        raise SystemExit(f"error: --iterations {args.iterations} must be positive and increasing")
    from abp_video import runs
    from abp_video.data import sources
    from dynamic_generator import configs
    from dynamic_generator.experiments import texture, texture_eval
    base = dataclasses.replace(configs.PRESETS["texture"][args.preset], method="mocogan")
    # Counts measured by an earlier call are read back: a run extended past a count cannot be measured there again.
    budget_path = os.path.join(args.workdir, "budget.json")
    measured = {}  # {(clip, iterations): row}, with the rows of earlier calls in this --workdir.
    if os.path.isfile(budget_path):
        with open(budget_path) as handle:
            measured = {(row["clip"], row["iterations"]): row for row in json.load(handle)["rows"]}
    for spec in args.clips.split(","):
        config = dataclasses.replace(base, data=spec)
        clip = sources.load_clips(spec, config.num_frames, config.image_size, config.seed)[0]
        name = sources.data_name(spec)
        workdir = os.path.join(args.workdir, name)
        for count in counts:
            if (name, count) in measured:
                continue
            trained = runs.RunDirectory(workdir).read_metrics().get("iterations", 0)
            if trained > count:
                raise SystemExit(f"error: {workdir} is trained to {trained} iterations, past {count}, and "
                                 f"{budget_path} has no row for it; choose another --workdir or counts above {trained}")
            start = time.perf_counter()
            texture.train_mocogan(dataclasses.replace(config, num_iterations=count), workdir)
            seconds = time.perf_counter() - start
            fakes = texture_eval.evaluation_clips("mocogan", workdir, 2 * config.num_frames)
            row = dict(clip=name, iterations=count, session_seconds=seconds,
                       **texture_eval._evaluate(clip.frames, fakes, texture_eval.fooling_rate.DEFAULT_CONFIG))
            measured[(name, count)] = row
            print(f"{row['clip']} {count}: fooling rate {row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}, "
                  f"motion ratio {row['motion_energy_ratio']:.2f}", flush=True)
    rows = [measured[key] for key in sorted(measured)]  # Every count of this --workdir.
    lines = ["| clip | iterations | fooling rate | mean img | std img | spatial PSD | temporal PSD | motion ratio |",
             "|" + " --- |" * 8]
    lines += [f"| {row['clip']} | {row['iterations']} | {row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f} "
              f"| {row['mean_image_rmse']:.3f} | {row['std_image_rmse']:.3f} | {row['spatial_spectrum_distance']:.2f} "
              f"| {row['temporal_spectrum_distance']:.2f} | {row['motion_energy_ratio']:.2f} |" for row in rows]
    table = "\n".join(lines)
    print(table)
    os.makedirs(args.workdir, exist_ok=True)
    with open(budget_path, "w") as handle:
        json.dump({"preset": args.preset, "rows": rows, "table": table}, handle, indent=1, default=float)
    _plot(rows, os.path.join(args.workdir, "budget.png"))


def _plot(rows, path):
    import numpy as np
    from abp_video.data import writers
    clips = list(dict.fromkeys(row["clip"] for row in rows))

    def series(key):
        return {clip: ([row["iterations"] for row in rows if row["clip"] == clip],
                       [row[key] for row in rows if row["clip"] == clip]) for clip in clips}

    span = [row["iterations"] for row in rows]
    fooling = dict(series("fooling_rate"), **{"0.5 (indistinguishable)": ((min(span), max(span)), (0.5, 0.5))})
    panels = [writers.curve_plot(fooling, "MoCoGAN: fooling rate", "iteration", "fooling rate", log_y=False),
              writers.curve_plot(series("motion_energy_ratio"), "MoCoGAN: motion-energy ratio", "iteration",
                                 "synthesised / observed")]
    writers.write_png(path, np.concatenate(panels, axis=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
