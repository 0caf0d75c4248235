"""Command line: `python main.py --experiment NAME [--preset paper|quick] [--mode MODE] [--FIELD value]`."""

import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's C++ start-up chatter (no CUDA here, oneDNN notes).

from absl import app, flags, logging  # noqa: E402

from dynamic_generator import configs as dg_configs  # noqa: E402
from st_generator import configs as st_configs  # noqa: E402

# Modes that train (and so take a preset); every other mode works on the trained run in --workdir.
TRAIN_MODES = ("train", "table")

FLAGS = flags.FLAGS
flags.DEFINE_string("experiment", "texture", "Paper experiment, e.g. texture, recover, st_recover (see README).")
flags.DEFINE_string("preset", "quick", "Configuration preset: `paper` (faithful) or `quick` (minutes on a CPU).")
flags.DEFINE_string("mode", "train", "`train` (starts, or resumes the run in --workdir), `sample`, ... (per experiment).")
flags.DEFINE_string("workdir", None, "Run directory; default checkpoints/<experiment>/<data>_<preset>.")

# Options of the non-training modes (not config fields).
flags.DEFINE_integer("num_samples", 3, "--mode sample: how many clips to synthesise.")
flags.DEFINE_integer("burn_in", 0, "--mode sample: frames generated and dropped before the ones written (§4.1).")
flags.DEFINE_integer("sample_seed", 0, "--mode sample: seed of the sampling noise.")
flags.DEFINE_integer("inference_iterations", 100, "--mode recover_new / infer (and held-out clips of --experiment "
                     "action): Langevin sweeps over the new clips, weights frozen; in recover_new --energy_scale, "
                     "--langevin_step_size and --seed, if given, apply to it only.")
flags.DEFINE_list("table_methods", ["dg", "mrf_l1", "mrf_l2", "lhd", "linear"],
                  "--experiment recover --mode table: the methods (columns) of the table.")
flags.DEFINE_list("methods", None, "--experiment st_recover --mode table: the methods (columns) of Tables 2-3, "
                  "from abp, li_abp, vae, ws, gan (default all).")
flags.DEFINE_list("clips", None, "--experiment interpolate: the two training clips whose appearances are "
                  "interpolated (names as in the run's clips.json).")
flags.DEFINE_integer("steps", 5, "--experiment interpolate: videos from the first appearance to the second.")
flags.DEFINE_string("image", None, "--experiment animate --mode animate: the image file to animate.")
flags.DEFINE_bool("stream", False, "--mode sample: write one MP4 chunk by chunk as frames are synthesised, with "
                  "memory that does not grow with --num_frames (no GIF, no strip).")
flags.DEFINE_string("export_dir", None, "--mode export: a new folder for the SavedModel of the run in --workdir.")
flags.DEFINE_bool("deterministic", False, "Bit-identical results for the same seed on the same machine "
                  "(tf.config.experimental.enable_op_determinism, all seeds set); may be slower.")
OPTION_FLAGS = ("image", "clips", "steps", "num_samples", "burn_in", "sample_seed", "num_frames", "data", "mask",
                "mask_type", "energy_scale", "langevin_step_size", "seed", "inference_iterations", "table_methods",
                "methods", "stream", "export_dir")

# --experiment texture --method lds (the method itself is a config field).
flags.DEFINE_integer("lds_state_dim", 0, "--method lds: state dimension d; 0 chooses it from the explained "
                     "variance (dynamic_generator/baselines.py).")
flags.DEFINE_integer("lds_noise_dim", 0, "--method lds: driving-noise dimension n_v; 0 chooses it from the "
                     "residual's singular values.")
OPTION_FLAGS += ("lds_state_dim", "lds_noise_dim")

# Every config field of both models is a flag (default: the preset's value); a field both config classes have is one
# flag. In --mode sample, --num_frames is the length to synthesise instead.
_NOT_FLAGS = ("experiment", "preset")
_FIELDS = {}
for _field in (dataclasses.fields(dg_configs.TextureConfig) + dataclasses.fields(st_configs.STConfig)
               + dataclasses.fields(st_configs.MultimodalConfig)):
    if _field.name in _NOT_FLAGS or _field.name in _FIELDS:
        continue
    _FIELDS[_field.name] = _field
    _help = f"Override the preset's `{_field.name}`."
    if _field.type is bool:
        flags.DEFINE_bool(_field.name, None, _help)
    elif _field.type is int:
        flags.DEFINE_integer(_field.name, None, _help)
    elif _field.type is float:
        flags.DEFINE_float(_field.name, None, _help)
    elif _field.type is tuple:
        flags.DEFINE_list(_field.name, None, _help + " Comma-separated integers.")
    else:
        flags.DEFINE_string(_field.name, None, _help)
flags.DEFINE_alias("iterations", "num_iterations")


