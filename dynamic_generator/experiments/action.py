"""AAAI'19 §4.2 action patterns: one motion model from many clips, an appearance vector per clip (Figures 3-4)."""

import dataclasses
import os

import numpy as np

from abp_video import registry, runs
from abp_video.loop import run_training
from abp_video.data import sources, writers
from dynamic_generator import configs, export
from dynamic_generator.restore import read_clips, restore_trainer, write_clips
from dynamic_generator.train import DynamicGeneratorTrainer

# Figure 3: how many training appearances are shown, and new motions per appearance.
FIGURE3_APPEARANCES = 4

FIGURE3_MOTIONS = 2

def default_clips_workdir(config, root=None):
    """`checkpoints/<experiment>/<data name>_<preset>` for the experiments that learn from many clips."""
    root = root or runs.default_root()
    return os.path.join(root, config.experiment, f"{sources.data_name(config.data)}_{config.preset}")

def split_held_out(clips, config):
    """(training clips, held-out clips): `config.clips.num_held_out` clips chosen by `config.seed`, order kept."""
    num_held_out = config.clips.num_held_out
    if num_held_out >= len(clips):
        raise ValueError(f"--num_held_out {num_held_out} leaves no training clip: --data {config.data} holds "
                         f"{len(clips)} clips")
    held_out = set(np.random.default_rng(config.seed).permutation(len(clips))[:num_held_out].tolist())
    return ([clip for index, clip in enumerate(clips) if index not in held_out],
            [clip for index, clip in enumerate(clips) if index in held_out])

def load_action_clips(config):
    """The clips of `config.data` (a folder of clips, or synthetic:actions), checked, split into training/held out."""
    if not config.appearance_dim:
        raise ValueError("--experiment action learns an appearance vector per clip: --appearance_dim must be "
                         "positive (the presets use 100)")
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    if len(clips) < 2:
        raise ValueError(f"--data {config.data} holds one clip; --experiment action learns one model from several "
                         f"clips (give a folder of videos), --experiment texture learns from one")
    return split_held_out(clips, config)

def mse_per_clip(reconstruction, clips):
    return {clip.name: float(np.mean(np.square(frames - clip.frames))) for clip, frames in zip(clips, reconstruction)}

def _new_motions(trainer, appearance, motion, num_frames, seed):
    """`FIGURE3_MOTIONS` new videos for each appearance: ξ ~ N(0, I) and s_0 ~ N(0, I) (the authors' test), the
    whole batch of appearances generated together (normalisation statistics over a batch of clips, as in training).

    Returns:
      float32 [motions, appearances, num_frames, height, width, 3].
    """
    return np.stack([trainer.synthesize(len(appearance), num_frames, seed=seed + index, random_initial_state=True,
                                        appearance=appearance, motion=motion, num_groups=1)
                     for index in range(FIGURE3_MOTIONS)])

