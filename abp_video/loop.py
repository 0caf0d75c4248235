"""The training loop both models share: restore-or-initialise, iterate, log, checkpoint, survive interruption."""

import math
import typing

import numpy as np
import tensorflow as tf

from abp_video import distribute
from abp_video.runs import Checkpointer, Stopwatch, progress_bar, warn_if_bfloat16_is_slow


@typing.runtime_checkable
class Trainer(typing.Protocol):
    """What `run_training` needs of a trainer; every trainer of both models declares it (a subclass).

    `config` holds `num_iterations`, `log_every`, `sample_every`, `checkpoint_every` (and `mixed_precision` where
    the model has it); `iteration` is a scalar int64 `tf.Variable` the trainer advances. Settings reach the
    Langevin update the same way in every trainer: `train_iteration` reads them from `self.config` and passes
    them (δ = `config.langevin_step_size`, the number of steps) to its compiled inference step as arguments, which
    calls `abp_video.langevin.langevin_sample`.
    """
    config: typing.Any
    iteration: tf.Variable

    def train_iteration(self) -> dict:
        """One iteration (inference, then learning); returns float metrics including `loss`."""
        ...

    def trackables(self) -> dict:
        """{name: trackable} of everything a checkpoint holds (weights, optimizer, latents, RNG, iteration)."""
        ...

    def summary_images(self) -> dict:
        """{name: uint8 image [height, width, 3]} for TensorBoard at `sample_every` iterations."""
        ...


def _nonfinite_state(trainer):
    """Names of the trainer's checkpointed float tensors (weights, optimizer slots, latents) holding NaN or Inf."""
    bad = []
    for group, trackable in trainer.trackables().items():
        variables = [trackable] if isinstance(trackable, tf.Variable) else getattr(trackable, "variables", [])
        for variable in variables:
            if tf.as_dtype(variable.dtype).is_floating and not bool(tf.reduce_all(tf.math.is_finite(variable))):
                bad.append(f"{group}/{variable.name}")
    return bad


def _finite_or_raise(metrics, trainer, iteration, saved_at, run, check_state):
    """The divergence guard: stops before anything non-finite is logged or checkpointed.

    The loss and MSE are checked every iteration. The whole state (weights, Adam slots, latents: ~50 ms at the
    quick preset) is checked when `check_state` (iterations that log or checkpoint) or when a metric is not
    finite (to name the culprit); a NaN weight or latent makes the next loss NaN anyway, so nothing non-finite is
    ever saved and a divergence is caught within one iteration.
    """
    problems = [f"{key} = {value}" for key, value in metrics.items()
                if key != "acceptance_rate" and isinstance(value, float) and not math.isfinite(value)]
    bad_state = _nonfinite_state(trainer) if check_state or problems else []
    if bad_state:
        shown = ", ".join(bad_state[:4]) + (f" and {len(bad_state) - 4} more" if len(bad_state) > 4 else "")
        problems.append(f"NaN/Inf in {shown}")
    if problems:
        kept = (f"the last good checkpoint (iteration {saved_at}) is kept in {run.checkpoint_dir}" if saved_at
                else "no checkpoint had been written yet")
        raise FloatingPointError(
            f"training diverged at iteration {iteration} ({'; '.join(problems)}); stopped without saving it, "
            f"{kept}. Start a new --workdir with a lower --langevin_step_size or --learning_rate")


def run_training(trainer, run, description):
    """Trains `trainer` (a `Trainer`) in run directory `run` up to `trainer.config.num_iterations`, resuming if
    possible.
    A checkpoint is written every `checkpoint_every` iterations, at the end, and when the run is interrupted
    (Ctrl-C), so at most the iterations since the last checkpoint are lost when the process is killed.

    Returns:
      dict with `iterations` (reached) and `seconds_per_iteration` (median over this session; the run's recorded
      value when it had nothing left to train).
    """
    if not isinstance(trainer, Trainer):
        raise TypeError(f"{type(trainer).__name__} does not provide abp_video.loop.Trainer's "
                        f"train_iteration, trackables, summary_images, config and iteration")
    config = trainer.config
    if getattr(config, "mixed_precision", False):
        warn_if_bfloat16_is_slow()
    checkpointer = Checkpointer(run.checkpoint_dir, **trainer.trackables())
    restored = checkpointer.restore_or_initialize()
    start = int(trainer.iteration.numpy())
    distribute.check_workers_agree(start, "restored iterations")  # Several workers resume together or not at all.
    run.record_config()  # A resumed run's extended iteration counts, now that it has restored.
    # History and TensorBoard continue from the restored iteration (0 if a killed run never saved): rows and
    # events of the iterations lost since the checkpoint are dropped, not repeated.
    run.truncate_history(start)
    run.truncate_tensorboard(start)
    if restored:
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
            logs = iteration % config.log_every == 0 or iteration == config.num_iterations
            saves = iteration % config.checkpoint_every == 0 or iteration == config.num_iterations
            _finite_or_raise(metrics, trainer, iteration, saved_at, run, check_state=logs or saves)
            bar.update(1)
            shown = {"loss": f"{metrics['loss']:.4g}"}
            if "recon_mse" in metrics:  # A GAN has no reconstruction during training.
                shown["mse"] = f"{metrics['recon_mse']:.4f}"
            bar.set_postfix(refresh=False, **shown)
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
            if saves:
                writer.flush()  # Events first: a checkpoint on disk implies its TensorBoard history is too.
                checkpointer.save(iteration)
                saved_at = iteration
    except KeyboardInterrupt:
        iteration = int(trainer.iteration.numpy())
        writer.flush()
        saved = iteration > saved_at and not _nonfinite_state(trainer)  # Never save a diverged state.
        if saved:
            checkpointer.save(iteration)
        bar.close()
        print(f"\nInterrupted at iteration {iteration}; "
              f"{'checkpoint saved' if saved else f'the checkpoint of iteration {saved_at} is kept'}. "
              f"Run the same command to resume.")
        raise
    finally:
        bar.close()  # Also when diverged: no progress bar printed after the error line.
    writer.flush()
    seconds = stopwatch.seconds_per_iteration()
    if not stopwatch.durations:  # A finished run started again: keep what the sessions that trained it measured.
        seconds = run.read_metrics().get("seconds_per_iteration", seconds)
    return {"iterations": int(trainer.iteration.numpy()), "seconds_per_iteration": seconds}
