"""Every method of Tables 2-3 by name, and a trained spatial-temporal run back as its trainer (export, tables)."""

import numpy as np
import tensorflow as tf

from abp_video import distribute, runs
from st_generator import configs
from st_generator.baselines import GANTrainer, VAETrainer, WakeSleepTrainer
from st_generator.train import STGeneratorTrainer

TRAINERS = {"vae": VAETrainer, "ws": WakeSleepTrainer, "gan": GANTrainer}


def build_trainer(config, observed, visible=None):
    """The trainer of `config.method`: ABP / LI-ABP (`STGeneratorTrainer`) or one of the baselines."""
    return TRAINERS.get(config.method, STGeneratorTrainer)(config, observed, visible)


def restore_trainer(workdir):
    """The trainer of a finished or interrupted st_synthesis / st_interpolate / st_recover run, at its latest
    checkpoint (weights, chains, RNG); its segments are not reloaded (zeros of the trained shape stand in).

    Returns:
      (RunDirectory, trainer).
    """
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.STConfig)
    config = distribute.in_one_process(config)  # Restoring a multi-worker run needs no other workers.
    candidates = runs.checkpoint_candidates(run.checkpoint_dir)
    if not candidates:
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    shapes = tf.train.load_checkpoint(candidates[0]).get_variable_to_shape_map()
    num_segments = shapes["latents/.ATTRIBUTES/VARIABLE_VALUE"][0]
    trainer = build_trainer(config, np.zeros([num_segments, *config.video_shape, 3], np.float32))
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    return run, trainer
