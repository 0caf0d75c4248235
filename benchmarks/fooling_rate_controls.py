"""Calibration of the fooling rate (dynamic_generator/fooling_rate.py) and the LDS order sweep: prints Markdown, writes JSON.

    python benchmarks/fooling_rate_controls.py                        # built-in textures + the shared clips
    python benchmarks/fooling_rate_controls.py --data synthetic:water --no-lds_sweep

Controls, per clip (its first `--num_frames` frames are the observed clip): a disjoint real segment (the next
frames of the same source: should score near 0.5), the clip shuffled in time, one frame repeated, per-frame noise
(should score near 0). The LDS sweep fits Doretto et al.'s LDS with several state dimensions d and reports the
fooling rate with the distances that explain it (motion energy, copying of training frames), which is how the
default rule for d in abp_video/baselines/lds.py was chosen. Not a test: about 20 CPU-seconds per row.
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

from abp_video.baselines import lds  # noqa: E402
from abp_video.data import sources  # noqa: E402
from dynamic_generator import fooling_rate as fr  # noqa: E402

SHARED = os.path.join(os.path.dirname(REPO), "shared", "data", "trainingVideo", "dynamicTexture")
SHARED_CLIPS = ("fire/fire.avi", "flashing_light/64ce210.avi", "boiling_water/55fa210.avi")
SWEEP_STATE_DIMS = (4, 8, 0, 20, 27)  # 0: the default rule.


def _row(clip, case, observed, fakes, **extra):
    start = time.process_time()
    result = fr.fooling_rate(observed, fakes)
    distances = fr.statistics_distances(observed, fakes)
    row = dict(clip=clip, case=case, fooling_rate=result["mean"], fooling_rate_std=result["std"],
               per_seed=result["per_seed"], cpu_seconds=time.process_time() - start, **distances, **extra)
    print(f"{clip:>16} {case:<24} {row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f}  "
          f"motion {row['motion_energy_ratio']:.2f}  nearest-frame {row['nearest_frame_mse']:.3f}  "
          f"({row['cpu_seconds']:.0f} CPU-s)", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="*", default=None, help="clips (default: synthetic:fire synthetic:water "
                        "and the shared clips when ../shared is present)")
    parser.add_argument("--num_frames", type=int, default=30)
    parser.add_argument("--image_size", type=int, default=64)
    parser.add_argument("--lds_sweep", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--output", default=os.path.join(REPO, "benchmarks", "results", "fooling_rate_controls.json"))
    args = parser.parse_args()
    specs = args.data if args.data is not None else (
        ["synthetic:fire", "synthetic:water"] + [os.path.join(SHARED, clip) for clip in SHARED_CLIPS
                                                 if os.path.isfile(os.path.join(SHARED, clip))])
    length = args.num_frames
    controls, sweep = [], []
    for spec in specs:
        frames = sources.load_clips(spec, 2 * length, args.image_size, seed=1)[0].frames
        name = sources.data_name(spec)
        observed = frames[:length]
        controls.append(_row(name, "disjoint real segment", observed, frames[length:]))
        controls.append(_row(name, "shuffled in time", observed, fr.shuffled_in_time(observed, seed=0)))
        controls.append(_row(name, "frozen (frame 1)", observed, fr.frozen(observed)))
        controls.append(_row(name, "per-frame noise", observed, fr.per_frame_noise(observed, seed=0)))
        if args.lds_sweep:
            for state_dim in SWEEP_STATE_DIMS:
                system = lds.fit_lds(observed, lds.LdsConfig(state_dim=state_dim))
                fakes = system.synthesize(3, 2 * length, seed=0)
                label = f"d = {system.state_dim}" + (" (default rule)" if state_dim == 0 else "")
                sweep.append(_row(name, label, observed, fakes, state_dim=system.state_dim, noise_dim=system.noise_dim,
                                  explained_variance=system.explained_variance, spectral_radius=system.spectral_radius,
                                  stabilised=system.stabilised))
    lines = ["| clip | control | fooling rate | per seed |", "| --- | --- | --- | --- |"]
    lines += [f"| {row['clip']} | {row['case']} | {row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f} | "
              f"{' / '.join(f'{rate:.2f}' for rate in row['per_seed'])} |" for row in controls]
    if sweep:
        lines += ["", "| clip | LDS | n_v | explained var. | fooling rate | motion ratio | nearest-frame MSE |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {row['clip']} | {row['case']} | {row['noise_dim']} | {row['explained_variance']:.2f} | "
                  f"{row['fooling_rate']:.2f} ± {row['fooling_rate_std']:.2f} | {row['motion_energy_ratio']:.2f} | "
                  f"{row['nearest_frame_mse']:.3f} |" for row in sweep]
    print("\n" + "\n".join(lines))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump({"num_frames": length, "image_size": args.image_size,
                   "fooling_rate_config": dataclasses.asdict(fr.DEFAULT_CONFIG), "controls": controls,
                   "lds_sweep": sweep, "markdown": "\n".join(lines)}, handle, indent=2, default=float)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
