"""AAAI'19 §4.1 dynamic textures: learn one clip (`--method dg`, or the baselines `--method lds` and `mocogan`),
synthesise."""

import dataclasses
import os
import time

import numpy as np

from abp_video.baselines import lds as lds_baseline
from abp_video.baselines.mocogan import MoCoGANTrainer
from abp_video import registry, runs
from abp_video.loop import run_training
from abp_video.data import sources, writers
from dynamic_generator import configs, export
from dynamic_generator.restore import restore_trainer
from dynamic_generator.train import DynamicGeneratorTrainer, synthesis_start

def default_workdir(config, root=None):
    """`checkpoints/<experiment>/<data name>_<preset>`."""
    root = root or runs.default_root()
    return os.path.join(root, config.experiment, f"{sources.data_name(config.data)}_{config.preset}")

def write_synthesis(run, name, observed, samples, reconstruction=None):
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

def clip_runs(config, workdir):
    """Loads the clips named by `config.data`; yields (clip, its config, its run directory, not yet prepared).

    One clip runs in `workdir` itself, several in one sub-directory per clip.
    """
    clips = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)
    for clip in clips:
        clip_config = config if len(clips) == 1 else dataclasses.replace(config, data=clip.source)
        yield clip, clip_config, runs.RunDirectory(workdir if len(clips) == 1 else os.path.join(workdir, clip.name))

def train_texture(config, workdir=None):
    """AAAI'19 §4.1: learns one model per clip named by `config.data` and synthesises from each.

    Writes, per clip, `samples/observed_vs_synthesised.{gif,mp4}` (observed clip looped beside
    `num_output_samples` synthesised clips twice its length), a strip PNG, and `metrics.json`.

    Returns:
      list of (run directory path, metrics dict), one per clip.
    """
    config.validate()
    results = []
    for clip, clip_config, run in clip_runs(config, workdir or default_workdir(config)):
        trainer = DynamicGeneratorTrainer(clip_config, clip.frames[None])  # Refuses bad settings before the run directory exists.
        run.prepare(clip_config)
        loop_metrics = run_training(trainer, run, f"texture {clip.name}")
        last_iteration_mse = trainer.reconstruction_mse()
        for _ in range(configs.REFRESH_SWEEPS):  # Latents refreshed for the final weights (not checkpointed).
            trainer.infer_iteration()
        reconstruction = trainer.reconstruct()[0]
        samples = trainer.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed,
                                     **synthesis_start())
        paths = write_synthesis(run, "observed_vs_synthesised", clip.frames, samples, reconstruction)
        metrics = dict(run.read_metrics(), clip=clip.name, data=clip.source,
                       recon_mse=float(np.mean(np.square(reconstruction - clip.frames))),
                       recon_mse_last_iteration=last_iteration_mse, refresh_sweeps=configs.REFRESH_SWEEPS,
                       **loop_metrics)
        history = run.read_history()
        if history:
            metrics["final_train_loss"] = history[-1]["loss"]
        run.write_metrics(metrics)
        print(f"{clip.name}: reconstruction MSE {metrics['recon_mse']:.4f} after {metrics['iterations']} iterations "
              f"and {configs.REFRESH_SWEEPS} Langevin sweeps with the final weights ({last_iteration_mse:.4f} "
              f"before them; {metrics['seconds_per_iteration']:.2f} s/iteration); wrote {', '.join(paths)}")
        results.append((run.path, metrics))
    return results

def sample_texture(workdir, num_frames, num_samples, seed=0, burn_in=None, stream=False, start="random"):
    """Synthesises `num_samples` clips of `num_frames` frames from a trained run, by unrolling F_α.

    `start` and `burn_in` as `train.synthesis_start` (default §4.1: s_0 ~ N(0, I), the first
    configs.SYNTHESIS_BURN_IN frames dropped). With `stream`, the clips (side by side) go into one MP4 chunk by
    chunk as they are synthesised: the state is carried from chunk to chunk and no more than one chunk of frames is
    held, so memory does not grow with `num_frames` (docs/texture.md, "Endless synthesis"). Otherwise GIF, MP4 and
    strip are written from the whole clips.

    Returns:
      list of written file paths.
    """
    if num_frames <= 0 or num_samples <= 0:
        raise ValueError(f"--num_frames and --num_samples must be positive, got {num_frames}, {num_samples}")
    how = synthesis_start(start, burn_in)
    run, trainer = restore_trainer(workdir)
    if stream:
        return [stream_samples(run, trainer, num_frames, num_samples, seed, how)]
    samples = trainer.synthesize(num_samples, num_frames, seed=seed, **how)
    paths = write_synthesis(run, f"sample_{num_frames}f_seed{seed}", None, samples)
    print(f"wrote {', '.join(paths)} ({start} s_0, {how['burn_in']} burn-in frames dropped)")
    return paths

