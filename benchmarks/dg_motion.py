"""Do a texture run's samples keep moving? Frame-to-frame change in the last third of its written samples against the
observed clip's.

    python benchmarks/dg_motion.py checkpoints/texture/synthetic_fire_quick [RUN ...]

Re-creates the samples a texture run writes after training (`num_output_samples` clips of twice the clip's length,
sampling seed = the run's seed, §4.1 start: s_0 ~ N(0, I) and the default burn-in) and prints, per run, the mean
|x_t - x_{t-1}| over the observed clip and over the last third of the samples, and their ratio (1 = as much motion
as the clip; a sample that freezes goes to 0). Not a test.
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
from dynamic_generator import restore  # noqa: E402
from dynamic_generator.train import synthesis_start  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="texture run directories")
    args = parser.parse_args()
    print("| run | observed motion | samples' last third | ratio |\n| --- | --- | --- | --- |")
    for path in args.runs:
        _, trainer = restore.restore_trainer(path)
        config = trainer.config
        observed = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)[0].frames
        samples = trainer.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed,
                                     **synthesis_start())
        observed_motion = float(np.abs(np.diff(observed, axis=0)).mean())
        last_third = samples[:, -(samples.shape[1] // 3):]
        sample_motion = float(np.abs(np.diff(last_third, axis=1)).mean())
        print(f"| {path} | {observed_motion:.4f} | {sample_motion:.4f} | {sample_motion / observed_motion:.2f} |")


if __name__ == "__main__":
    main()
