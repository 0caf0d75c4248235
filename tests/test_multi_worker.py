"""`--strategy multi_worker` with two real worker processes on 127.0.0.1: the one-process result, the chief's files only.

Each case starts `python main.py ... --strategy multi_worker` twice with TF_CONFIG naming two free loopback ports,
waits a bounded time and always ends both processes. The comparison restores both runs in this process.
"""

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import main
from dynamic_generator import restore as dg_restore
from st_generator import restore as st_restore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 300  # Seconds for a pair of tiny runs; they take about 15 s here.


def _free_ports(count):
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.socket())
            sockets[-1].bind(("127.0.0.1", 0))
        return [handle.getsockname()[1] for handle in sockets]
    except OSError as error:
        pytest.skip(f"cannot bind loopback ports for the workers ({error})")
    finally:
        for handle in sockets:
            handle.close()


def _start_worker(index, ports, argv, scratch, log):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
               TMPDIR=scratch, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, os.path.join(REPO, "main.py"), *argv, "--strategy", "multi_worker"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def _run_workers(tmp_path, name, argv_of, indices=(0, 1)):
    """Runs the workers `indices` of a two-worker cluster, worker i with `argv_of(i)`; returns (exit codes, logs)."""
    scratch = tmp_path / f"{name}_scratch"
    scratch.mkdir()
    ports = _free_ports(2)
    logs = [tmp_path / f"{name}_worker{index}.log" for index in indices]
    handles = [open(path, "w") for path in logs]
    processes = [_start_worker(index, ports, argv_of(index), str(scratch), handle)
                 for index, handle in zip(indices, handles)]
    deadline = time.monotonic() + TIMEOUT
    try:
        for process in processes:
            process.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.fail(f"the workers did not finish within {TIMEOUT} s: " + " | ".join(
            path.read_text()[-500:] for path in logs))
    finally:
        for process, handle in zip(processes, handles):
            if process.poll() is None:
                process.kill()  # SIGKILL: a worker blocked in a collective op ignores SIGTERM.
            process.wait()
            handle.close()
    assert not list(scratch.iterdir()), "a worker left its temporary copy of the run behind"
    return [process.returncode for process in processes], [path.read_text() for path in logs]


def _files(run):
    """Relative paths under `run`, with TensorBoard event files (named by host and process) counted, not named."""
    found = []
    for folder, _, names in os.walk(run):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), run)
            found.append("tb/<events>" if name.startswith("events.out.tfevents") else relative)
    return sorted(found)


def _history(run):
    with open(os.path.join(run, "history.jsonl")) as handle:
        return [json.loads(line) for line in handle]


def _compare_runs(two_workers, one_process, latents, weights, normalised_bias):
    rows_two, rows_one = _history(two_workers), _history(one_process)
    assert [row["iteration"] for row in rows_two] == [row["iteration"] for row in rows_one]
    for two, one in zip(rows_two, rows_one):
        for key in ("loss", "recon_mse"):
            assert abs(two[key] - one[key]) <= 1e-4 * abs(one[key]) + 1e-6, (key, two[key], one[key])
    for name in latents[0]:
        difference = float(np.abs(latents[0][name] - latents[1][name]).max())
        assert difference < 1e-5, (name, difference)
    assert len(weights[0]) > 4 and weights[0].keys() == weights[1].keys()
    for name in weights[0]:
        if normalised_bias(name):
            continue  # Their true gradient is zero (the normalisation removes them): see tests/test_distribute.py.
        difference = float(np.abs(weights[0][name] - weights[1][name]).max())
        assert difference < 1e-5, (name, difference)
    assert _files(two_workers) == _files(one_process)
    assert _files(two_workers).count("tb/<events>") == 1, "only the chief writes TensorBoard events"


def _dg_state(run):
    _, trainer = dg_restore.restore_trainer(run)
    latents = {name: getattr(trainer.latents, name).numpy() for name in ("noise", "initial_state", "appearance")}
    return latents, {weight.path.split("/", 1)[1]: weight.numpy() for weight in trainer.model.weights}


def _st_state(run):
    _, trainer = st_restore.restore_trainer(run)
    return {"chains": trainer.latents.numpy()}, {weight.path.split("/", 1)[1]: weight.numpy()
                                                 for weight in trainer.model.weights}