def stream_samples(run, trainer, num_frames, num_samples, seed, how):
    """Writes `samples/stream_<N>f_seed<S>.mp4` chunk by chunk from `DynamicGeneratorTrainer.synthesize_chunks`; returns its path.

    `how`: the start and burn-in, keyword arguments from `train.synthesis_start`.

    The file is written under a temporary name and renamed when complete, so an interrupted stream leaves no
    truncated MP4 under the final name.
    """
    path = run.sample_path(f"stream_{num_frames}f_seed{seed}.mp4")
    temporary = path + ".partial.mp4"
    size, gap = trainer.config.image_size, 2
    bar = runs.progress_bar(0, num_frames, "synthesising")
    try:
        with writers.Mp4Writer(temporary, size, num_samples * (size + gap) - gap) as writer:
            for chunk in trainer.synthesize_chunks(num_samples, num_frames, seed=seed, **how):
                writer.write(writers.side_by_side(list(chunk), gap=gap))
                bar.update(chunk.shape[1])
        os.replace(temporary, path)
    finally:
        bar.close()
        if os.path.exists(temporary):
            os.remove(temporary)
    print(f"wrote {path} ({num_frames} frames of {num_samples} clip{'s' if num_samples > 1 else ''} side by side)")
    return path


# ---- the LDS baseline of §4.1 (Doretto et al., IJCV 2003): `--method lds` ---------------------------------

LDS_FILE = "lds.npz"

def default_lds_workdir(config, root=None):
    """`checkpoints/texture/<data name>_<preset>_lds`, beside the dynamic generator's run on the same clip."""
    root = root or runs.default_root()
    return default_workdir(config, root) + "_lds"

def train_lds(config, workdir=None, lds_config=lds_baseline.LdsConfig()):
    """The LDS baseline of §4.1 (Doretto et al., IJCV 2003): one closed-form fit per clip named by `config.data`.

    Reads exactly the frames `train_texture` would (`data`, `num_frames`, `image_size`, `seed`) and writes the same
    outputs: `samples/observed_vs_synthesised.{gif,mp4}` and strip, `metrics.json` (recon_mse is the projection on
    the d principal components), the fitted system in `ckpt/lds.npz` and `config.json`.

    Returns:
      list of (run directory path, metrics dict), one per clip.
    """
    config.validate()
    lds_config.validate()
    results = []
    for clip, clip_config, run in clip_runs(config, workdir or default_lds_workdir(config)):
        run.prepare(clip_config)
        start = time.perf_counter()
        lds = lds_baseline.fit_lds(clip.frames, lds_config)
        seconds = time.perf_counter() - start
        lds.save(os.path.join(run.checkpoint_dir, LDS_FILE))
        reconstruction = lds.reconstruct()
        samples = lds.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed)
        paths = write_synthesis(run, "observed_vs_synthesised", clip.frames, samples, reconstruction)
        metrics = dict(clip=clip.name, data=clip.source, method="lds",
                       recon_mse=float(np.mean(np.square(reconstruction - clip.frames))), train_seconds=seconds,
                       state_dim=lds.state_dim, noise_dim=lds.noise_dim, explained_variance=lds.explained_variance,
                       spectral_radius=lds.spectral_radius, stabilised=lds.stabilised,
                       lds_config=dataclasses.asdict(lds_config))
        run.write_metrics(metrics)
        print(f"{clip.name}: LDS with d = {lds.state_dim} ({100 * lds.explained_variance:.1f}% of the variance), "
              f"n_v = {lds.noise_dim}, spectral radius {lds.spectral_radius:.3f}"
              f"{' (stabilised)' if lds.stabilised else ''}, reconstruction MSE {metrics['recon_mse']:.4f} "
              f"in {seconds:.2f} s; wrote {', '.join(paths)}")
        results.append((run.path, metrics))
    return results

def is_lds_run(workdir):
    return os.path.isfile(os.path.join(runs.RunDirectory(workdir).checkpoint_dir, LDS_FILE))

def sample_lds(workdir, num_frames, num_samples, seed=0, burn_in=0):
    """`--mode sample` for an LDS run: new clips of any length from `ckpt/lds.npz` (the LDS starts from its
    training clip's first state, as Doretto et al. synthesise; `burn_in` None = 0)."""
    burn_in = burn_in or 0
    if num_frames <= 0 or num_samples <= 0 or burn_in < 0:
        raise ValueError(f"--num_frames and --num_samples must be positive and --burn_in not negative, got "
                         f"{num_frames}, {num_samples}, {burn_in}")
    run = runs.RunDirectory(workdir)
    lds = lds_baseline.LinearDynamicalSystem.load(os.path.join(run.checkpoint_dir, LDS_FILE))
    samples = lds.synthesize(num_samples, num_frames, seed=seed, burn_in=burn_in)
    paths = write_synthesis(run, f"sample_{num_frames}f_seed{seed}", None, samples)
    print(f"wrote {', '.join(paths)}")
    return paths

