"""Run directories shared by both models: resolved config, metrics, checkpoints, TensorBoard, progress bar."""

import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time

import keras
import tensorflow as tf
import tqdm

from abp_video import configs

# The folder holding this package: a checkout of the project (its `main.py` beside it) or site-packages.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_root():
    """Where a run goes without --workdir: `checkpoints/` under the current directory (the checkout's own folder
    when `python main.py` runs there; a notebook's folder when the installed library is used from one)."""
    return os.path.abspath("checkpoints")


def shared_video_root():
    """The papers' clips, `shared/data/trainingVideo` in the folder beside the project: `$ABP_VIDEO_SHARED` if set,
    else `../shared` beside the checkout, else beside the current directory (an installed copy)."""
    tail = os.path.join("data", "trainingVideo")
    if os.environ.get("ABP_VIDEO_SHARED"):
        return os.path.join(os.path.abspath(os.environ["ABP_VIDEO_SHARED"]), tail)
    beside_checkout = os.path.normpath(os.path.join(PACKAGE_PARENT, os.pardir, "shared"))
    if os.path.isfile(os.path.join(PACKAGE_PARENT, "main.py")) or os.path.isdir(beside_checkout):
        return os.path.join(beside_checkout, tail)
    return os.path.join(os.path.abspath(os.path.join(os.pardir, "shared")), tail)

# Fields that may change when a run is resumed or extended; any other difference means another experiment.
RESUMABLE_FIELDS = ("num_iterations", "log_every", "sample_every", "checkpoint_every", "num_output_samples",
                    "strategy")


def strict_json(value):
    """`value` with every NaN and infinity as None (JSON null), so strict parsers read what this project writes."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    if hasattr(value, "dtype") and getattr(value, "ndim", None) == 0:  # A NumPy scalar.
        return strict_json(value.item())
    return value


def make_writable_parent(path, what, flag):
    """Creates the folder that will hold `path`; a PermissionError naming it and `flag` when it cannot be written."""
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise PermissionError(f"cannot create the folder {parent} for {what} ({error.strerror}); choose a writable "
                              f"{flag}") from None
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"cannot write {what} under {parent}; choose a writable {flag}")
    return parent


def write_json_atomic(path, value):
    """Writes strict JSON (NaN as null) so that a crash leaves either the old file or the new one, never half."""
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w") as handle:
        json.dump(strict_json(value), handle, indent=2, sort_keys=True, allow_nan=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _cpuinfo():
    """The text of /proc/cpuinfo ("" where there is none): the CPU's model name and instruction-set flags."""
    if not os.path.isfile("/proc/cpuinfo"):
        return ""
    with open("/proc/cpuinfo") as handle:
        return handle.read()


def _code_commit():
    """The checkout's commit (`+uncommitted` when tracked files differ), or None outside a git checkout."""
    def git(*args):
        try:
            return subprocess.run(["git", "-C", PACKAGE_PARENT, *args], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += "+uncommitted"
    return commit or None


# Read when the code is imported: a run that lasts hours reports the code it ran, not a commit made meanwhile.
CODE_COMMIT = _code_commit()


def machine_state():
    """Where and on what a figure was measured: commit, CPU model, cores, load, TensorFlow (kept in metrics.json).

    Machines differ and a loaded one runs slower; a figure without these cannot be compared with another.
    `commit` is the checkout's commit when this process imported the code. `onednn_opts` is TF_ENABLE_ONEDNN_OPTS
    as the process saw it (None: TensorFlow's own choice, which leaves oneDNN's kernels off on CPUs without
    AVX-512, several times slower: docs/speed.md).
    """
    names = [line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines() if line.startswith("model name")]
    cpu_model = names[0] if names else platform.processor()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"commit": CODE_COMMIT, "cpu_model": cpu_model or None, "cpus": os.cpu_count(), "cpus_usable": usable,
            "load_average": [round(value, 2) for value in os.getloadavg()], "tensorflow": tf.__version__,
            "onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS")}