def write_figure3(run, name, trainer, clips, seed):
    """Figure 3: for a few appearances, the observed clip, then new motions with that appearance (GIF + strip).

    Returns:
      list of written paths.
    """
    vectors = trainer.latents.clip_vectors()
    motion = vectors["motion"].numpy() if "motion" in vectors else None
    samples = _new_motions(trainer, vectors["appearance"].numpy(), motion, trainer.config.num_frames, seed)
    shown = np.unique(np.linspace(0, len(clips) - 1, min(FIGURE3_APPEARANCES, len(clips))).round().astype(int))
    rows = [[clips[i].frames] + [samples[k, i] for k in range(FIGURE3_MOTIONS)] for i in shown]
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), writers.grid(rows)),
             writers.write_mp4(run.sample_path(f"{name}.mp4"), writers.grid(rows))]
    every = max(1, trainer.config.num_frames // 10)
    strip = writers.frame_strip([clip for row in rows for clip in row], every=every)
    paths.append(writers.write_png(run.sample_path(f"{name}_strip.png"), strip))
    return paths

def _frozen_trainer(trained_config, trained_run, observed):
    """A trainer on new clips `observed` with the weights of a trained action run, latents from their prior.

    The trained checkpoint is restored whole into a trainer shaped like the training run (weights are reached
    through the optimizer), then the weights are copied: nothing else of the training clips comes along.
    """
    trained = restore_trainer(trained_run.path)[1]
    trainer = DynamicGeneratorTrainer(trained_config, observed)
    trainer.model.set_weights(trained.model.get_weights())
    return trainer

def infer_clips(trained_config, trained_run, clips, num_iterations):
    """With the model frozen, infers a, s_0 and ξ of `clips` by `num_iterations` Langevin sweeps from the prior.

    Returns:
      (trainer holding the inferred latents, reconstruction MSE per clip, seconds per sweep).
    """
    if num_iterations <= 0:
        raise ValueError(f"--inference_iterations must be positive, got {num_iterations}")
    trainer = _frozen_trainer(trained_config, trained_run, np.stack([clip.frames for clip in clips]))
    weights = [weight.numpy() for weight in trainer.model.weights]
    stopwatch = runs.Stopwatch()
    with runs.progress_bar(0, num_iterations, "inferring new clips") as bar:
        for _ in range(num_iterations):
            stopwatch.start()
            trainer.infer_iteration()
            stopwatch.stop()
            bar.update()
    if any(not np.array_equal(before, after.numpy()) for before, after in zip(weights, trainer.model.weights)):
        raise RuntimeError("the weights changed during inference")  # A bug, not a user error.
    return trainer, mse_per_clip(trainer.reconstruct(), clips), stopwatch.seconds_per_iteration()

def train_action(config, workdir=None, inference_iterations=100):
    """AAAI'19 §4.2: one model (α, β) from many clips, an appearance vector per clip, then Figure 3.

    Writes `samples/figure3.{gif,mp4}` and strip (rows: observed clip, then new motions with its inferred
    appearance), `clips.json` (training and held-out clip names, in latent order) and `metrics.json` with the
    reconstruction MSE of every training clip and, with `--num_held_out`, of every held-out clip after
    `inference_iterations` Langevin sweeps with the model frozen.

    Returns:
      (run directory path, metrics dict).
    """
    config.validate()
    training, held_out = load_action_clips(config)
    run = runs.RunDirectory(workdir or default_clips_workdir(config))
    trainer = DynamicGeneratorTrainer(config, np.stack([clip.frames for clip in training]))  # Refuses bad settings before the run
    run.prepare(config)                                                      # directory exists.
    write_clips(run, training, held_out)
    loop_metrics = run_training(trainer, run, f"action {sources.data_name(config.data)}")
    train_mse = mse_per_clip(trainer.reconstruct(), training)
    paths = write_figure3(run, "figure3", trainer, training, config.seed)
    result = dict(run.read_metrics(), **loop_metrics, data=config.data, num_training_clips=len(training),
                  recon_mse=float(np.mean(list(train_mse.values()))), recon_mse_per_clip=train_mse)
    if held_out:
        trainer_new, held_mse, seconds = infer_clips(config, run, held_out, inference_iterations)
        paths += write_figure3(run, "figure3_held_out", trainer_new, held_out, config.seed)
        result.update(held_out_recon_mse=float(np.mean(list(held_mse.values()))),
                      held_out_recon_mse_per_clip=held_mse, held_out_inference_iterations=inference_iterations,
                      held_out_seconds_per_inference_iteration=seconds)
    run.write_metrics(result)
    held = (f"; held-out clips after {inference_iterations} inference sweeps: {result['held_out_recon_mse']:.4f}"
            if held_out else "")
    print(f"{len(training)} training clips: mean reconstruction MSE {result['recon_mse']:.4f}{held}; "
          f"wrote {', '.join(paths)}")
    return run.path, result

def _action_run(workdir):
    if not workdir:
        raise ValueError("this mode needs --workdir, the directory of a trained --experiment action run")
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.DynamicGeneratorConfig)
    if config.experiment != "action":
        raise ValueError(f"--workdir {workdir} holds a {config.experiment!r} run; this mode needs an "
                         f"--experiment action run")
    return run, config

