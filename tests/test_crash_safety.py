"""Crash-safe runs: SIGKILL at any moment (also mid-checkpoint), resume, divergence guard, deterministic mode."""

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from abp_video import runs
from abp_video.loop import run_training
from abp_video.data import sources
from dynamic_generator import configs
from dynamic_generator.train import DynamicGeneratorTrainer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = configs.TEXTURE_TINY
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")


def _observed(config=TINY):
    return sources.load_clips(config.data, config.num_frames, config.image_size, seed=0)[0].frames[None]


def _checkpoint_number(path):
    return int(os.path.basename(path).split("-")[-1])


def _latest_checkpoint(directory):
    state = tf.train.get_checkpoint_state(directory)
    return _checkpoint_number(state.model_checkpoint_path) if state else 0


def _tensorboard_steps(run, tag="train/loss"):
    steps = []
    for name in sorted(os.listdir(run.tensorboard_dir)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(run.tensorboard_dir, name)):
            steps += [event.step for value in event.summary.value if value.tag == tag]
    return steps


# ---- a checkpoint write killed half-way ---------------------------------------------------------------------------

SAVER = """
import sys
import tensorflow as tf
value = tf.Variable(tf.zeros([24, 1024, 1024]))  # 96 MB: each save takes a noticeable time.
step = tf.Variable(0)
manager = tf.train.CheckpointManager(tf.train.Checkpoint(value=value, step=step), sys.argv[1], max_to_keep=2)
if manager.latest_checkpoint:
    tf.train.Checkpoint(value=value, step=step).restore(manager.latest_checkpoint)
print("ready", flush=True)
while True:
    step.assign_add(1)
    value.assign(tf.fill(value.shape, float(step.numpy())))
    manager.save(checkpoint_number=int(step.numpy()))
"""


@pytest.mark.slow
def test_kill_during_checkpoint_writes_restores_last_complete_one(tmp_path):
    """SIGKILL at random moments of a loop that does nothing but write checkpoints: every restart restores a
    complete one (TF writes data and index first and renames the state file last)."""
    directory = str(tmp_path / "ckpt")
    rng = random.Random(0)
    restored_steps = []
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-c", SAVER, directory], stdout=subprocess.PIPE, text=True,
                                   env=ENV)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.5, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        value, step = tf.Variable(tf.zeros([24, 1024, 1024])), tf.Variable(0)
        checkpointer = runs.Checkpointer(directory, max_to_keep=2, value=value, step=step)
        assert checkpointer.restore_or_initialize()
        assert not [name for name in os.listdir(directory) if name.endswith("_temp")]  # Half-written save removed.
        assert float(tf.reduce_min(value)) == float(tf.reduce_max(value)) == float(step.numpy()) > 0
        restored_steps.append(int(step.numpy()))
    assert restored_steps == sorted(restored_steps)  # Every restart went on from the one before.


def test_unreadable_latest_checkpoint_falls_back_to_the_one_before(tmp_path, capsys):
    config = dataclasses.replace(TINY, num_iterations=3, checkpoint_every=1, sample_every=100)
    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(config)
    run_training(DynamicGeneratorTrainer(config, _observed(config)), run, "first")
    with open(os.path.join(run.checkpoint_dir, "ckpt-3.data-00000-of-00001"), "r+b") as handle:
        handle.truncate(100)  # Damaged after it was listed.
    extended = dataclasses.replace(config, num_iterations=4)
    trainer = DynamicGeneratorTrainer(extended, _observed(config))
    run_training(trainer, run, "second")
    assert "skipped unreadable checkpoints (ckpt-3" in capsys.readouterr().err
    assert int(trainer.iteration.numpy()) == 4
    assert [row["iteration"] for row in run.read_history()] == [1, 2, 3, 4]


