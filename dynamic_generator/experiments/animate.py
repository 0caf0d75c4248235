"""AAAI'19 §4.5 animating a static image: the conditional dynamic generator (Eq. 15-17, Figure 7)."""

import dataclasses
import os

import numpy as np

from abp_video import registry, runs
from abp_video.loop import run_training
from abp_video.data import sources, video_io, writers
from dynamic_generator import configs, export
from dynamic_generator.animation import REFERENCE_FILE, AnimationTrainer
from dynamic_generator.experiments.action import default_clips_workdir, mse_per_clip, split_held_out
from dynamic_generator.restore import restore_trainer, write_clips

# Videos per evaluation clip (best of K and mean over K), and predicted frames in a Figure-7 strip.
ANIMATE_EVAL_SAMPLES = 5

FIGURE7_FRAMES = 6

def prediction_errors(predicted, clips):
    """MSE of predicted frames against the true continuation, per clip: best of the K samples, mean over them,
    and the copy baseline (x_0 repeated), over all predicted frames and over the first `FIGURE7_FRAMES`.

    Args:
      predicted: [clips, K, frames, h, w, 3]; clips: list of `Clip` holding x_0 and the true frames.
    """
    rows = {}
    for clip, samples in zip(clips, predicted):
        truth, first = clip.frames[1:], clip.frames[0]
        row = {}
        for label, horizon in (("", len(truth)), (f"_first{FIGURE7_FRAMES}", FIGURE7_FRAMES)):
            per_sample = np.mean(np.square(samples[:, :horizon] - truth[None, :horizon]), axis=(1, 2, 3, 4))
            row[f"best_of_k{label}"] = float(per_sample.min())
            row[f"mean_over_k{label}"] = float(per_sample.mean())
            row[f"copy_first_frame{label}"] = float(np.mean(np.square(truth[:horizon] - first[None])))
        rows[clip.name] = row
    return rows

def write_figure7(run, name, clips, predicted):
    """Figure 7: per clip, the static image then `FIGURE7_FRAMES` predicted frames (one row per sample shown), and
    the true frames; a GIF of the true clip beside its animations."""
    strip_rows, gif_rows = [], []
    for clip, samples in zip(clips, predicted):
        for sample in samples[:2]:
            strip_rows.append(np.concatenate([clip.frames[:1], sample[:FIGURE7_FRAMES]]))
        strip_rows.append(clip.frames[:FIGURE7_FRAMES + 1])
        gif_rows.append([clip.frames] + [np.concatenate([clip.frames[:1], sample]) for sample in samples[:3]])
    return [writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(strip_rows, every=1)),
            writers.write_gif(run.sample_path(f"{name}.gif"), writers.grid(gif_rows))]