def infer_new_clips(workdir, data, num_iterations=100):
    """`--mode infer`: a trained action model, frozen, applied to clips it never saw (§4.2).

    Infers appearance, s_0 and ξ of every clip of `data`, reports their reconstruction MSE and synthesises new
    motions with the inferred appearances. Writes `<workdir>/infer/<data name>/` (metrics.json, Figure-3 GIF and
    strip of the new clips).

    Returns:
      (output directory, metrics dict).
    """
    run, config = _action_run(workdir)
    if not data:
        raise ValueError("--mode infer needs --data, the new clips (a folder of videos)")
    clips = sources.load_clips(data, config.num_frames, config.image_size, config.seed)
    trainer, mse, seconds = infer_clips(config, run, clips, num_iterations)
    out = runs.RunDirectory(os.path.join(run.path, "infer", sources.data_name(data)))
    out.prepare(dataclasses.replace(config, data=data, num_iterations=num_iterations))
    paths = write_figure3(out, "figure3_new_clips", trainer, clips, config.seed)
    result = dict(data=data, inference_iterations=num_iterations, seconds_per_inference_iteration=seconds,
                  recon_mse=float(np.mean(list(mse.values()))), recon_mse_per_clip=mse)
    out.write_metrics(result)
    print(f"{len(clips)} new clips, model frozen, {num_iterations} inference sweeps: mean reconstruction MSE "
          f"{result['recon_mse']:.4f}; wrote {', '.join(paths)}")
    return out.path, result