@pytest.mark.parametrize("state_file", ["written by hand", "missing", "one save behind"])
def test_checkpoints_the_state_file_does_not_list_are_restored(tmp_path, state_file):
    """A `checkpoint` state file naming only `model_checkpoint_path` (as one written by hand does), none at all (a
    folder copied without it), or one written before the last save's files: the newest complete checkpoint is
    restored, not a fresh start over the user's run."""
    directory = str(tmp_path / "ckpt")
    value, step = tf.Variable(0.0), tf.Variable(0)
    checkpointer = runs.Checkpointer(directory, max_to_keep=3, value=value, step=step)
    for number in (1, 2, 3):
        value.assign(10.0 * number)
        step.assign(number)
        if state_file == "one save behind" and number == 3:
            with open(os.path.join(directory, "checkpoint")) as handle:
                behind = handle.read()
        checkpointer.save(number)
    state = os.path.join(directory, "checkpoint")
    if state_file == "written by hand":
        with open(state, "w") as handle:
            handle.write('model_checkpoint_path: "ckpt-3"\n')
    elif state_file == "missing":
        os.remove(state)
    else:
        with open(state, "w") as handle:
            handle.write(behind)
    assert runs.checkpoint_candidates(directory) == [os.path.join(directory, f"ckpt-{n}") for n in (3, 2, 1)]
    value.assign(0.0)
    step.assign(0)
    restored = runs.Checkpointer(directory, max_to_keep=3, value=value, step=step).restore_or_initialize()
    assert restored == os.path.join(directory, "ckpt-3") and float(value.numpy()) == 30.0 and int(step.numpy()) == 3


def test_a_folder_without_checkpoints_starts_afresh(tmp_path):
    assert runs.checkpoint_candidates(str(tmp_path / "absent")) == []
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "ckpt-notes.index").write_text("not a checkpoint of ours")
    assert runs.checkpoint_candidates(str(tmp_path / "ckpt")) == []
    assert runs.Checkpointer(str(tmp_path / "ckpt"), value=tf.Variable(0.0)).restore_or_initialize() is None


# ---- a real training process killed and restarted ------------------------------------------------------------------

def _wait_for(predicate, process, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_sigkilled_training_resumes_from_its_last_checkpoint(tmp_path):
    workdir = str(tmp_path / "run")
    run = runs.RunDirectory(workdir)
    command = [sys.executable, os.path.join(REPO, "main.py"), "--preset", "tiny", "--workdir", workdir,
               "--iterations", "150", "--checkpoint_every", "20", "--log_every", "1", "--sample_every", "1000"]

    def start():
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                                env=ENV)

    # Killed before its first checkpoint: the restart starts over cleanly.
    process = start()
    assert _wait_for(lambda: len(run.read_history()) >= 3, process), process.communicate()[1][-2000:]
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _latest_checkpoint(run.checkpoint_dir) == 0

    # Killed after a checkpoint exists and some iterations after it.
    process = start()
    assert _wait_for(lambda: _latest_checkpoint(run.checkpoint_dir) >= 40
                     and len(run.read_history()) > _latest_checkpoint(run.checkpoint_dir) + 3, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = _latest_checkpoint(run.checkpoint_dir)
    before = {row["iteration"]: row["loss"] for row in run.read_history()}
    assert max(before) > saved

    process = start()
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    assert f"from iteration {saved} " in stdout  # Lost only the iterations since that checkpoint.
    assert "after 150 iterations" in stdout
    history = run.read_history()
    assert [row["iteration"] for row in history] == list(range(1, 151))  # Continued, not restarted or repeated.
    for row in history[:saved]:
        assert row["loss"] == before[row["iteration"]]
    assert sorted(_tensorboard_steps(run)) == list(range(1, 151))
    assert json.load(open(run.metrics_path))["iterations"] == 150


# ---- divergence guard ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["loss", "latents", "weights"])
def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path, where):
    config = dataclasses.replace(TINY, num_iterations=6, checkpoint_every=2, sample_every=100)
    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(config)
    trainer = DynamicGeneratorTrainer(config, _observed(config))
    step = trainer.train_iteration

    def poisoned():
        metrics = step()
        if int(trainer.iteration.numpy()) == 4:  # A checkpoint iteration: it must not be saved.
            if where == "loss":
                metrics["loss"] = float("nan")
            elif where == "latents":
                trainer.latents.noise[0, 1, 2].assign(float("inf"))
            else:
                trainer.model.emission.deconvolutions[1].kernel.assign(
                    trainer.model.emission.deconvolutions[1].kernel * float("nan"))
        return metrics

    trainer.train_iteration = poisoned
    with pytest.raises(FloatingPointError) as error:
        run_training(trainer, run, "diverging")
    message = str(error.value)
    assert "diverged at iteration 4" in message and "iteration 2) is kept" in message
    assert "lower --langevin_step_size" in message
    assert {"loss": "loss = nan", "latents": "NaN/Inf in latents/noise", "weights": "NaN/Inf in model/"}[where] \
        in message
    assert _latest_checkpoint(run.checkpoint_dir) == 2
    fresh = DynamicGeneratorTrainer(config, _observed(config))
    runs.Checkpointer(run.checkpoint_dir, **fresh.trackables()).restore_or_initialize()
    assert int(fresh.iteration.numpy()) == 2
    assert all(np.isfinite(variable.numpy()).all() for variable in fresh.model.weights)
    assert np.isfinite(fresh.latents.noise.numpy()).all()