# CPU flags of native bfloat16 arithmetic; without them (or a GPU) TensorFlow emulates bfloat16 more slowly than float32.
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def bfloat16_warning(cpuinfo_text, has_gpu):
    """The warning a `--mixed_precision` run prints where bfloat16 is slower than float32, else None.

    `cpuinfo_text`: the text of /proc/cpuinfo (empty where there is none: no warning, nothing known).
    On a CPU without AVX512-BF16 or AMX-BF16 the bfloat16 convolutions are emulated: 10-12x slower than float32 at
    the texture and recovery quick presets on an AMD EPYC with AVX2 only, where a CPU with AMX-BF16 ran the paper
    presets 1.7-2.1x faster (docs/speed.md).
    """
    flag_lines = [line for line in cpuinfo_text.splitlines() if line.startswith("flags")]
    if has_gpu or not flag_lines:
        return None
    flags = set(flag_lines[0].split(":", 1)[-1].split())
    if flags & set(BFLOAT16_CPU_FLAGS):
        return None
    return ("warning: --mixed_precision on a CPU without bfloat16 instructions (no avx512_bf16 or amx_bf16 in "
            "/proc/cpuinfo): bfloat16 is emulated here and runs slower than float32 (measured 10-12x slower, "
            "docs/speed.md); drop --mixed_precision on this machine")


def warn_if_bfloat16_is_slow():
    """Prints `bfloat16_warning` for this machine (see there)."""
    warning = bfloat16_warning(_cpuinfo(), bool(tf.config.list_physical_devices("GPU")))
    if warning:
        print(warning, flush=True)


def _same_setting(stored, wanted):
    """Whether a stored setting equals the wanted one; two spellings of one existing file or folder are equal.

    A run made from one checkout (`/a/repo/../shared/clip.avi`) resumes from another (`/b/repo/../shared/...`).
    """
    if stored == wanted:
        return True
    return (isinstance(stored, str) and isinstance(wanted, str) and os.path.exists(stored) and os.path.exists(wanted)
            and os.path.samefile(stored, wanted))