@pytest.mark.slow
def test_two_workers_train_an_action_run_as_one_process_does(tmp_path):
    argv = ["--experiment", "action", "--preset", "tiny", "--iterations", "3"]
    run = str(tmp_path / "two_workers")
    codes, logs = _run_workers(tmp_path, "action", lambda index: argv + ["--workdir", run])
    assert codes == [0, 0], logs
    assert "Worker 0 of 2 (writes the run directory)" in logs[0] and "temporary copy" in logs[1]
    one = str(tmp_path / "one_process")
    main.entry(["main.py", *argv, "--workdir", one])
    (latents_two, weights_two), (latents_one, weights_one) = _dg_state(run), _dg_state(one)
    _compare_runs(run, one, (latents_two, latents_one), (weights_two, weights_one),
                  lambda name: "deconv" in name and name.endswith("bias") and "deconv4" not in name)

    # Resuming needs every worker to start from the chief's checkpoint: a worker whose --workdir lacks it is refused.
    empty = str(tmp_path / "empty")
    more = ["--experiment", "action", "--preset", "tiny", "--iterations", "4"]
    codes, logs = _run_workers(tmp_path, "mismatch", lambda index: more + ["--workdir", run if index == 0 else empty])
    assert codes == [2, 2], logs
    assert all("error: the workers hold different restored iterations (0 to 3" in log for log in logs), logs
    assert not os.path.exists(empty) and len(_history(run)) == 3


@pytest.mark.slow
def test_two_workers_train_a_spatial_temporal_run_as_one_process_does(tmp_path):
    argv = ["--experiment", "st_recover", "--preset", "tiny", "--iterations", "2"]
    run = str(tmp_path / "two_workers")
    codes, logs = _run_workers(tmp_path, "st", lambda index: argv + ["--workdir", run])
    assert codes == [0, 0], logs
    one = str(tmp_path / "one_process")
    main.entry(["main.py", *argv, "--workdir", one])
    (latents_two, weights_two), (latents_one, weights_one) = _st_state(run), _st_state(one)
    _compare_runs(run, one, (latents_two, latents_one), (weights_two, weights_one),
                  lambda name: "deconv" in name and name.endswith("bias") and not name.endswith("deconv3/bias"))
    for two, one in ((os.path.join(run, "metrics.json"), os.path.join(one, "metrics.json")),):
        errors_two, errors_one = json.load(open(two)), json.load(open(one))
        for key in (key for key in errors_one if "recovery_error" in key):
            assert abs(errors_two[key] - errors_one[key]) < 1e-3, (key, errors_two[key], errors_one[key])


@pytest.mark.slow
def test_a_worker_that_cannot_reach_the_others_gives_up_with_one_line(tmp_path):
    run = str(tmp_path / "run")
    argv = ["--experiment", "action", "--preset", "tiny", "--workdir", run, "--worker_timeout", "3"]
    codes, logs = _run_workers(tmp_path, "alone", lambda index: argv, indices=(1,))
    assert codes == [-9], logs  # Killed by its watchdog: TensorFlow blocks while it connects.
    errors = [line for line in logs[0].splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "could not reach the other workers (127.0.0.1:" in errors[0], logs
    assert "within 3 s" in errors[0] and "Traceback" not in logs[0] and not os.path.exists(run)


@pytest.mark.parametrize("tf_config,message", [
    ("{bad", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', "TF_CONFIG task must be"),
    ('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 2}}',
     "task index 2 is not one of 0..1"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', "is not host:port"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker", "index": 0}}', "workers only"),
    ('{"task": {"type": "worker", "index": 0}}', "no cluster.worker list"),
])
def test_a_malformed_tf_config_is_one_line_naming_the_form(tf_config, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    run = str(tmp_path / "run")
    with pytest.raises(SystemExit) as exit_info:
        main.entry(["main.py", "--experiment", "action", "--preset", "tiny", "--strategy", "multi_worker",
                    "--workdir", run])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_info.value.code == 2 and error.startswith("error: ") and message in error, error
    assert '"task": {"type": "worker", "index": 0}' in error and not os.path.exists(run)