def interpolate(workdir, clip_names, steps=5, seed=0, num_frames=None):
    """Figure 4: videos from appearances interpolated between two inferred ones, with one ξ and s_0 for all.

    a_k = (1 - w_k) a_A + w_k a_B for w_k evenly spaced in [0, 1] (linear, as the paper). The `steps` videos are
    generated together as one batch (the normalisation statistics of a batch of clips, as in training). Writes
    `samples/interpolate_<A>_<B>.{gif,mp4}` (a row of `steps` videos) and a strip (one row per step).

    Returns:
      list of written paths.
    """
    run, config = _action_run(workdir)
    names = read_clips(run)["training"]
    if len(clip_names or ()) != 2:
        raise ValueError(f"--clips takes two training clip names, got {list(clip_names or ())}; this run has "
                         f"{names}")
    unknown = [name for name in clip_names if name not in names]
    if unknown:
        raise ValueError(f"--clips {' '.join(unknown)}: no such training clip in {workdir}; choose from {names}")
    if steps < 2:
        raise ValueError(f"--steps must be at least 2 (the two ends), got {steps}")
    num_frames = config.num_frames if num_frames is None else num_frames
    if num_frames <= 0:
        raise ValueError(f"--num_frames must be positive, got {num_frames}")
    _, trainer = restore_trainer(workdir)
    appearance = trainer.latents.appearance.numpy()[[names.index(name) for name in clip_names]]
    weights = np.linspace(0.0, 1.0, steps)[:, None]
    interpolated = (1 - weights) * appearance[0] + weights * appearance[1]
    rng = np.random.default_rng(seed)
    chunks = -(-num_frames // config.chunk_length)
    noise = np.repeat(rng.standard_normal((1, chunks * config.chunk_length, config.noise_dim)), steps, axis=0)
    initial_state = np.repeat(rng.standard_normal((1, config.state_dim)), steps, axis=0)
    motion = None
    if trainer.latents.motion is not None:  # The motion type of clip A for every step.
        motion = np.repeat(trainer.latents.motion.numpy()[[names.index(clip_names[0])]], steps, axis=0)
    videos = trainer.synthesize(steps, num_frames, seed, appearance=interpolated.astype(np.float32),
                                motion=motion, initial_state=initial_state.astype(np.float32),
                                noise=noise.astype(np.float32), num_groups=1)
    name = f"interpolate_{clip_names[0]}_{clip_names[1]}"
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), writers.side_by_side(list(videos))),
             writers.write_mp4(run.sample_path(f"{name}.mp4"), writers.side_by_side(list(videos)))]
    every = max(1, num_frames // 10)
    paths.append(writers.write_png(run.sample_path(f"{name}_strip.png"), writers.frame_strip(list(videos), every)))
    print(f"{steps} appearances from {clip_names[0]} to {clip_names[1]}, one ξ and s_0 (seed {seed}); "
          f"wrote {', '.join(paths)}")
    return paths

def sample_action(workdir, num_frames, seed=0):
    """`--mode sample` for an action run: new motions for every training appearance (Figure 3 layout)."""
    run, config = _action_run(workdir)
    names = read_clips(run)["training"]
    num_frames = config.num_frames if num_frames is None else num_frames
    if num_frames <= 0:
        raise ValueError(f"--num_frames must be positive, got {num_frames}")
    _, trainer = restore_trainer(workdir)
    vectors = trainer.latents.clip_vectors()
    motion = vectors["motion"].numpy() if "motion" in vectors else None
    samples = _new_motions(trainer, vectors["appearance"].numpy(), motion, num_frames, seed)
    rows = [[samples[k, i] for k in range(FIGURE3_MOTIONS)] for i in range(len(names))]
    name = f"sample_{num_frames}f_seed{seed}"
    paths = [writers.write_gif(run.sample_path(f"{name}.gif"), writers.grid(rows))]
    print(f"new motions for {len(names)} appearances; wrote {', '.join(paths)}")
    return paths


def _train_mode(config, workdir, options):
    return train_action(config, workdir, options["inference_iterations"])


def _sample_mode(config, workdir, options):
    if options["stream"]:
        raise ValueError("--stream is for texture, recover and inpaint runs; an action run's --mode sample writes "
                         "the Figure-3 layout: drop --stream")
    return sample_action(workdir, options["num_frames"], options["sample_seed"])


def _infer_mode(config, workdir, options):
    return infer_new_clips(workdir, config.data, options["inference_iterations"])


def _interpolate_mode(config, workdir, options):
    # `--clips A,B` or `--clips A B` (absl leaves B among the positional arguments).
    clips = list(options["clips"] or ()) + list(options["more_data"])
    return interpolate(workdir, clips, options["steps"], options["sample_seed"], options["num_frames"])


INTERPOLATE = registry.Mode(_interpolate_mode, options=("clips", "steps", "sample_seed", "num_frames"))

registry.register(registry.Experiment(
    name="action", paper="AAAI'19 §4.2, Figures 3-4", config_class=configs.DynamicGeneratorConfig,
    presets=configs.PRESETS["action"], family="action", resolve=configs.resolve, docs="docs/action.md",
    modes={"train": registry.Mode(_train_mode, trains=True, options=("inference_iterations",)),
           "sample": registry.Mode(_sample_mode, options=("num_frames", "sample_seed", "stream")),
           "infer": registry.Mode(_infer_mode, options=("inference_iterations",), settings=("data",),
                                  required={"data": "the new clips (a folder of videos)"}),
           "interpolate": INTERPOLATE},
    export=export.export_action))

# Figure 4 on a trained action run (`--workdir`); no preset: everything comes from the run.
registry.register(registry.Experiment(
    name="interpolate", paper="AAAI'19 §4.2, Figure 4", config_class=configs.DynamicGeneratorConfig, presets={},
    family="action", runs_of="action", docs="docs/action.md", modes={"train": INTERPOLATE}))
