"""The training loop both models share: restore-or-initialise, iterate, log, checkpoint, survive interruption."""

import math

import numpy as np
import tensorflow as tf

from common.runs import Checkpointer, Stopwatch, progress_bar


def _finite_or_raise(metrics, iteration):
    bad = {key: value for key, value in metrics.items() if key != "acceptance_rate" and not math.isfinite(value)}
    if bad:
        raise FloatingPointError(
            f"training diverged at iteration {iteration}: {bad}. The last good checkpoint is kept; lower "
            f"--langevin_step_size or --learning_rate and run again with the same --workdir to resume")


def run_training(trainer, run, description):
    """Trains `trainer` in run directory `run` up to `trainer.config.num_iterations`, resuming if possible.

    The trainer provides `train_iteration() -> dict of floats`, `trackables()`, an `iteration` variable,
    `config` (with log_every, sample_every, checkpoint_every, num_iterations) and `summary_images() -> dict`.
    A checkpoint is written every `checkpoint_every` iterations, at the end, and when the run is interrupted
    (Ctrl-C), so at most the iterations since the last checkpoint are lost when the process is killed.

    Returns:
      dict with `iterations` (reached) and `seconds_per_iteration` (median over this session).
    """
    config = trainer.config
    checkpointer = Checkpointer(run.checkpoint_dir, **trainer.trackables())
    restored = checkpointer.restore_or_initialize()
    start = int(trainer.iteration.numpy())
    if restored:
        run.truncate_history(start)
        print(f"Resuming {run.path} from iteration {start} ({restored}).")
    writer = tf.summary.create_file_writer(run.tensorboard_dir)
    stopwatch = Stopwatch()
    bar = progress_bar(start, config.num_iterations, description)
    saved_at = start
    try:
        while int(trainer.iteration.numpy()) < config.num_iterations:
            stopwatch.start()
            metrics = trainer.train_iteration()
            seconds = stopwatch.stop()
            iteration = int(trainer.iteration.numpy())
            _finite_or_raise(metrics, iteration)
            bar.update(1)
            bar.set_postfix(loss=f"{metrics['loss']:.4g}", mse=f"{metrics['recon_mse']:.4f}", refresh=False)
            if iteration % config.log_every == 0 or iteration == config.num_iterations:
                with writer.as_default(step=iteration):
                    for key, value in metrics.items():
                        if not (isinstance(value, float) and math.isnan(value)):
                            tf.summary.scalar(f"train/{key}", value)
                    tf.summary.scalar("train/iterations_per_sec", 1.0 / max(seconds, 1e-9))
                run.append_history(dict(iteration=iteration, seconds=seconds, **metrics))
            if iteration % config.sample_every == 0 or iteration == config.num_iterations:
                with writer.as_default(step=iteration):
                    for name, image in trainer.summary_images().items():
                        tf.summary.image(name, np.asarray(image)[None])
            if iteration % config.checkpoint_every == 0 or iteration == config.num_iterations:
                checkpointer.save(iteration)
                saved_at = iteration
                writer.flush()
    except KeyboardInterrupt:
        iteration = int(trainer.iteration.numpy())
        if iteration > saved_at:
            checkpointer.save(iteration)
        bar.close()
        writer.flush()
        print(f"\nInterrupted at iteration {iteration}; checkpoint saved. Run the same command to resume.")
        raise
    bar.close()
    writer.flush()
    return {"iterations": int(trainer.iteration.numpy()), "seconds_per_iteration": stopwatch.seconds_per_iteration()}
