"""tf.distribute for the learning loops: the strategy named by `--strategy`, and steps sharded over its replicas.

Several processes (`multi_worker`, configured by `TF_CONFIG`) follow TensorFlow's multi-worker conventions: the
strategy is created at start-up, before any other TensorFlow work (`initialize_multi_worker`); every worker runs the
same program on the same data and takes part in every collective step and checkpoint save; worker 0, the chief,
writes the run directory, the others a temporary copy of it that is deleted at exit (main.py).
"""

import atexit
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import tensorflow as tf

from abp_video.configs import STRATEGIES  # noqa: E402,F401  (kept here for the code that reads it here)


# One strategy of each kind per process: trainers built one after another share it (two MirroredStrategy
# instances would number their collective operations alike and abort each other's).
_STRATEGIES = {}


def make_strategy(name):
    """`default`: no distribution (one device); `mirrored`: every local GPU, or the logical CPUs when there are
    several (tests split one CPU in two); `multi_worker`: MultiWorkerMirroredStrategy, configured by `TF_CONFIG`."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {STRATEGIES}, got {name!r}")
    if name not in _STRATEGIES:
        if name == "mirrored":
            devices = [device.name for device in tf.config.list_logical_devices("GPU")]
            if not devices:
                devices = [device.name for device in tf.config.list_logical_devices("CPU")]
            _STRATEGIES[name] = tf.distribute.MirroredStrategy(devices)
        else:
            raise RuntimeError("--strategy multi_worker must be created at program start-up, before any other "
                               "TensorFlow work: call abp_video.distribute.initialize_multi_worker() first (main.py does)")
    return _STRATEGIES[name]


def num_replicas():
    """Replicas of the current replica context (1 outside a distributed step)."""
    context = tf.distribute.get_replica_context()
    return 1 if context is None else context.num_replicas_in_sync


def _shard(value, replica, count):
    if isinstance(value, dict):
        return {key: _shard(item, replica, count) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_shard(item, replica, count) for item in value)
    if isinstance(value, (tf.Tensor, tf.Variable)) and value.shape.rank:
        size = value.shape[0] // count
        return value[replica * size:(replica + 1) * size]
    return value


def sharded_step(strategy, function, reductions, prepare=None):
    """A compiled step that runs `function` on every replica with its share of the batch, then joins the results.

    Every tensor argument of rank >= 1 (and every such tensor in a dict, list or tuple argument) is split along axis 0, one contiguous
    share per replica; other arguments go to every replica as they are. Inside `function`, Keras optimizers
    all-reduce gradients and `FrameNormalization` all-reduces its statistics, so the result equals the one-device
    step on the whole batch up to float rounding.

    Args:
      strategy: a `tf.distribute.Strategy` with one or more replicas.
      function: the per-replica step.
      reductions: for each output of `function` (a flat tuple; a dict output is joined entry by entry), "batch"
        (concatenate the shares along axis 0), "sum" or "mean".
      prepare: optional callable(*args, **kwargs) -> dict of further keyword arguments, computed on the whole batch
        before it is split (e.g. random draws per batch element, so that every replica draws what one device would).
    """
    def step(*args, **kwargs):
        if prepare is not None:
            kwargs = dict(kwargs, **prepare(*args, **kwargs))

        def replica_fn(*args, **kwargs):
            context = tf.distribute.get_replica_context()
            replica, count = context.replica_id_in_sync_group, context.num_replicas_in_sync
            return function(*[_shard(arg, replica, count) for arg in args],
                            **{key: _shard(value, replica, count) for key, value in kwargs.items()})

        outputs = strategy.run(replica_fn, args=args, kwargs=kwargs)
        joined = []
        for output, reduction in zip(outputs, reductions):
            if reduction == "batch":
                joined.append(tf.nest.map_structure(lambda value: strategy.gather(value, axis=0), output))
            else:
                reduce = tf.distribute.ReduceOp.SUM if reduction == "sum" else tf.distribute.ReduceOp.MEAN
                joined.append(strategy.reduce(reduce, output, axis=None))
        return tuple(joined)

    return tf.function(step)


def compile_step(strategy, function, reductions, prepare=None):
    """`function` compiled for `strategy`: on one replica a plain `tf.function` (with `prepare`'s keyword arguments
    added), on several `sharded_step`, so that both draw the same random numbers and return the same results."""
    if strategy.num_replicas_in_sync > 1:
        return sharded_step(strategy, function, reductions, prepare)
    if prepare is None:
        return tf.function(function)

    def prepared_step(*args, **kwargs):
        return function(*args, **dict(kwargs, **prepare(*args, **kwargs)))

    return tf.function(prepared_step)


def in_one_process(config):
    """`config` with `--strategy multi_worker` replaced by `default`: for what a trained run does after training
    (sampling, export, inference on new clips), which needs no other workers (the weights are the same on all)."""
    if getattr(config, "strategy", "default") != "multi_worker":
        return config
    return dataclasses.replace(config, strategy="default")


def cluster_from_environment():
    """(worker addresses, this worker's index) from `TF_CONFIG`; ([], 0) when it is not set (one worker).

    Raises ValueError naming what is wrong and the expected form, for anything MultiWorkerMirroredStrategy would
    misread or hang on.
    """
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return [], 0
    form = ('expected TF_CONFIG=\'{"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}\' (the same cluster on every worker, its own index)')
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error.msg} at character {error.pos}); {form}") from None
    cluster = value.get("cluster") if isinstance(value, dict) else None
    workers = cluster.get("worker") if isinstance(cluster, dict) else None
    if not isinstance(workers, list) or not workers:
        raise ValueError(f"TF_CONFIG has no cluster.worker list; {form}")
    if set(cluster) - {"worker", "chief"}:
        raise ValueError(f"TF_CONFIG cluster has {sorted(set(cluster) - {'worker', 'chief'})}: --strategy "
                         f"multi_worker uses workers only (worker 0 is the chief); {form}")
    if "chief" in cluster:
        raise ValueError(f"TF_CONFIG has a separate chief task: list every process under cluster.worker instead, the "
                         f"chief first; {form}")
    for address in workers:
        host, _, port = str(address).rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"TF_CONFIG worker address {address!r} is not host:port; {form}")
    if len(set(workers)) != len(workers):
        raise ValueError(f"TF_CONFIG lists a worker address twice ({workers}); give each worker its own port")
    task = value.get("task")
    if not isinstance(task, dict) or task.get("type") != "worker":
        raise ValueError(f"TF_CONFIG task must be {{\"type\": \"worker\", \"index\": N}}, got {task!r}; {form}")
    index = task.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(workers):
        raise ValueError(f"TF_CONFIG task index {index!r} is not one of 0..{len(workers) - 1} (the cluster lists "
                         f"{len(workers)} workers); {form}")
    return workers, index


_WORKER = {"index": 0, "count": 1}


def worker_index():
    """This process's index among the workers (0 without multi_worker)."""
    return _WORKER["index"]


def is_chief():
    """True in the process that writes the run directory: worker 0, or the only process."""
    return _WORKER["index"] == 0


# Watches a process that waits for the other workers: TensorFlow blocks in C++ holding the interpreter lock while
# it connects, so no thread of the process itself can give up. If the parent has not closed this child's stdin
# within the time limit, the child prints the error line, kills the parent and removes its scratch folders.
_WATCHDOG = r"""
import os, select, shutil, signal, sys
parent, timeout, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
if not select.select([sys.stdin], [], [], timeout)[0]:
    os.write(2, message.encode() + b"\n")
    os.kill(parent, signal.SIGKILL)
    for folder in sys.argv[4:]:
        shutil.rmtree(folder, ignore_errors=True)
"""


def initialize_multi_worker(timeout_seconds, scratch=()):
    """Creates the MultiWorkerMirroredStrategy of `TF_CONFIG` and checks that every worker answers.

    Must run before any other TensorFlow work in the process (collective ops are configured at start-up). Creating
    the strategy waits for every worker's server, and the first collective op for every worker to join; TensorFlow
    would wait for ever. If that takes more than `timeout_seconds`, a watchdog process prints one `error:` line
    naming the workers, ends this process (exit status 137: killed) and removes the `scratch` folders.

    Returns:
      (this worker's index, number of workers).
    """
    workers, index = cluster_from_environment()
    _WORKER.update(index=index, count=max(1, len(workers)))
    others = [address for position, address in enumerate(workers) if position != index]
    message = (f"error: worker {index} could not reach the other workers ({', '.join(others)}) within "
               f"{timeout_seconds:g} s; start every worker (the same command, each with its own TF_CONFIG task "
               f"index) within that time, check the addresses and ports in TF_CONFIG, or raise --worker_timeout")
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(timeout_seconds), message,
                                 *scratch], stdin=subprocess.PIPE)
    started = time.perf_counter()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    agree(strategy, index)  # The first collective op: returns once every worker has joined.
    watchdog.stdin.close()
    watchdog.wait()
    _STRATEGIES["multi_worker"] = strategy
    if workers:
        writes = "writes the run directory" if index == 0 else "writes a temporary copy of it, deleted at exit"
        print(f"Worker {index} of {len(workers)} ({writes}): {strategy.num_replicas_in_sync} replicas in sync; every "
              f"worker answered in {time.perf_counter() - started:.1f} s.", file=sys.stderr)
    return index, len(workers) or 1


