"""Command line: `python main.py --experiment NAME [--preset paper|quick] [--mode MODE] [--SETTING value]`.

Flags -> the library's resolution (abp_video.api.resolve: the config, validated) -> the experiment's mode
(abp_video.api.execute). Every config setting of every experiment is a flag of the same name; a flag the chosen
experiment and mode do not read is refused. A notebook calls the same functions (docs/api.md).
"""

import dataclasses
import json
import sys

from absl import app, flags, logging

from abp_video import api_flags  # The flags' names and help, without TensorFlow: bad flags fail in a second.

FLAGS = flags.FLAGS
flags.DEFINE_string("experiment", api_flags.DEFAULT_EXPERIMENT, "Paper experiment, e.g. texture, recover, st_recover "
                    "(README.md lists them).")
flags.DEFINE_string("preset", api_flags.DEFAULT_PRESET, "Configuration preset: `paper` (faithful) or `quick` (minutes on "
                    "a CPU).")
flags.DEFINE_string("mode", "train", "`train` (starts, or resumes the run in --workdir), `sample`, ... (per "
                    "experiment).")
flags.DEFINE_string("workdir", None, "Run directory; default checkpoints/<experiment>/<data>_<preset>.")
flags.DEFINE_bool("dry_run", False, "Print what the command would do (the data line and the resolved config) and "
                  "exit without touching the run directory.")
flags.DEFINE_bool("deterministic", False, "Bit-identical results for the same seed on the same machine "
                  "(tf.config.experimental.enable_op_determinism, all seeds set); may be slower.")

DEFINE = {"integer": flags.DEFINE_integer, "float": flags.DEFINE_float, "string": flags.DEFINE_string,
          "bool": flags.DEFINE_bool, "list": flags.DEFINE_list}
for _name, _option in api_flags.OPTIONS.items():  # Values a mode reads that are not config settings.
    if _option.kind == "enum":
        flags.DEFINE_enum(_name, _option.default, list(_option.choices), _option.help)
    else:
        DEFINE[_option.kind](_name, _option.default, _option.help)
for _name, _type in api_flags.SETTINGS.items():  # One flag per config setting; default None: the preset's value.
    {bool: flags.DEFINE_bool, int: flags.DEFINE_integer, float: flags.DEFINE_float, tuple: flags.DEFINE_list}.get(
        _type, flags.DEFINE_string)(_name, None, api_flags.flag_help(_name))
flags.DEFINE_alias("iterations", "num_iterations")
for _old, _new in api_flags.RENAMED_OPTIONS.items():
    flags.DEFINE_list(_old, None, f"The earlier name of --{_new} (still read, with a warning).")
# In --mode sample / animate / interpolate, --num_frames is the length to synthesise; in --mode table of the
# spatial-temporal experiments, --data picks table clips by name.


def given(name):
    """The flag's value when given on the command line, else None."""
    return FLAGS[name].value if FLAGS[name].present else None


def library():
    """abp_video.api, imported once the flags have parsed (TensorFlow with it, its start-up lines held back)."""
    from abp_video import startup
    startup.import_tensorflow_quietly()
    from abp_video import api
    return api


def resolve():
    """The `abp_video.api.Plan` of the parsed flags: experiment, mode, validated config, run directory, options."""
    api = library()
    values = {name: FLAGS[name].value for name in (*api.OPTIONS, *api.SETTINGS) if FLAGS[name].present}
    for old, new in api.RENAMED_OPTIONS.items():
        if FLAGS[old].present:
            print(f"warning: --{old} is now --{new}; read as --{new}", file=sys.stderr)
            values[new] = FLAGS[old].value
    return api.resolve(FLAGS.mode, FLAGS.workdir, given("experiment"), given("preset"), **values)


def run(argv):
    plan, api = resolve(), library()
    if FLAGS.dry_run:
        return print(api.describe(plan) or f"--mode {plan.mode} on {plan.workdir}",
                     json.dumps(api.configs.to_dict(plan.config), indent=2), sep="\n")
    if plan.multi_worker:  # Before any other TensorFlow work, seeds included.
        plan = dataclasses.replace(plan, workdir=api.distribute.join_workers(FLAGS.workdir, FLAGS.worker_timeout))
    if FLAGS.deterministic:
        api.make_deterministic(plan.config.seed)
    return api.execute(plan, more_data=argv[1:])  # absl leaves `--data A B C`'s B and C in argv (texture_eval).


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
        lost = library().distribute.lost_worker(error)
        if lost is None:
            raise
        print(f"error: {lost}", file=sys.stderr)
        sys.exit(2)


def parse_flags(argv):
    """absl's parser with errors as one `error: ...` line and exit code 2, like every other bad input; `--help`
    (or -h) prints the experiments, or with --experiment NAME its modes and flags, and exits 0."""
    if any(arg in ("-h", "--help", "--helpshort", "-?") for arg in argv[1:]):
        named = [arg.split("=", 1)[1] if "=" in arg else (argv[index + 2] if index + 2 < len(argv) else None)
                 for index, arg in enumerate(argv[1:]) if arg.split("=", 1)[0] == "--experiment"]
        try:
            print(library().help_text(named[-1] if named else None))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(2)
        except BrokenPipeError:  # `--help | head`.
            pass
        sys.exit(0)
    try:
        return FLAGS(argv)
    except flags.Error as error:
        print(f"error: {_one_line(error)}; run `python main.py --experiment NAME --help` for the flags and their values",
              file=sys.stderr)
        sys.exit(2)


def entry(argv):
    """The command line in-process (tests): parses `argv` (argv[0] is the program) afresh and runs it."""
    FLAGS.unparse_flags()
    main(parse_flags(list(argv)))


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
