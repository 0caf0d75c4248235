"""How many frames a sample from s_0 ~ N(0, I) needs before its frame statistics stop drifting (the burn-in, §4.1).

    python benchmarks/dg_burn_in.py --workdir checkpoints/texture/synthetic_fire_quick

Synthesises `--num_samples` clips of `--num_frames` frames from a trained texture run, once from s_0 ~ N(0, I) and
once from the training clip's inferred s_0, with no burn-in. Per sample and window of `--window` frames it measures
three frame statistics: mean intensity, spatial standard deviation of a frame, and mean |x_t - x_{t-1}| (motion).
The reference is the last half of the random-start samples (the stationary regime, if the chain has one). A window
drifts when a statistic's mean over samples differs from the reference by more than `--z` standard errors; the
burn-in is the start of the first window after which no window of the random-start samples drifts. Prints a
Markdown table, writes JSON next to the run. Not a test.
"""

import argparse
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.

from abp_video import runs  # noqa: E402
from abp_video.data import sources  # noqa: E402
from dynamic_generator import restore  # noqa: E402
from dynamic_generator.train import synthesis_start  # noqa: E402

STATISTICS = ("mean", "spatial_std", "motion")


def frame_statistics(video):
    """[samples, frames, H, W, 3] -> {name: [samples, frames]}; motion of frame 0 repeats frame 1's."""
    motion = np.abs(np.diff(video, axis=1)).mean(axis=(2, 3, 4))
    return {"mean": video.mean(axis=(2, 3, 4)), "spatial_std": video.std(axis=(2, 3, 4)),
            "motion": np.concatenate([motion[:, :1], motion], axis=1)}


def drift(statistics, reference, window):
    """Per window start: {name: z}, z = (window mean - reference mean) / standard error, over samples."""
    rows = []
    frames = next(iter(statistics.values())).shape[1]
    for start in range(0, frames - window + 1, window):
        row = {"start": start}
        for name in STATISTICS:
            values = statistics[name][:, start:start + window].mean(axis=1)
            ref = reference[name]
            error = np.sqrt(values.var(ddof=1) / len(values) + ref.var(ddof=1) / len(ref))
            row[name] = float(values.mean())
            row[f"{name}_z"] = float((values.mean() - ref.mean()) / max(error, 1e-12))
        rows.append(row)
    return rows


def burn_in(rows, z):
    """Start of the first window after which no window has |z| > `z` in any statistic."""
    drifting = [row["start"] for row in rows if any(abs(row[f"{name}_z"]) > z for name in STATISTICS)]
    if not drifting:
        return 0
    later = [row["start"] for row in rows if row["start"] > max(drifting)]
    return later[0] if later else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(REPO, "checkpoints", "texture", "synthetic_fire_quick"))
    parser.add_argument("--num_samples", type=int, default=32)
    parser.add_argument("--num_frames", type=int, default=240)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--z", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    _, trainer = restore.restore_trainer(args.workdir)
    config = trainer.config
    clip = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)[0]
    observed = frame_statistics(clip.frames[None])
    result = {"workdir": args.workdir, "num_samples": args.num_samples, "num_frames": args.num_frames,
              "window": args.window, "z": args.z, "seed": args.seed, "chunk_length": config.chunk_length,
              "observed": {name: float(value.mean()) for name, value in observed.items()}}
    statistics = {}
    for start in ("random", "inferred"):
        video = trainer.synthesize(args.num_samples, args.num_frames, seed=args.seed, **synthesis_start(start, 0))
        statistics[start] = frame_statistics(video)
    half = args.num_frames // 2
    reference = {name: values[:, half:].mean(axis=1) for name, values in statistics["random"].items()}
    for start in ("random", "inferred"):
        result[start] = drift(statistics[start], reference, args.window)
        result[f"{start}_burn_in"] = burn_in(result[start][:half // args.window], args.z)
    result["reference"] = {name: float(value.mean()) for name, value in reference.items()}

    print(f"{args.workdir}: {args.num_samples} samples x {args.num_frames} frames, seed {args.seed}; reference = "
          f"frames {half}-{args.num_frames} of the random-start samples; z = (window - reference) / standard error\n")
    print("| frames | " + " | ".join(f"{start} {name} (z)" for start in ("random", "inferred")
                                     for name in STATISTICS) + " |")
    print("|" + " --- |" * (1 + 2 * len(STATISTICS)))
    for random_row, inferred_row in zip(result["random"], result["inferred"]):
        cells = [f"{row[name]:.3f} ({row[name + '_z']:+.1f})" for row in (random_row, inferred_row)
                 for name in STATISTICS]
        print(f"| {random_row['start']}-{random_row['start'] + args.window - 1} | " + " | ".join(cells) + " |")
    print(f"\nobserved clip: " + ", ".join(f"{name} {value:.3f}" for name, value in result["observed"].items()))
    print(f"burn-in (first window after which no window drifts by more than {args.z} standard errors): "
          f"random start {result['random_burn_in']}, inferred start {result['inferred_burn_in']} frames")
    output = os.path.join(runs.RunDirectory(args.workdir).path, f"burn_in_seed{args.seed}.json")
    with open(output, "w") as handle:
        json.dump(result, handle, indent=1)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
