"""Command line: `python main.py --experiment NAME [--preset paper|quick] [--mode MODE] [--SETTING value]`.

Flags -> one registry (common/registry.py) -> the experiment's runner. Every config setting of every experiment
is a flag of the same name; a flag the chosen experiment and mode do not read is refused.
"""

import atexit
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ start-up chatter (no CUDA here, oneDNN notes).
# oneDNN's CPU kernels. TensorFlow turns them on by itself only on CPUs with AVX-512 VNNI/BF16 or AMX; on an
# AVX2-only AMD EPYC its other kernels ran the texture quick preset 4.8x slower (docs/speed.md). Yours wins if set.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from absl import app, flags, logging  # noqa: E402

import dynamic_generator.experiments  # noqa: E402,F401  (registers the AAAI'19 experiments)
import st_generator.experiments  # noqa: E402,F401  (registers the WACV'19 experiments)
from common import configs, distribute, registry, runs  # noqa: E402
from dynamic_generator.configs import SYNTHESIS_BURN_IN, SYNTHESIS_STARTS  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("experiment", "texture", "Paper experiment, e.g. texture, recover, st_recover (README.md lists them).")
flags.DEFINE_string("preset", "quick", "Configuration preset: `paper` (faithful) or `quick` (minutes on a CPU).")
flags.DEFINE_string("mode", "train", "`train` (starts, or resumes the run in --workdir), `sample`, ... (per experiment).")
flags.DEFINE_string("workdir", None, "Run directory; default checkpoints/<experiment>/<data>_<preset>.")
flags.DEFINE_bool("deterministic", False, "Bit-identical results for the same seed on the same machine "
                  "(tf.config.experimental.enable_op_determinism, all seeds set); may be slower.")

# Options: values a mode reads that are not config settings (each mode declares which, common/registry.Mode).
flags.DEFINE_integer("num_samples", 3, "--mode sample / animate: how many clips to synthesise.")
flags.DEFINE_integer("burn_in", None, "--mode sample, --experiment texture_eval: frames generated and dropped before "
                     f"the ones kept (§4.1); default {SYNTHESIS_BURN_IN} after a random s_0, 0 after the inferred one.")
flags.DEFINE_enum("synthesis_start", SYNTHESIS_STARTS[0], list(SYNTHESIS_STARTS), "--mode sample, --experiment "
                  "texture_eval: s_0 of a new clip, `random` from N(0, I) (§4.1) or `inferred`, the training clip's "
                  "(the authors' test code).")
flags.DEFINE_integer("sample_seed", 0, "--mode sample / animate / interpolate: seed of the sampling noise.")
flags.DEFINE_integer("inference_iterations", 100, "--mode recover_new / infer (and held-out clips of --experiment "
                     "action): Langevin sweeps over the new clips, weights frozen.")
flags.DEFINE_list("table_methods", ["dg", "stgcn", "mrf_l1", "mrf_l2", "lhd", "linear"],
                  "--experiment recover --mode table: the methods (columns) of the table.")
flags.DEFINE_list("table_cases", None, "--experiment recover --mode table: keep only these rows, named <clip>_<mask> "
                  "(e.g. fountain_region; default all).")
flags.DEFINE_list("methods", None, "--experiment st_recover --mode table: the methods (columns) of Tables 2-3, "
                  "from abp, li_abp, vae, ws, gan (default all).")
flags.DEFINE_list("stages", None, "--experiment st_recover --mode table: test (Table 2), train (Table 3) or both "
                  "(default).")
flags.DEFINE_integer("baseline_iterations", 2000, "--experiment st_recover --mode table: iterations of the VAE, "
                     "wake-sleep and GAN runs (4x ABP's 500: wake-sleep's training curve is flat by then, the VAE's "
                     "falls as slowly as ABP's; docs/st_recover.md); 0 = ABP's --iterations.")
flags.DEFINE_list("clips", None, "--experiment interpolate: the two training clips whose appearances are "
                  "interpolated (names as in the run's clips.json).")
flags.DEFINE_integer("steps", 5, "--experiment interpolate: videos from the first appearance to the second.")
flags.DEFINE_string("image", None, "--experiment animate --mode animate: the image file to animate.")
flags.DEFINE_bool("stream", False, "--mode sample: write one MP4 chunk by chunk as frames are synthesised, with "
                  "memory that does not grow with --num_frames (no GIF, no strip).")
flags.DEFINE_string("export_dir", None, "--mode export: a new folder for the SavedModel of the run in --workdir.")
flags.DEFINE_integer("lds_state_dim", 0, "--method lds: state dimension d; 0 chooses it from the explained "
                     "variance (baselines/lds.py).")
flags.DEFINE_integer("lds_noise_dim", 0, "--method lds: driving-noise dimension n_v; 0 chooses it from the "
                     "residual's singular values.")