def agree(strategy, value):
    """(min, max) of a float `value` over every replica of `strategy` (collective: every worker must call it)."""
    @tf.function
    def gather():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_gather(
            tf.constant([float(value)]), axis=0))

    values = strategy.experimental_local_results(gather())[0].numpy()
    return float(values.min()), float(values.max())


def check_workers_agree(value, what):
    """Raises ValueError unless every worker of the multi-worker strategy holds the same `value` (e.g. the iteration
    each restored); a no-op in one process. Collective: every worker must call it at the same point."""
    if _WORKER["count"] <= 1:
        return
    low, high = agree(_STRATEGIES["multi_worker"], value)
    if low != high:
        raise ValueError(f"the workers hold different {what} ({low:g} to {high:g}; worker {_WORKER['index']}: "
                         f"{value:g}): every worker must start from the chief's run directory. On several hosts "
                         f"put --workdir on a folder they share, or copy the chief's run directory to each host "
                         f"before starting them again")


def lost_worker(error):
    """The one-line message for a collective op that failed because a worker stopped or became unreachable during
    a multi-worker run, or None for any other error."""
    failures = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
                tf.errors.AbortedError, tf.errors.InternalError)
    if _WORKER["count"] <= 1 or not isinstance(error, failures):
        return None
    return (f"worker {_WORKER['index']} lost contact with the other workers ({type(error).__name__} in a collective "
            f"op: a worker stopped or cannot be reached); the run stopped at its last checkpoint: start every worker "
            f"again with the same command to resume")


