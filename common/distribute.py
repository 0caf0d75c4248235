"""tf.distribute for the learning loops: the strategy named by `--strategy`, and steps sharded over its replicas."""

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


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
            _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()
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