flags.DEFINE_float("worker_timeout", 120.0, "--strategy multi_worker: seconds to wait for every worker to start and "
                   "answer before giving up (docs/distribute.md).")
flags.DEFINE_integer("mocogan_iterations", None, "--experiment texture_eval: MoCoGAN's iterations per clip (its "
                     "rows of the table; 0 leaves them out; default texture_eval.MOCOGAN_ITERATIONS).")
OPTION_FLAGS = ("num_samples", "burn_in", "synthesis_start", "sample_seed", "inference_iterations", "table_methods",
                "table_cases", "methods", "stages", "baseline_iterations", "clips", "steps", "image", "stream",
                "export_dir", "lds_state_dim", "lds_noise_dim", "mocogan_iterations")


def _define_setting_flags():
    """One flag per setting of every registered config class (default None: the preset's value)."""
    defined = {}
    for experiment in registry.EXPERIMENTS.values():
        for name, field in configs.setting_fields(experiment.config_class).items():
            if name in ("experiment", "preset") or name in defined:
                if name in defined and defined[name] is not field.type:
                    raise TypeError(f"setting {name!r} has two types across the configs")
                continue
            defined[name] = field.type
            text = f"Override the preset's `{name}`."
            define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float,
                      tuple: flags.DEFINE_list}.get(field.type, flags.DEFINE_string)
            define(name, None, text + (" Comma-separated integers." if field.type is tuple else ""))
    return defined


SETTINGS = _define_setting_flags()
flags.DEFINE_alias("iterations", "num_iterations")
# In --mode sample / animate / interpolate, --num_frames is the length to synthesise; in --mode table of the
# spatial-temporal experiments, --data picks table clips by name.


def _setting_values(names):
    """{name: value} of the settings among `names` given on the command line (lists parsed to integer tuples)."""
    values = {}
    for name in names:
        if not FLAGS[name].present:
            continue
        value = FLAGS[name].value
        if SETTINGS[name] is tuple:
            try:
                value = tuple(int(item) for item in value)
            except ValueError:
                raise ValueError(f"--{name} takes comma-separated integers, got {','.join(value)}") from None
        values[name] = value
    return values


def select_experiment():
    """The experiment and mode the flags name, checked against the run in --workdir: (experiment, mode name)."""
    name, mode_name, workdir = FLAGS.experiment, FLAGS.mode, FLAGS.workdir
    stored_name = runs.RunDirectory(workdir).stored_experiment() if workdir else None
    stored = registry.EXPERIMENTS.get(stored_name)
    if stored is not None and not FLAGS["experiment"].present and (
            mode_name not in stored.mode_names() or not registry.mode(stored, mode_name).trains):
        name = stored_name  # `--mode sample|export|... --workdir RUN` works on the run's own experiment.
    if name not in registry.EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {sorted(registry.EXPERIMENTS)}")
    experiment = registry.EXPERIMENTS[name]
    if mode_name not in experiment.mode_names():
        raise ValueError(f"--mode {mode_name} does not exist for {experiment.name}; "
                         f"choose one of {experiment.mode_names()}")
    trains = registry.mode(experiment, mode_name).trains
    if stored_name and (stored_name != name if trains else not experiment.shares_runs_with(stored_name)):
        raise ValueError(f"--workdir {workdir} holds a {stored_name!r} run, not {name!r}; "
                         f"choose another --workdir (or --experiment {stored_name})")
    return experiment, mode_name


def _refuse(names, reason):
    for name in names:
        if FLAGS[name].present:
            raise ValueError(f"--{name} {reason}; drop it")


def resolved_config(experiment, mode_name):
    """The config the mode runs with, validated.

    Training modes: the preset (or the stored config of the run being resumed) with every setting given. Other
    modes: the stored config of the run in --workdir with the settings the mode lets the user change.
    """
    mode, workdir = registry.mode(experiment, mode_name), FLAGS.workdir
    used = f"is not used by --experiment {experiment.name} --mode {mode_name}"
    _refuse([name for name in OPTION_FLAGS if name not in mode.options], used)
    if not mode.trains:
        if not workdir:
            what = f"--experiment {experiment.name}" if mode_name == "train" else f"--mode {mode_name}"
            raise ValueError(f"{what} needs --workdir, the directory of a trained run (an --experiment "
                             f"{experiment.runs_of or experiment.name} run)")
        _refuse([name for name in SETTINGS if name not in mode.settings and name not in mode.options], used)
        base = runs.RunDirectory(workdir).read_config(experiment.config_class)
        return experiment.resolved(base, _setting_values(mode.settings), from_preset=False).validate()
    stored = None
    if workdir and runs.RunDirectory(workdir).exists():
        # Resuming: the run's own config, changed only by the settings given now.
        stored = runs.RunDirectory(workdir).read_config(experiment.config_class)
        if FLAGS["preset"].present and FLAGS.preset != stored.preset:
            raise ValueError(f"--workdir {workdir} holds a {stored.preset!r} run, not {FLAGS.preset!r}; "
                             f"choose another --workdir")
    elif FLAGS.preset not in experiment.presets:
        raise ValueError(f"unknown preset {FLAGS.preset!r} for {experiment.name}; "
                         f"choose one of {sorted(experiment.presets)}")
    base = stored or experiment.presets[FLAGS.preset]
    known = configs.settings(base)
    if FLAGS["strategy"].present and "strategy" not in known and FLAGS.strategy != "default":
        raise ValueError(f"--strategy {FLAGS.strategy}: --experiment {experiment.name} trains on one device "
                         f"only; drop --strategy (or pass --strategy default)")
    _refuse([name for name in SETTINGS if name not in known and name != "strategy" and name not in mode.options],
            f"is not a setting of --experiment {experiment.name} (python main.py --helpfull lists the flags, the "
            f"docs page {experiment.docs} each experiment's settings)")
    values = _setting_values([name for name in known if name in SETTINGS])
    return experiment.resolved(base, values, from_preset=stored is None).validate()