class RunDirectory:
    """`<workdir>/config.json, metrics.json, history.jsonl, ckpt/, tb/, samples/`."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.config_path = os.path.join(self.path, "config.json")
        self.metrics_path = os.path.join(self.path, "metrics.json")
        self.history_path = os.path.join(self.path, "history.jsonl")
        self.checkpoint_dir = os.path.join(self.path, "ckpt")
        self.tensorboard_dir = os.path.join(self.path, "tb")
        self.samples_dir = os.path.join(self.path, "samples")

    def exists(self):
        return os.path.isfile(self.config_path)

    def read_config_dict(self):
        """The stored config as written (nested, or flat for runs of earlier versions)."""
        if not self.exists():
            raise FileNotFoundError(f"no run in {self.path} (config.json missing); train one first with --mode train")
        with open(self.config_path) as handle:
            return json.load(handle)

    def read_config(self, config_class):
        """The stored config as a `config_class` instance (abp_video/configs.from_dict)."""
        return configs.from_dict(config_class, self.read_config_dict(), where=self.config_path)

    def stored_experiment(self):
        """The `experiment` of the run stored here, or None when there is none."""
        return configs.flatten(self.read_config_dict()).get("experiment") if self.exists() else None

    def prepare(self, config):
        """Creates the directory for a new run, or checks that an existing run is the same experiment.

        Returns:
          True when a run was already there (it will be resumed).
        """
        if self.exists():
            # Compared setting by setting, so that a run stored in the flat form of earlier versions resumes; a
            # setting newer than the stored run takes its default (configs.from_dict), the behaviour the run had.
            def listed(values):
                return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
            wanted = listed(configs.settings(config))
            experiment = self.stored_experiment()
            if experiment != wanted["experiment"]:
                raise ValueError(f"--workdir {self.path} holds a {experiment!r} run, not "
                                 f"{wanted['experiment']!r}; choose another --workdir")
            stored = listed(configs.settings(self.read_config(type(config))))
            differing = sorted(key for key in wanted
                               if key not in RESUMABLE_FIELDS and not _same_setting(stored.get(key), wanted[key]))
            if differing:
                details = ", ".join(f"{key}: {stored.get(key)!r} there, {wanted[key]!r} now" for key in differing)
                raise ValueError(f"--workdir {self.path} holds a run with another configuration ({details}); "
                                 f"choose another --workdir to start a new run")
            # Extended iteration counts are recorded once a checkpoint has been restored (`record_config`), so
            # that a resume that fails leaves config.json as it was.
            self.pending_config = configs.to_dict(config)
            return True
        make_writable_parent(self.path, "the run", "--workdir")
        created = not os.path.exists(self.path)
        try:
            for directory in (self.path, self.checkpoint_dir, self.tensorboard_dir, self.samples_dir):
                os.makedirs(directory, exist_ok=True)
            write_json_atomic(self.config_path, configs.to_dict(config))
        except OSError as error:
            if created:
                shutil.rmtree(self.path, ignore_errors=True)  # No partial run directory.
            raise PermissionError(f"cannot create the run directory {self.path} ({error.strerror}); choose a "
                                  f"writable --workdir") from None
        return False

    def record_config(self):
        """Writes the config a resumed run was prepared with (its extended iteration counts), if any."""
        pending, self.pending_config = getattr(self, "pending_config", None), None
        if pending is not None and pending != self.read_config_dict():
            write_json_atomic(self.config_path, pending)

    def sample_path(self, name):
        os.makedirs(self.samples_dir, exist_ok=True)
        return os.path.join(self.samples_dir, name)

    def write_metrics(self, metrics):
        """metrics.json: `metrics` and, under `machine`, the state of the machine that measured them."""
        write_json_atomic(self.metrics_path, dict(metrics, machine=machine_state()))

    def read_metrics(self):
        if not os.path.isfile(self.metrics_path):
            return {}
        with open(self.metrics_path) as handle:
            return json.load(handle)

    def append_history(self, row):
        with open(self.history_path, "a") as handle:
            handle.write(json.dumps(strict_json(row), allow_nan=False) + "\n")

    def read_history(self):
        if not os.path.isfile(self.history_path):
            return []
        rows = []
        with open(self.history_path) as handle:
            for line in handle:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # A line cut by a crash: everything after it is lost anyway.
        return rows

    def truncate_history(self, last_iteration):
        """Drops history rows past the restored checkpoint, so a resumed run continues rather than repeats."""
        rows = [row for row in self.read_history() if row.get("iteration", 0) <= last_iteration]
        temporary = self.history_path + ".tmp"
        with open(temporary, "w") as handle:
            handle.writelines(json.dumps(strict_json(row), allow_nan=False) + "\n" for row in rows)
        os.replace(temporary, self.history_path)


    def truncate_tensorboard(self, last_step):
        """Drops TensorBoard events past `last_step` (and a record cut by a crash), so a resumed run's curves
        continue from the restored checkpoint instead of doubling back over the iterations that were lost."""
        if not os.path.isdir(self.tensorboard_dir):
            return
        for name in sorted(os.listdir(self.tensorboard_dir)):
            path = os.path.join(self.tensorboard_dir, name)
            if not name.startswith("events.out.tfevents") or not os.path.isfile(path):
                continue
            kept, dropped = [], False
            try:
                for record in tf.data.TFRecordDataset(path):
                    record = record.numpy()
                    if tf.compat.v1.Event.FromString(record).step <= last_step:
                        kept.append(record)
                    else:
                        dropped = True
            except tf.errors.DataLossError:
                dropped = True  # The last record was cut by a kill: keep the complete ones.
            if dropped:
                temporary = path + ".tmp"
                with tf.io.TFRecordWriter(temporary) as writer:
                    for record in kept:
                        writer.write(record)
                os.replace(temporary, path)


ALL_VARIABLES = "all_variables"  # The checkpoint key of AllVariables.


class AllVariables(tf.Module):
    """Every variable of some Keras layers, in the layers' order, for `tf.train.Checkpoint`.

    Keras 3 layers kept in Python lists or dicts (the generators' stacks of deconvolutions) are invisible to
    `tf.train.Checkpoint`: a checkpoint of the model holds only directly assigned sub-layers. The trainable
    variables were saved anyway through the optimizer's slots; non-trainable ones (MoCoGAN's BatchNorm running
    averages, which its synthesis uses) were not. This lists every variable of each layer explicitly, by position
    (`variable.path` carries Keras's auto-numbered model names, which differ from one instance to the next).
    """

    def __init__(self, layers):
        super().__init__(name=ALL_VARIABLES)
        self.by_layer = {name: list(layer.variables) for name, layer in layers.items()}


CHECKPOINT_NAME = "ckpt"  # A checkpoint's files: ckpt-<step>.index, ckpt-<step>.data-*.


class Checkpointer:
    """`tf.train.CheckpointManager` with restore-or-initialise that falls back to older complete checkpoints.

    Atomicity: TF writes a checkpoint's data and index files first (through a `<prefix>_temp` folder), and only
    then rewrites the `checkpoint` state file that lists the checkpoints, by write-to-temporary-and-rename. A
    process killed during a save therefore leaves the state file naming the previous checkpoints only, and the
    half-written files (a `<prefix>_temp` folder) are ignored and removed at the next restore. If a listed checkpoint
    cannot be read anyway (a damaged disk, a file removed by hand), restoring falls back to the one before.
    """

    def __init__(self, directory, max_to_keep=3, **trackables):
        self.directory = directory
        layers = {name: value for name, value in trackables.items() if isinstance(value, keras.layers.Layer)}
        # Checkpoints written before ALL_VARIABLES existed: restored without it (see restore_or_initialize).
        self.legacy_checkpoint = tf.train.Checkpoint(**trackables)
        self.checkpoint = tf.train.Checkpoint(**trackables, **{ALL_VARIABLES: AllVariables(layers)}) if layers \
            else self.legacy_checkpoint
        # What a legacy checkpoint lacks: the layers' variables no optimizer holds (BatchNorm's running averages).
        self.untracked = [variable.path for layer in layers.values() for variable in layer.non_trainable_variables]
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory, max_to_keep=max_to_keep,
                                                  checkpoint_name=CHECKPOINT_NAME)

    def remove_unfinished(self):
        """Deletes the `<prefix>_temp` folders of saves killed half-way (TF leaves them behind)."""
        if os.path.isdir(self.directory):
            for name in os.listdir(self.directory):
                path = os.path.join(self.directory, name)
                if name.endswith("_temp") and os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)

    def restore_or_initialize(self):
        """Restores the newest readable checkpoint if there is one; returns its path or None."""
        self.remove_unfinished()
        candidates = checkpoint_candidates(self.directory)
        failures = []
        for path in candidates:
            try:
                legacy = not any(name.startswith(f"{ALL_VARIABLES}/") for name, _ in tf.train.list_variables(path))
                (self.legacy_checkpoint if legacy else self.checkpoint).restore(path).assert_existing_objects_matched()
            except Exception as error:  # noqa: BLE001 (OpError, IndexError "read less bytes", mismatches...)
                failures.append(f"{os.path.basename(path)}: {_short_reason(error)}")
                continue
            if legacy and self.untracked:  # Non-empty only when the checkpoint has AllVariables.
                print(f"warning: {path} was written before checkpoints held every variable: "
                      f"{', '.join(self.untracked[:4])}{' ...' if len(self.untracked) > 4 else ''} start from their "
                      f"initial values (BatchNorm running averages: samples drawn from this checkpoint are wrong "
                      f"until training has run on; the next checkpoint holds them)", file=sys.stderr)
            if failures:
                print(f"warning: skipped unreadable checkpoints ({'; '.join(failures)}); restored {path}",
                      file=sys.stderr)
            return path
        if candidates:
            raise ValueError(f"no checkpoint in {self.directory} can be restored ({'; '.join(failures)}); "
                             f"remove the run directory to start again, or choose another --workdir")
        return None

    def save(self, step):
        return self.manager.save(checkpoint_number=int(step))


def checkpoint_candidates(directory):
    """The checkpoints in `directory` to try restoring, newest step first: those its `checkpoint` state file lists
    (also one it names only as `model_checkpoint_path`, as a hand-written state file does) and any
    `ckpt-<step>.index` in the folder that it does not list (a state file lost, or copied without them, or a save
    killed between its files and the state file: TF writes the index only once the data is complete)."""
    if not os.path.isdir(directory):
        return []
    state = tf.train.get_checkpoint_state(directory)
    listed = [*state.all_model_checkpoint_paths, state.model_checkpoint_path] if state else []
    present = [os.path.join(directory, name[:-len(".index")]) for name in os.listdir(directory)
               if re.fullmatch(rf"{CHECKPOINT_NAME}-\d+\.index", name)]
    unique = {os.path.normpath(os.path.join(directory, path)) for path in [*listed, *present] if path}
    return sorted(unique, key=_checkpoint_step, reverse=True)


def _checkpoint_step(path):
    """ckpt-1500 -> 1500; a name without a step (a hand-written state file may hold one) sorts last, as -1."""
    step = path.rsplit("-", 1)[-1]
    return int(step) if step.isdigit() else -1


def _short_reason(error):
    """The first clause of a checkpoint read error, without TensorFlow's {{function_node ...}} wrapping."""
    text = re.sub(r"\{\{.*?\}\}", "", " ".join(str(error).split())).strip(" :")
    return text.split(";")[0][:120]


def progress_bar(start, total, description):
    """A tqdm bar with ETA; quiet on non-terminals except for occasional lines."""
    return tqdm.tqdm(total=total, initial=start, desc=description, unit="it", dynamic_ncols=True,
                     file=sys.stderr, mininterval=1.0 if sys.stderr.isatty() else 30.0)


class Stopwatch:
    """Wall-clock seconds per iteration over this session, skipping the first (tracing) iteration."""

    def __init__(self):
        self.durations = []
        self._start = None

    def start(self):
        self._start = time.perf_counter()

    def stop(self):
        self.durations.append(time.perf_counter() - self._start)
        return self.durations[-1]

    def seconds_per_iteration(self):
        steady = self.durations[1:] or self.durations
        return sorted(steady)[len(steady) // 2] if steady else float("nan")