# ---- --deterministic -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_deterministic_runs_are_bit_identical(tmp_path):
    results = []
    for name in ("a", "b"):
        workdir = str(tmp_path / name)
        completed = subprocess.run(
            [sys.executable, os.path.join(REPO, "main.py"), "--preset", "tiny", "--workdir", workdir,
             "--iterations", "5", "--deterministic", "--seed", "3"],
            capture_output=True, text=True, timeout=300, cwd=REPO, env=ENV)
        assert completed.returncode == 0, completed.stderr[-3000:]
        reader = tf.train.load_checkpoint(os.path.join(workdir, "ckpt"))
        tensors = {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()}
        history = [{key: value for key, value in row.items() if key != "seconds"}
                   for row in runs.RunDirectory(workdir).read_history()]
        metrics = json.load(open(os.path.join(workdir, "metrics.json")))
        results.append((tensors, history, metrics["recon_mse"]))
    (first, first_history, first_mse), (second, second_history, second_mse) = results
    assert sorted(first) == sorted(second) and len(first) > 20
    for key in first:
        assert np.array_equal(first[key], second[key]), key
    assert first_history == second_history and len(first_history) == 5
    assert first_mse == second_mse


def test_a_finished_run_started_again_keeps_its_recorded_seconds_per_iteration(tmp_path):
    config = dataclasses.replace(TINY, num_iterations=2, checkpoint_every=1, sample_every=100)
    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(config)
    first = run_training(DynamicGeneratorTrainer(config, _observed(config)), run, "first")
    assert first["seconds_per_iteration"] > 0
    run.write_metrics(dict(first))
    again = run_training(DynamicGeneratorTrainer(config, _observed(config)), run, "again")  # Nothing left to train.
    assert again == first


# ---- failure paths that touch nothing; strict JSON -------------------------------------------------------------------

def _digest(path):
    import hashlib
    return {os.path.relpath(os.path.join(folder, name), path):
            hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for folder, _, names in os.walk(path) for name in names}


def test_resuming_a_run_whose_checkpoints_are_all_unreadable_changes_nothing(tmp_path, capsys):
    import main as cli

    workdir = str(tmp_path / "run")
    cli.entry(["main.py", "--preset", "tiny", "--workdir", workdir, "--iterations", "2"])
    for name in os.listdir(os.path.join(workdir, "ckpt")):
        if ".data-" in name:
            with open(os.path.join(workdir, "ckpt", name), "r+b") as handle:
                handle.truncate(50)
    before = _digest(workdir)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli.entry(["main.py", "--preset", "tiny", "--workdir", workdir, "--iterations", "4"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"no checkpoint in {workdir}/ckpt can be restored" in errors[0], err
    assert "{{" not in errors[0] and len(errors[0]) < 400 and "remove the run directory" in errors[0]
    assert _digest(workdir) == before  # config.json included: num_iterations still 2.
    assert json.load(open(os.path.join(workdir, "config.json")))["num_iterations"] == 2


def test_a_resumed_run_records_its_extended_iterations_once_restored(tmp_path):
    config = dataclasses.replace(TINY, num_iterations=2, sample_every=100)
    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(config)
    run_training(DynamicGeneratorTrainer(config, _observed(config)), run, "first")
    extended = dataclasses.replace(config, num_iterations=3)
    again = runs.RunDirectory(run.path)
    assert again.prepare(extended)
    assert again.read_config(type(config)).num_iterations == 2  # Not yet: nothing restored.
    run_training(DynamicGeneratorTrainer(extended, _observed(config)), again, "second")
    assert again.read_config(type(config)).num_iterations == 3


def test_history_and_metrics_are_strict_json(tmp_path):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    run = runs.RunDirectory(str(tmp_path / "run"))
    run.prepare(dataclasses.replace(TINY, num_iterations=1))
    run.append_history({"iteration": 1, "loss": 2.0, "acceptance_rate": float("nan"), "x": [float("inf"), 1.0]})
    run.write_metrics({"acceptance_rate": np.float32("nan"), "recovery_error": 0.5})
    rows = [json.loads(line, parse_constant=refuse) for line in open(run.history_path)]
    assert rows == [{"iteration": 1, "loss": 2.0, "acceptance_rate": None, "x": [None, 1.0]}]
    metrics = json.loads(open(run.metrics_path).read(), parse_constant=refuse)
    assert metrics["acceptance_rate"] is None and metrics["recovery_error"] == 0.5