def make_deterministic(seed):
    """Same seed → bit-identical results on the same machine: deterministic kernels and every seed set."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow's global seed.
    tf.config.experimental.enable_op_determinism()


def run(argv):
    experiment, mode_name = select_experiment()
    mode = registry.mode(experiment, mode_name)
    config = resolved_config(experiment, mode_name)
    for name, what in mode.required.items():
        if not FLAGS[name].present:
            raise ValueError(f"--mode {mode_name} needs --{name}, {what}")
    workdir = FLAGS.workdir
    multi_worker = mode.trains and configs.settings(config).get("strategy") == "multi_worker"
    if FLAGS["worker_timeout"].present and not multi_worker:
        raise ValueError("--worker_timeout is used only when training with --strategy multi_worker; drop it")
    if multi_worker:
        workdir = start_multi_worker()  # Before any other TensorFlow work, seeds included.
    elif not mode.trains:
        config = distribute.in_one_process(config)
    if FLAGS.deterministic:
        make_deterministic(config.seed)
    if mode_name == "export":
        from common import export
        return export.export_run(experiment, workdir, FLAGS.export_dir)
    options = {name: FLAGS[name].value for name in mode.options}
    options["more_data"] = tuple(argv[1:])  # absl leaves `--data A B C`'s B and C here (texture_eval).
    return mode.run(config, workdir, options)


def start_multi_worker():
    """Joins the workers of `TF_CONFIG` (common/distribute.py) and returns the run directory this worker writes.

    The chief (worker 0) writes --workdir itself. Every other worker runs the same program on a copy of --workdir
    made before the workers meet (so it sees the chief's config and checkpoints as they were at start-up, whatever
    the chief writes next) in a temporary folder deleted at exit: it takes part in every collective step and
    checkpoint save, and leaves no file in the run directory.
    """
    if not FLAGS.workdir:
        raise ValueError("--strategy multi_worker needs --workdir: every worker names the same run directory (on "
                         "one machine the same folder; on several hosts a shared folder, or a copy of the chief's)")
    _, index = distribute.cluster_from_environment()
    workdir, scratch = os.path.abspath(FLAGS.workdir), []
    if index > 0:
        scratch = [tempfile.mkdtemp(prefix=f"worker{index}_")]
        atexit.register(shutil.rmtree, scratch[0], ignore_errors=True)
        copy = os.path.join(scratch[0], os.path.basename(workdir))
        if os.path.isdir(workdir):
            shutil.copytree(workdir, copy, ignore=shutil.ignore_patterns("tb", "samples", "*_temp", "*.tmp*"))
        workdir = copy
    distribute.initialize_multi_worker(FLAGS.worker_timeout, scratch)
    return workdir


def _one_line(error):
    return " ".join(str(error).split())


def main(argv):
    logging.set_verbosity(logging.WARNING)  # absl would print every checkpoint write at INFO.
    try:
        run(argv)
    except (ValueError, FileNotFoundError, PermissionError, FloatingPointError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:  # Any other refusal of the file system (a file where a folder should be, full disk).
        print(f"error: {_one_line(error)}; check the paths given and that their folders are writable", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # noqa: BLE001
        lost = distribute.lost_worker(error)
        if lost is None:
            raise
        print(f"error: {lost}", file=sys.stderr)
        sys.exit(2)


def parse_flags(argv):
    """absl's parser with errors as one `error: ...` line and exit code 2, like every other bad input."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        print(f"error: {_one_line(error)}; run `python main.py --helpfull` for the flags and their values",
              file=sys.stderr)
        sys.exit(2)


def entry(argv):
    """The command line in-process (tests): parses `argv` (argv[0] is the program) afresh and runs it."""
    FLAGS.unparse_flags()
    main(parse_flags(list(argv)))


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