def resolved_config(experiment, stored=None):
    """The preset (or the stored config of the run being resumed) with every flag the user set, validated."""
    if stored is None:
        if FLAGS.preset not in experiment.presets:
            raise ValueError(f"unknown preset {FLAGS.preset!r} for {experiment.name}; "
                             f"choose one of {sorted(experiment.presets)}")
        config = experiment.presets[FLAGS.preset]
        variant = getattr(experiment, "variant", None)
        if variant is not None and FLAGS["model"].value is not None:
            config = variant(config, FLAGS["model"].value)  # e.g. st_synthesis --model 1: Model-1's preset.
    else:
        config = stored
    known = {field.name for field in dataclasses.fields(config)}
    for name in _FIELDS:  # A setting of another experiment would otherwise be silently ignored.
        if name in known or not FLAGS[name].present:
            continue
        if name == "strategy":
            if FLAGS.strategy == "default":
                continue
            raise ValueError(f"--strategy {FLAGS.strategy}: --experiment {experiment.name} trains on one device "
                             f"only; drop --strategy (or pass --strategy default)")
        raise ValueError(f"--{name} is not a setting of --experiment {experiment.name}; drop it (python main.py "
                         f"--helpfull lists the flags, the README each experiment's settings)")
    overrides = {}
    for field in dataclasses.fields(config):
        if field.name in _NOT_FLAGS or FLAGS[field.name].value is None:
            continue
        value = FLAGS[field.name].value
        if field.type is tuple:
            try:
                value = tuple(int(item) for item in value)
            except ValueError:
                raise ValueError(f"--{field.name} takes comma-separated integers, got {','.join(value)}") from None
        overrides[field.name] = value
    if (hasattr(config, "init") and hasattr(config, "method") and FLAGS["init"].present
            and FLAGS["method"].present and (FLAGS.init == "li") != (FLAGS.method == "li_abp")):
        raise ValueError(f"--init {FLAGS.init} conflicts with --method {FLAGS.method} (--init li is --method "
                         f"li_abp); give --method only")
    if ("image_size" in overrides and hasattr(config, "emission_filters")
            and not {"emission_filters", "emission_kernels", "emission_strides"} & set(overrides)):
        config = dg_configs.with_image_size(config, overrides["image_size"])
    return dataclasses.replace(config, **overrides).validate()


# Experiments whose non-training modes work on each other's runs (the same networks): a texture, recover or
# inpaint run samples and exports alike; interpolate reads an action run.
RUN_FAMILIES = ({"texture", "recover", "inpaint"}, {"action", "interpolate"})


def _compatible(name, stored_name):
    return name == stored_name or any({name, stored_name} <= family for family in RUN_FAMILIES)


def _stored_experiment(workdir):
    """The `experiment` recorded in the run directory `workdir`, or None when it holds no run."""
    from common import runs

    if not workdir or not runs.RunDirectory(workdir).exists():
        return None
    return runs.RunDirectory(workdir).read_config_dict().get("experiment")


def make_deterministic(seed):
    """Same seed → bit-identical results on the same machine: deterministic kernels and every seed set."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow's global seed.
    tf.config.experimental.enable_op_determinism()


def run(argv):
    from common import runs  # Imports TensorFlow: after flag parsing, so --help is fast.
    from dynamic_generator.experiments import EXPERIMENTS as DG_EXPERIMENTS
    from st_generator.experiments import EXPERIMENTS as ST_EXPERIMENTS

    EXPERIMENTS = {**DG_EXPERIMENTS, **ST_EXPERIMENTS}
    name = FLAGS.experiment
    stored_name = _stored_experiment(FLAGS.workdir)
    if FLAGS.mode not in TRAIN_MODES and stored_name and not FLAGS["experiment"].present:
        name = stored_name  # `--mode sample|export|... --workdir RUN` works on the run's own experiment.
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)}")
    experiment = EXPERIMENTS[name]
    if FLAGS.mode not in experiment.mode_names():
        raise ValueError(f"--mode {FLAGS.mode} does not exist for {experiment.name}; "
                         f"choose one of {experiment.mode_names()}")
    trains = FLAGS.mode in TRAIN_MODES and bool(experiment.presets)
    if stored_name and (stored_name != experiment.name if trains else not _compatible(experiment.name, stored_name)):
        raise ValueError(f"--workdir {FLAGS.workdir} holds a {stored_name!r} run, not {experiment.name!r}; "
                         f"choose another --workdir (or --experiment {stored_name})")
    used = getattr(experiment, "option_flags", None)  # Option flags each mode reads (None: not checked).
    if used is not None:
        used = used.get(FLAGS.mode, ())
        for option in OPTION_FLAGS:
            ignored = option not in _FIELDS and option not in used and FLAGS[option].present
            if ignored and not (option == "export_dir" and FLAGS.mode == "export"):
                raise ValueError(f"--{option} is not used by --experiment {experiment.name} --mode {FLAGS.mode}; "
                                 f"drop it")
    if FLAGS.deterministic:
        make_deterministic(FLAGS.seed if FLAGS.seed is not None else 0)
    if FLAGS.mode == "export":
        from common import export
        return export.export_run(experiment, FLAGS.workdir, FLAGS.export_dir)
    options = {name: FLAGS[name].value for name in OPTION_FLAGS}
    options["more_data"] = tuple(argv[1:])  # absl leaves `--data A B C`'s B and C here (texture_eval).
    config = None
    if trains:
        stored = None
        if FLAGS.workdir and runs.RunDirectory(FLAGS.workdir).exists():
            # Resuming: the run's own config, changed only by the flags given now.
            stored = runs.config_from_dict(experiment.config_class, runs.RunDirectory(FLAGS.workdir).read_config_dict())
            if FLAGS["preset"].present and FLAGS.preset != stored.preset:
                raise ValueError(f"--workdir {FLAGS.workdir} holds a {stored.preset!r} run, not {FLAGS.preset!r}; "
                                 f"choose another --workdir")
        config = resolved_config(experiment, stored)
    experiment.modes[FLAGS.mode](config, FLAGS.workdir, options)


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