def train_animate(config, workdir=None):
    """AAAI'19 §4.5: learns E_γ, F_α, G_β jointly from clips, then animates first frames it did not train on.

    Evaluates on the held-out clips (`--num_held_out`; the training clips when there are none): prediction MSE
    of `ANIMATE_EVAL_SAMPLES` animations of each first frame against the true continuation (best of K, mean over
    K) beside the copy-the-first-frame baseline. Writes `metrics.json`, `samples/figure7*` and
    `reference_first_frames.npy` (training x_0's, the batch company of `--mode animate`).

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    clips = sources.load_clips(config.data, config.num_frames + 1, config.image_size, config.seed)
    if len(clips) < 2:
        raise ValueError(f"--data {config.data} holds one clip; --experiment animate learns from several clips "
                         f"(a folder of videos)")
    training, held_out = split_held_out(clips, config)
    run = runs.RunDirectory(workdir or default_clips_workdir(config))
    trainer = AnimationTrainer(config, np.stack([clip.frames for clip in training]))  # Before the run exists.
    run.prepare(config)
    write_clips(run, training, held_out)
    reference = np.stack([clip.frames[0] for clip in training[:config.clips_per_batch or len(training)]])
    np.save(os.path.join(run.path, REFERENCE_FILE), reference)
    loop_metrics = run_training(trainer, run, f"animate {sources.data_name(config.data)}")
    train_mse = mse_per_clip(trainer.reconstruct(), [dataclasses.replace(c, frames=c.frames[1:]) for c in training])
    evaluated = held_out or training
    predicted = trainer.animate(np.stack([clip.frames[0] for clip in evaluated]), config.num_frames,
                                ANIMATE_EVAL_SAMPLES, config.seed, reference)
    errors = prediction_errors(predicted, evaluated)
    summary = {key: float(np.mean([row[key] for row in errors.values()])) for key in next(iter(errors.values()))}
    paths = write_figure7(run, "figure7_held_out" if held_out else "figure7_training", evaluated[:4], predicted[:4])
    result = dict(run.read_metrics(), **loop_metrics, data=config.data, num_training_clips=len(training),
                  recon_mse=float(np.mean(list(train_mse.values()))), evaluated_on="held_out" if held_out else
                  "training", eval_samples=ANIMATE_EVAL_SAMPLES, prediction_mse=summary,
                  prediction_mse_per_clip=errors)
    run.write_metrics(result)
    print(f"{len(training)} training clips, reconstruction MSE {result['recon_mse']:.4f}; prediction MSE on "
          f"{len(evaluated)} {result['evaluated_on']} clips: best of {ANIMATE_EVAL_SAMPLES} "
          f"{summary['best_of_k']:.4f}, mean {summary['mean_over_k']:.4f}, copy first frame "
          f"{summary['copy_first_frame']:.4f}; wrote {', '.join(paths)}")
    return run.path, result

def animate_image(workdir, image, num_frames=None, num_samples=3, seed=0):
    """`--mode animate`: any image file, resized and scaled as in training, into `num_samples` videos.

    Writes `samples/animate_<image>_seed<S>.gif` (the image beside its animations) and a Figure-7 strip (the
    image, then `FIGURE7_FRAMES` predicted frames, one row per video).

    Returns:
      list of written paths.
    """
    if not workdir:
        raise ValueError("--mode animate needs --workdir, the directory of a trained --experiment animate run")
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.DynamicGeneratorConfig)
    if config.experiment != "animate":
        raise ValueError(f"--workdir {workdir} holds a {config.experiment!r} run; --mode animate needs an "
                         f"--experiment animate run")
    if not image:
        raise ValueError("--mode animate needs --image, the image file to animate")
    num_frames = config.num_frames if num_frames is None else num_frames
    if num_frames <= 0 or num_samples <= 0:
        raise ValueError(f"--num_frames and --num_samples must be positive, got {num_frames} and {num_samples}")
    frame = video_io.normalize_frames(video_io.read_image(image, config.image_size)[None])[0]
    _, trainer = restore_trainer(workdir)
    reference = np.load(os.path.join(run.path, REFERENCE_FILE))
    videos = trainer.animate(frame[None], num_frames, num_samples, seed, reference)[0]
    name = f"animate_{os.path.splitext(os.path.basename(image))[0]}_seed{seed}"
    rows = [np.concatenate([frame[None], video[:FIGURE7_FRAMES]]) for video in videos]
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"),
                               writers.side_by_side([np.concatenate([frame[None], video]) for video in videos])),
             writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(rows, every=1))]
    print(f"{num_samples} videos of {num_frames} frames from {image}; wrote {', '.join(paths)}")
    return paths


def _train_mode(config, workdir, options):
    return train_animate(config, workdir)


def _animate_mode(config, workdir, options):
    return animate_image(workdir, options["image"], options["num_frames"], options["num_samples"],
                         options["sample_seed"])


registry.register(registry.Experiment(
    name="animate", paper="AAAI'19 §4.5, Figure 7", config_class=configs.DynamicGeneratorConfig,
    presets=configs.PRESETS["animate"], resolve=configs.resolve, docs="docs/animate.md",
    modes={"train": registry.Mode(_train_mode, trains=True),
           "animate": registry.Mode(_animate_mode, options=("image", "num_frames", "num_samples", "sample_seed"))},
    export=export.export_animate))
