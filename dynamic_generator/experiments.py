"""One runner per AAAI'19 experiment of the dynamic generator: learn, then write what a person looks at."""

import dataclasses
import os

import numpy as np

from common import runs
from common.loop import run_training
from data import sources, writers
from dynamic_generator import configs
from dynamic_generator.train import Trainer


def default_workdir(config, root=runs.DEFAULT_ROOT):
    """`checkpoints/<experiment>/<data name>_<preset>`."""
    return os.path.join(root, config.experiment, f"{sources.data_name(config.data)}_{config.preset}")


def _write_synthesis(run, name, observed, samples, reconstruction=None):
    """GIF + MP4 of observed | samples side by side, and a Figure-1 style strip (one row per clip)."""
    panels = ([] if observed is None else [observed]) + list(samples)
    video = writers.side_by_side(panels)
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), video),
             writers.write_mp4(run.sample_path(f"{name}.mp4"), video)]
    rows = ([] if observed is None else [observed]) + ([] if reconstruction is None else [reconstruction])
    rows += list(samples)
    every = max(1, max(len(row) for row in rows) // 10)
    paths.append(writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(rows, every=every)))
    return paths


def train_texture(config, workdir=None):
    """AAAI'19 §4.1: learns one model per clip named by `config.data` and synthesises from each.

    Writes, per clip, `samples/observed_vs_synthesised.{gif,mp4}` (observed clip looped beside
    `num_output_samples` synthesised clips twice its length), a strip PNG, and `metrics.json`.

    Returns:
      list of (run directory path, metrics dict), one per clip.
    """
    config.validate()
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    workdir = workdir or default_workdir(config)
    results = []
    for clip in clips:
        clip_config = config if len(clips) == 1 else dataclasses.replace(config, data=clip.source)
        run = runs.RunDirectory(workdir if len(clips) == 1 else os.path.join(workdir, clip.name))
        run.prepare(clip_config)
        trainer = Trainer(clip_config, clip.frames[None])
        loop_metrics = run_training(trainer, run, f"texture {clip.name}")
        reconstruction = trainer.reconstruct()[0]
        samples = trainer.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed)
        paths = _write_synthesis(run, "observed_vs_synthesised", clip.frames, samples, reconstruction)
        metrics = dict(run.read_metrics(), clip=clip.name, data=clip.source,
                       recon_mse=float(np.mean(np.square(reconstruction - clip.frames))), **loop_metrics)
        history = run.read_history()
        if history:
            metrics["final_train_loss"] = history[-1]["loss"]
        run.write_metrics(metrics)
        print(f"{clip.name}: reconstruction MSE {metrics['recon_mse']:.4f} after {metrics['iterations']} iterations "
              f"({metrics['seconds_per_iteration']:.2f} s/iteration); wrote {', '.join(paths)}")
        results.append((run.path, metrics))
    return results


def restore_trainer(workdir):
    """The trainer of a finished or interrupted run in `workdir`, at its latest checkpoint."""
    run = runs.RunDirectory(workdir)
    config = runs.config_from_dict(configs.TextureConfig, run.read_config_dict())
    trainer = Trainer(config, num_clips=1)
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    return run, trainer


def sample_texture(workdir, num_frames, num_samples, seed=0, burn_in=0):
    """Synthesises `num_samples` clips of `num_frames` frames from a trained run, by unrolling F_α.

    Returns:
      list of written file paths.
    """
    if num_frames <= 0 or num_samples <= 0 or burn_in < 0:
        raise ValueError(f"--num_frames and --num_samples must be positive and --burn_in not negative, got "
                         f"{num_frames}, {num_samples}, {burn_in}")
    run, trainer = restore_trainer(workdir)
    samples = trainer.synthesize(num_samples, num_frames, seed=seed, burn_in=burn_in)
    paths = _write_synthesis(run, f"sample_{num_frames}f_seed{seed}", None, samples)
    print(f"wrote {', '.join(paths)}")
    return paths


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A paper experiment as `main.py` sees it: its config class, presets, and one runner per `--mode`.

    A runner is called as `runner(config, workdir, options)`: `config` is the resolved preset (train modes) or
    None (modes that read the run's own config from `workdir`), `options` the non-config flags as a dict.
    """
    name: str
    config_class: type
    presets: dict
    modes: dict


def _train_texture_mode(config, workdir, options):
    return train_texture(config, workdir)


def _sample_texture_mode(config, workdir, options):
    if not workdir:
        raise ValueError("--mode sample needs --workdir, the directory of a trained run")
    return sample_texture(workdir, options["num_frames"] or 120, options["num_samples"], options["sample_seed"],
                          options["burn_in"])


EXPERIMENTS = {
    "texture": Experiment("texture", configs.TextureConfig, configs.PRESETS["texture"],
                          {"train": _train_texture_mode, "sample": _sample_texture_mode}),
}
