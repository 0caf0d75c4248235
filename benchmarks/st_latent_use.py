"""Does a trained spatial-temporal generator use its latent Z? (not a test; WACV'19 §4.1 needs it to synthesise).

    python benchmarks/st_latent_use.py LABEL=RUN_DIR ...

For each st_interpolate / st_synthesis / st_recover run: decodes `--pairs` pairs of prior samples Z, Z' ~ N(0, I)
(seeds 2k, 2k + 1) on the training grid and reports the mean absolute difference |G(Z) − G(Z')| (pixels in
[-1, 1]), beside the mean absolute frame-to-frame change of the run's own clip (its first segment) — a generator
that ignores Z makes the same video from every Z, a ratio near 0; one whose samples differ as much as the clip's
frames do from one another, a ratio near 1 — and the difference between the reconstruction from the inferred Z and
a prior sample.
"""

import os
import sys

import numpy as np
from absl import app, flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # As main.py: oneDNN's kernels on every x86 CPU.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from st_generator.experiments.base import load_segments  # noqa: E402
from st_generator.restore import restore_trainer  # noqa: E402

flags.DEFINE_integer("pairs", 3, "Pairs of prior samples per run.")
FLAGS = flags.FLAGS


def latent_use(workdir, pairs):
    """{samples_apart, clip_frame_change, ratio, reconstruction_vs_sample} of the run in `workdir`."""
    _, trainer = restore_trainer(workdir)
    _, segments = load_segments(trainer.config)
    clip = segments[0]
    frame_change = float(np.abs(np.diff(clip, axis=0)).mean())
    apart = [float(np.abs(trainer.synthesize(1, seed=2 * k)[0] - trainer.synthesize(1, seed=2 * k + 1)[0]).mean())
             for k in range(pairs)]
    reconstruction = trainer.reconstruct()[0]
    sample = trainer.synthesize(1, seed=0)[0]
    return dict(samples_apart=float(np.mean(apart)), clip_frame_change=frame_change,
                ratio=float(np.mean(apart)) / max(frame_change, 1e-12),
                reconstruction_vs_sample=float(np.abs(reconstruction - sample).mean()))


def main(argv):
    runs = dict(argument.split("=", 1) for argument in argv[1:])
    if not runs:
        raise SystemExit("error: give LABEL=RUN_DIR for each run")
    print("| run | mean abs G(Z) − G(Z') | clip's frame-to-frame change | ratio | reconstruction − sample |")
    print("| --- | --- | --- | --- | --- |")
    for label, workdir in runs.items():
        found = latent_use(workdir, FLAGS.pairs)
        print(f"| {label} | {found['samples_apart']:.4f} | {found['clip_frame_change']:.4f} | {found['ratio']:.2f} | "
              f"{found['reconstruction_vs_sample']:.4f} |", flush=True)


if __name__ == "__main__":
    app.run(main)