def lds_config_from(options):
    return lds_baseline.LdsConfig(state_dim=options.get("lds_state_dim") or 0,
                               noise_dim=options.get("lds_noise_dim") or 0).validate()


# ---- MoCoGAN (Tulyakov et al., CVPR'18), the GAN of §4.1's comparison: `--method mocogan` ----------------

class MoCoGANTexture(MoCoGANTrainer):
    """MoCoGAN on one clip with its TensorBoard images: the observed clip over two generated videos."""

    def summary_images(self):
        clip = self.clip.numpy()
        every = max(1, len(clip) // 10)
        return {"samples/observed_synthesised": writers.frame_strip(
            [clip, *self.synthesize(2, len(clip), seed=0)], every=every)}

def is_mocogan_run(workdir):
    run = runs.RunDirectory(workdir)
    return run.exists() and run.read_config(configs.DynamicGeneratorConfig).method == "mocogan"

def train_mocogan(config, workdir=None):
    """MoCoGAN learned from each clip named by `config.data` (abp_video/baselines/mocogan.py) for `config.num_iterations`
    of its batches, resumable from its checkpoints; writes the same outputs as `train_texture`.

    Returns:
      list of (run directory path, metrics dict), one per clip.
    """
    config.validate()
    results = []
    for clip, clip_config, run in clip_runs(config, workdir or default_workdir(config) + "_mocogan"):
        trainer = MoCoGANTexture(clip_config, clip.frames)
        run.prepare(clip_config)
        loop_metrics = run_training(trainer, run, f"texture {clip.name} (MoCoGAN)")
        samples = trainer.synthesize(config.num_output_samples, 2 * config.num_frames, seed=config.seed)
        paths = write_synthesis(run, "observed_vs_synthesised", clip.frames, samples)
        metrics = dict(run.read_metrics(), clip=clip.name, data=clip.source, method="mocogan", **loop_metrics)
        run.write_metrics(metrics)
        print(f"{clip.name}: MoCoGAN after {metrics['iterations']} iterations "
              f"({metrics['seconds_per_iteration']:.2f} s/iteration); wrote {', '.join(paths)}")
        results.append((run.path, metrics))
    return results

def restore_mocogan(workdir):
    """A MoCoGAN texture run back at its latest checkpoint: (RunDirectory, MoCoGANTexture)."""
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.DynamicGeneratorConfig)
    clip = sources.load_clips(config.data, config.num_frames, config.image_size, config.seed)[0]
    trainer = MoCoGANTexture(config, clip.frames)
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    return run, trainer


def _train_mode(config, workdir, options):
    if options["more_data"]:
        raise ValueError(f"unexpected arguments {' '.join(options['more_data'])}: --experiment texture learns "
                         f"from one --data; --experiment texture_eval takes several")
    if config.method == "lds":
        return train_lds(config, workdir, lds_config_from(options))
    if config.method == "mocogan":
        return train_mocogan(config, workdir)
    return train_texture(config, workdir)


def sample_mode(config, workdir, options):
    """`--mode sample` of texture, recover and inpaint runs (the LDS's too): `--num_frames` (default 120) frames."""
    num_frames = 120 if options["num_frames"] is None else options["num_frames"]
    if is_lds_run(workdir):
        if options["stream"]:
            raise ValueError(f"--stream is for dynamic generator runs; {workdir} holds an LDS run: drop --stream")
        return sample_lds(workdir, num_frames, options["num_samples"], options["sample_seed"], options["burn_in"])
    if is_mocogan_run(workdir):
        if options["stream"] or options["burn_in"]:
            raise ValueError(f"--stream and --burn_in are for dynamic generator runs; {workdir} holds a MoCoGAN run: "
                             f"drop them")
        run, trainer = restore_mocogan(workdir)
        samples = trainer.synthesize(options["num_samples"], num_frames, seed=options["sample_seed"])
        paths = write_synthesis(run, f"sample_{num_frames}f_seed{options['sample_seed']}", None, samples)
        print(f"wrote {', '.join(paths)}")
        return paths
    return sample_texture(workdir, num_frames, options["num_samples"], options["sample_seed"], options["burn_in"],
                          stream=options["stream"], start=options["synthesis_start"])


SAMPLE = registry.Mode(sample_mode, options=("num_frames", "num_samples", "burn_in", "synthesis_start", "sample_seed",
                                             "stream"))

registry.register(registry.Experiment(
    name="texture", paper="AAAI'19 §4.1", config_class=configs.DynamicGeneratorConfig,
    presets=configs.PRESETS["texture"], family="texture", resolve=configs.resolve, docs="docs/texture.md",
    modes={"train": registry.Mode(_train_mode, trains=True, options=("lds_state_dim", "lds_noise_dim")),
           "sample": SAMPLE},
    export=export.export_texture))
