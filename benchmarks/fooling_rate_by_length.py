"""Where synthesis stops fooling: the fooling rate of frames 1-T and T+1-2T of the texture_eval clips, separately.

    python benchmarks/fooling_rate_by_length.py --eval_dir checkpoints/texture_eval/quick

texture_eval synthesises clips of 2T frames and holds out their second half, i.e. it scores the frames beyond the
observed length T. This re-creates the same synthesised clips (same runs, noise seed and number) and scores the
first T frames and the last T frames as separate clips, against the same observed clip, to show how much of a
model's score is lost by running past the length it was trained on. Prints Markdown, writes JSON. Not a test.
"""

import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.

from abp_video import runs  # noqa: E402
from abp_video.data import sources  # noqa: E402
from dynamic_generator import configs, fooling_rate as fr  # noqa: E402
from dynamic_generator.experiments import texture_eval  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval_dir", default=os.path.join(REPO, "checkpoints", "texture_eval", "quick"))
    args = parser.parse_args()
    rows = []
    for name in sorted(os.listdir(args.eval_dir)):
        if not os.path.isdir(os.path.join(args.eval_dir, name, "dg")):
            continue
        config = runs.RunDirectory(os.path.join(args.eval_dir, name, "dg")).read_config(
            configs.DynamicGeneratorConfig)
        observed = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)[0].frames
        length = config.num_frames
        for method in ("dg", "lds"):
            path = os.path.join(args.eval_dir, name, method)
            fakes = texture_eval.evaluation_clips(method, path, 2 * length)
            row = dict(clip=name, method=method)
            for part, frames in (("first", fakes[:, :length]), ("second", fakes[:, length:])):
                result = fr.fooling_rate(observed, frames)
                row[part] = result["mean"]
                row[f"{part}_std"] = result["std"]
                row[f"{part}_motion"] = fr.statistics_distances(observed, frames)["motion_energy_ratio"]
            print(f"{name} {method}: frames 1-{length} {row['first']:.2f} ± {row['first_std']:.2f}, "
                  f"frames {length + 1}-{2 * length} {row['second']:.2f} ± {row['second_std']:.2f}", flush=True)
            rows.append(row)
    if not rows:
        raise SystemExit(f"no texture_eval runs (<clip>/dg, <clip>/lds) in {args.eval_dir}")
    lines = [f"| clip | method | frames 1-{length} | frames {length + 1}-{2 * length} | motion ratio (1-{length} / "
             f"{length + 1}-{2 * length}) |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {row['clip']} | {row['method']} | {row['first']:.2f} ± {row['first_std']:.2f} | "
              f"{row['second']:.2f} ± {row['second_std']:.2f} | {row['first_motion']:.2f} / "
              f"{row['second_motion']:.2f} |" for row in rows]
    print("\n" + "\n".join(lines))
    output = os.path.join(args.eval_dir, "fooling_rate_by_length.json")
    runs.write_json_atomic(output, {"rows": rows, "markdown": "\n".join(lines)})
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