def join_workers(workdir, timeout_seconds):
    """Joins the workers of `TF_CONFIG` and returns the run directory this worker writes.

    The chief (worker 0) writes `workdir` itself. Every other worker runs the same program on a copy of `workdir`
    made before the workers meet (so it sees the chief's config and checkpoints as they were at start-up, whatever
    the chief writes next) in a temporary folder deleted at exit: it takes part in every collective step and
    checkpoint save, and leaves no file in the run directory. Call it before any other TensorFlow work.
    """
    if not workdir:
        raise ValueError("--strategy multi_worker needs --workdir: every worker names the same run directory (on "
                         "one machine the same folder; on several hosts a shared folder, or a copy of the chief's)")
    _, index = cluster_from_environment()
    workdir, scratch = os.path.abspath(workdir), []
    if index > 0:
        scratch = [tempfile.mkdtemp(prefix=f"worker{index}_")]
        atexit.register(shutil.rmtree, scratch[0], ignore_errors=True)
        copy = os.path.join(scratch[0], os.path.basename(workdir))
        if os.path.isdir(workdir):
            shutil.copytree(workdir, copy, ignore=shutil.ignore_patterns("tb", "samples", "*_temp", "*.tmp*"))
        workdir = copy
    initialize_multi_worker(timeout_seconds, scratch)
    return workdir
