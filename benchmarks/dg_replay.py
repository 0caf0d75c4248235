"""Do synthesised textures replay the training clip? Nearest observed frames of texture_eval's samples (not a test).

    python benchmarks/dg_replay.py RUN/fire [RUN/flashing_light_64ce210 ...]

For a clip folder of a `texture_eval` run (its `dg` and `lds` runs), re-creates the clips the table measured (the
same count, length, seed and start) and, for the real segments that follow the observed clip in its source, finds
each frame's nearest observed frame. Prints per method: the mean MSE to it (the table's nearest-frame MSE), how many
of the observed frames are someone's nearest, and the replay fraction: the share of consecutive frame pairs whose
nearest observed frames are consecutive too (n_{t+1} = n_t + 1). A model that plays the clip back scores near 1;
real video the model never saw shows what closeness a texture has without copying.
"""

import argparse
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.

from abp_video.data import sources  # noqa: E402
from dynamic_generator import fooling_rate, restore  # noqa: E402
from dynamic_generator.experiments import texture_eval  # noqa: E402


def replay_row(observed, clips):
    indices, errors = map(np.array, zip(*(fooling_rate.nearest_frames(observed, clip) for clip in clips)))
    replay = float(np.mean(np.diff(indices, axis=1) == 1))
    return float(np.mean(errors)), len(np.unique(indices)), replay


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="+", help="clip folders of texture_eval runs (each with dg/ and lds/)")
    args = parser.parse_args()
    print("| clip | method | iterations | nearest-frame MSE | observed frames used | replay fraction |\n"
          "| --- | --- | --- | --- | --- | --- |")
    for folder in args.clips:
        run_path = os.path.join(folder, "dg")
        if not os.path.isdir(run_path):
            raise SystemExit(f"error: {run_path} is missing; give clip folders of texture_eval runs")
        _, trainer = restore.restore_trainer(run_path)
        config = trainer.config
        clip = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)[0]
        length = 2 * config.num_frames
        candidates = {
            "dg": texture_eval.evaluation_clips("dg", run_path, length),
            "lds": texture_eval.evaluation_clips("lds", os.path.join(folder, "lds"), length),
            "real (unseen)": texture_eval.later_segments(clip, config, texture_eval.EVAL_NUM_SAMPLES, length)}
        iterations = int(trainer.iteration.numpy())
        for method, clips in candidates.items():
            if len(clips):
                mse, used, replay = replay_row(clip.frames, np.asarray(clips))
                print(f"| {os.path.basename(os.path.normpath(folder))} | {method} | "
                      f"{iterations if method == 'dg' else '–'} | {mse:.3f} | {used} of {len(clip.frames)} | "
                      f"{replay:.2f} |", flush=True)


if __name__ == "__main__":
    main()
