"""A trained dynamic-generator run back as its trainer, at its latest checkpoint (sampling, export, new clips)."""

import json
import os

from abp_video import distribute, runs
from dynamic_generator import configs
from dynamic_generator.animation import AnimationTrainer
from dynamic_generator.train import DynamicGeneratorTrainer

# A run of many clips (action, animate) lists them here: training clip names in latent order, held-out names, and
# where each clip came from.
CLIPS_FILE = "clips.json"


def read_clips(run):
    """The `clips.json` of `run` as a dict; FileNotFoundError when the run learned one clip."""
    path = os.path.join(run.path, CLIPS_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} is missing: --workdir {run.path} is not an --experiment action run")
    with open(path) as handle:
        return json.load(handle)


def write_clips(run, training, held_out):
    """Writes `clips.json` for the `Clip`s a run learns from (`training`, in latent order) and holds out."""
    runs.write_json_atomic(os.path.join(run.path, CLIPS_FILE), {
        "training": [clip.name for clip in training], "held_out": [clip.name for clip in held_out],
        "sources": {clip.name: clip.source for clip in training + held_out}})


def restore_trainer(workdir):
    """The trainer of a finished or interrupted run in `workdir`, at its latest checkpoint.

    Returns:
      (RunDirectory, DynamicGeneratorTrainer or AnimationTrainer).
    """
    run = runs.RunDirectory(workdir)
    config = run.read_config(configs.DynamicGeneratorConfig)
    if config.method != "dg":
        raise ValueError(f"--workdir {run.path} holds a --method {config.method} run, which has no dynamic generator "
                         f"to restore; give a run trained with --method dg")
    config = distribute.in_one_process(config)  # Restoring a multi-worker run needs no other workers.
    num_clips = len(read_clips(run)["training"]) if os.path.isfile(os.path.join(run.path, CLIPS_FILE)) else 1
    trainer = (AnimationTrainer if config.encoder is not None else DynamicGeneratorTrainer)(config, num_clips=num_clips)
    if not runs.Checkpointer(run.checkpoint_dir, **trainer.trackables()).restore_or_initialize():
        raise FileNotFoundError(f"no checkpoint in {run.checkpoint_dir}; train first with --mode train")
    return run, trainer
