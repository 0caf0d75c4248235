"""The library's front door, one shape for every experiment of both papers: a config, then the experiment's modes.

    from abp_video import api
    config = api.preset("texture", "quick", data="my_clip.mp4", num_iterations=200)
    api.train(config, "checkpoints/my_clip")                   # trains, or resumes the run there
    api.run_mode("sample", "checkpoints/my_clip", num_samples=2)
    api.run_mode("export", "checkpoints/my_clip", export_dir="exported/my_clip")
    sampler = api.load_sampler("exported/my_clip")

`resolve` is the resolution and validation `python main.py` goes through (main.py is this module behind flags),
so a notebook gets the config a command would run and the same refusals, as `ValueError`s.
"""

import dataclasses

from abp_video import startup

startup.import_tensorflow_quietly()  # Before the models import it: oneDNN on, no native start-up lines.
import dynamic_generator.experiments  # noqa: F401  (registers the AAAI'19 experiments)
import st_generator.experiments  # noqa: F401  (registers the WACV'19 experiments)
from abp_video import configs, distribute, registry, runs
from abp_video.api_flags import (DEFAULT_EXPERIMENT, DEFAULT_PRESET, GENERAL_OPTIONS, OPTIONS,  # noqa: F401
                                 RENAMED_OPTIONS, SETTINGS, Option, setting_help)
from abp_video.data import sources

EXPERIMENTS = registry.EXPERIMENTS


def _refuse(given, names, reason):
    for name in names:
        if name in given:
            raise ValueError(f"--{name} {reason}; drop it")


def select_experiment(experiment=None, mode="train", workdir=None):
    """The experiment and mode asked for, checked against the run in `workdir`: (Experiment, mode name).

    `experiment` None: the run's own experiment for a mode that works on a trained run, else `texture`.
    """
    stored_name = runs.RunDirectory(workdir).stored_experiment() if workdir else None
    stored = EXPERIMENTS.get(stored_name)
    name = experiment or DEFAULT_EXPERIMENT
    if stored is not None and experiment is None and (
            mode not in stored.mode_names() or not registry.mode(stored, mode).trains):
        name = stored_name  # `--mode sample|export|... --workdir RUN` works on the run's own experiment.
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)}")
    chosen = EXPERIMENTS[name]
    if mode not in chosen.mode_names():
        raise ValueError(f"--mode {mode} does not exist for {chosen.name}; choose one of {chosen.mode_names()}")
    trains = registry.mode(chosen, mode).trains
    if stored_name and (stored_name != name if trains else not chosen.shares_runs_with(stored_name)):
        raise ValueError(f"--workdir {workdir} holds a {stored_name!r} run, not {name!r}; "
                         f"choose another --workdir (or --experiment {stored_name})")
    return chosen, mode


def resolved_config(experiment, mode_name, workdir=None, preset=None, settings=None, options=()):
    """The config `mode_name` of `experiment` runs with, validated.

    Training modes: the preset (default `quick`), or the stored config of the run in `workdir` being resumed, with
    every setting of `settings` applied. Other modes: the stored config of the run in `workdir` with the settings
    the mode lets the user change. `options` names the option values given (refused where the mode reads none).
    """
    settings, mode = dict(settings or {}), registry.mode(experiment, mode_name)
    given = set(settings) | set(options)
    unknown = sorted(name for name in settings if name not in SETTINGS)
    if unknown:
        raise ValueError(f"--{unknown[0]} is not a setting of any experiment (docs/{experiment.name}.md lists them)")
    used = f"is not used by --experiment {experiment.name} --mode {mode_name}"
    _refuse(given, [name for name in OPTIONS if name not in mode.options and name not in GENERAL_OPTIONS], used)
    if not mode.trains:
        if not workdir:
            what = f"--experiment {experiment.name}" if mode_name == "train" else f"--mode {mode_name}"
            raise ValueError(f"{what} needs --workdir, the directory of a trained run (an --experiment "
                             f"{experiment.runs_of or experiment.name} run)")
        _refuse(given, [name for name in SETTINGS if name not in mode.settings and name not in mode.options], used)
        base = runs.RunDirectory(workdir).read_config(experiment.config_class)
        return experiment.resolved(base, {name: settings[name] for name in mode.settings if name in settings},
                                   from_preset=False).validate()
    stored, preset_name = None, preset or DEFAULT_PRESET
    run = runs.RunDirectory(workdir) if workdir else None
    if run is not None and run.exists():
        # Resuming: the run's own config, changed only by the settings given now.
        stored = run.read_config(experiment.config_class)
        if preset is not None and preset != stored.preset:
            raise ValueError(f"--workdir {workdir} holds a {stored.preset!r} run, not {preset!r}; "
                             f"choose another --workdir")
    elif preset_name not in experiment.presets:
        raise ValueError(f"unknown preset {preset_name!r} for {experiment.name}; "
                         f"choose one of {sorted(experiment.presets)}")
    base = stored or experiment.presets[preset_name]
    known = configs.settings(base)
    if "strategy" in settings and "strategy" not in known and settings["strategy"] != "default":
        raise ValueError(f"--strategy {settings['strategy']}: --experiment {experiment.name} trains on one device "
                         f"only; drop --strategy (or pass --strategy default)")
    _refuse(given, [name for name in SETTINGS if name not in known and name != "strategy"
                    and name not in mode.options],
            f"is not a setting of --experiment {experiment.name} (python main.py --experiment {experiment.name} "
            f"--help lists its flags; the docs page {experiment.docs})")
    values = {name: value for name, value in settings.items() if name in known}
    return experiment.resolved(base, values, from_preset=stored is None).validate()


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a command will do: the experiment, its mode, the validated config, the run directory, the options."""
    experiment: registry.Experiment
    mode: str
    config: object
    workdir: str
    options: dict

    @property
    def multi_worker(self):
        """True when the plan trains with `--strategy multi_worker` (main.py joins the workers first)."""
        return registry.mode(self.experiment, self.mode).trains and _multi_worker(self.config)


def resolve(mode="train", workdir=None, experiment=None, preset=None, **values):
    """The `Plan` of `python main.py --experiment E --mode M --workdir W --preset P --NAME value ...`.

    `values` holds settings (config fields) and options (OPTIONS) alike, as a command's flags do; the options not
    given take their defaults. Raises ValueError with the command line's message for anything it would refuse.
    """
    chosen, mode = select_experiment(experiment, mode, workdir)
    settings = {name: _setting_value(name, value) for name, value in values.items() if name not in OPTIONS}
    options = {name: value for name, value in values.items() if name in OPTIONS}
    config = resolved_config(chosen, mode, workdir, preset, settings, options)
    mode_spec = registry.mode(chosen, mode)
    for name, what in mode_spec.required.items():
        if name not in values:
            raise ValueError(f"--mode {mode} needs --{name}, {what}")
    if not mode_spec.trains:
        config = distribute.in_one_process(config)
    plan = Plan(chosen, mode, config, workdir, _option_values(mode_spec, values))
    if "worker_timeout" in options and not plan.multi_worker:
        raise ValueError("--worker_timeout is used only when training with --strategy multi_worker; drop it")
    return plan


def _option_values(mode_spec, values):
    """{option: value} for every option the mode reads: the value given, else its default (a setting the mode
    also reads as an option, e.g. `--data` of a table or `--num_frames` of `sample`: None when not given)."""
    return {name: values[name] if name in values else (OPTIONS[name].default if name in OPTIONS else None)
            for name in (*mode_spec.options, *GENERAL_OPTIONS)}


def _setting_value(name, value):
    """A setting's value as its config field holds it (comma-separated integers or a list become a tuple)."""
    if SETTINGS.get(name) is tuple and not isinstance(value, tuple):
        items = value.split(",") if isinstance(value, str) else list(value)
        try:
            return tuple(int(item) for item in items)
        except ValueError:
            raise ValueError(f"--{name} takes comma-separated integers, got {','.join(map(str, items))}") from None
    return value


def _multi_worker(config):
    return configs.settings(config).get("strategy") == "multi_worker"


def describe(plan):
    """One line saying what a training plan will do with its data, e.g. `fire.avi: frames 0-59 of 250,
    352x288 -> 32x32, quick preset, 500 iterations`; None for a mode that does not train."""
    if not registry.mode(plan.experiment, plan.mode).trains:
        return None
    values = configs.settings(plan.config)
    budget = f"{values['preset']} preset, {values['num_iterations']} iterations"
    if plan.mode == "table":
        return f"{plan.experiment.name} --mode table: every table clip and column, {budget} per run"
    segments = values.get("max_segments") if plan.experiment.name.startswith("st_") else None
    data = sources.describe(values["data"], values["num_frames"], values["image_size"], segments)
    return f"{data}, {budget}"


def execute(plan, more_data=()):
    """Runs `plan` (from `resolve`); returns what the mode returns (a training run: its result or metrics).
    A training run first prints `describe(plan)`."""
    line = describe(plan)
    if line:
        print(line, flush=True)
    if plan.mode == "export":
        from abp_video import export
        return export.export_run(plan.experiment, plan.workdir, plan.options["export_dir"])
    options = {name: value for name, value in plan.options.items() if name not in GENERAL_OPTIONS}
    options["more_data"] = tuple(more_data)  # `--data A B C`'s B and C (texture_eval).
    return registry.mode(plan.experiment, plan.mode).run(plan.config, plan.workdir, options)


def preset(experiment=DEFAULT_EXPERIMENT, name=DEFAULT_PRESET, **settings):
    """The validated config of `experiment`'s preset `name` with `settings` applied (as its flags would)."""
    chosen = EXPERIMENTS.get(experiment)
    if chosen is None:
        raise ValueError(f"unknown experiment {experiment!r}; choose one of {sorted(EXPERIMENTS)}")
    return resolved_config(chosen, "train", preset=name,
                           settings={key: _setting_value(key, value) for key, value in settings.items()})


def train(config, workdir=None, mode="train", **options):
    """Trains `config` (from `preset`) in `workdir` (default checkpoints/<experiment>/... under the current
    folder), resuming the run there if it is one of this config; returns the mode's result. `mode` picks another
    training mode (`table`)."""
    chosen = EXPERIMENTS[config.experiment]
    if mode not in chosen.mode_names() or not registry.mode(chosen, mode).trains:
        raise ValueError(f"{mode!r} is not a training mode of {chosen.name}; choose one of "
                         f"{[name for name in chosen.mode_names() if registry.mode(chosen, name).trains]}")
    spec = registry.mode(chosen, mode)
    _refuse(options, [name for name in options if name not in spec.options], f"is not used by --mode {mode}")
    return execute(Plan(chosen, mode, config.validate(), workdir, _option_values(spec, options)))


def run_mode(mode, workdir, experiment=None, **values):
    """Any mode on the trained run in `workdir` (`sample`, `export`, `recover_new`, `animate`, ...), with the
    settings and options a command would give; returns what the mode returns (`export`: the SavedModel's path)."""
    return execute(resolve(mode, workdir, experiment, **values))


def load_run(workdir):
    """The trainer of the run in `workdir` at its latest checkpoint (its networks: `.model` / `.generator`)."""
    name = runs.RunDirectory(workdir).stored_experiment()
    if name is None:
        raise FileNotFoundError(f"no run in {workdir}: it holds no config.json")
    if name.startswith("st_"):
        from st_generator import restore
    else:
        from dynamic_generator import restore
    return restore.restore_trainer(workdir)[1]


def load_sampler(export_dir):
    """The SavedModel written by `run_mode("export", ...)`; it needs TensorFlow only (docs/export.md)."""
    import tensorflow as tf
    return tf.saved_model.load(export_dir)


def make_deterministic(seed):
    """Same seed → bit-identical results on the same machine: deterministic kernels and every seed set."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow's global seed.
    tf.config.experimental.enable_op_determinism()


def _preset_defaults(experiment, name):
    values = [(preset, configs.settings(config).get(name)) for preset, config in sorted(experiment.presets.items())]
    shown = [(preset, ",".join(map(str, value)) if isinstance(value, tuple) else value) for preset, value in values]
    if len({str(value) for _, value in shown}) == 1:
        return f"default {shown[0][1]!s}" if shown else ""
    return "default " + ", ".join(f"{preset} {value}" for preset, value in shown)


GENERAL_FLAGS = (("--experiment NAME", f"the paper experiment (default {DEFAULT_EXPERIMENT})"),
                 ("--preset NAME", f"its configuration: paper (the paper's), quick (minutes on a CPU), tiny (tests); "
                                   f"default {DEFAULT_PRESET}"),
                 ("--mode NAME", "train (starts, or resumes the run in --workdir) or another of the experiment's "
                                 "modes"),
                 ("--workdir DIR", "the run directory (default checkpoints/<experiment>/<data>_<preset>)"),
                 ("--dry_run", "print the data line and the resolved config; run nothing, write nothing"),
                 ("--deterministic", "bit-identical results for the same seed on the same machine (slower)"))


def help_text(experiment=None):
    """`python main.py [--experiment NAME] --help`: the experiments, or one experiment's modes and flags."""
    lines = ["usage: python main.py --experiment NAME [--preset paper|quick|tiny] [--mode MODE] [--workdir DIR] "
             "[--SETTING value ...]", ""]
    lines += [f"  {flag:<20} {text}" for flag, text in GENERAL_FLAGS]
    if experiment is None:
        lines += ["", "experiments (python main.py --experiment NAME --help: its modes, settings and options):"]
        lines += [f"  {name:<15} {item.paper}; modes {', '.join(item.mode_names())}; {item.docs}"
                  for name, item in sorted(EXPERIMENTS.items())]
        return "\n".join(lines)
    if experiment not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; choose one of {sorted(EXPERIMENTS)}")
    chosen = EXPERIMENTS[experiment]
    lines += ["", f"--experiment {experiment}: {chosen.paper} ({chosen.docs})", "", "modes:"]
    for name in chosen.mode_names():
        mode = registry.mode(chosen, name)
        reads = [f"--{option}" for option in (*mode.options, *mode.settings)]
        what = "trains (a new run, or resumes --workdir)" if mode.trains else "works on the trained run in --workdir"
        lines.append(f"  {name:<12} {what}" + (f"; reads {', '.join(reads)}" if reads else ""))
    if chosen.presets:
        lines += ["", "settings (the preset's value unless given):"]
        for name in configs.setting_fields(chosen.config_class):
            if name in ("experiment", "preset") or name not in SETTINGS:
                continue
            defaults = _preset_defaults(chosen, name)
            lines.append(f"  --{name:<26} {setting_help(chosen, name)}" + (f" [{defaults}]" if defaults else ""))
    options = sorted({option for name in chosen.mode_names() for option in registry.mode(chosen, name).options
                      if option in OPTIONS})
    if options:
        lines += ["", "options of the modes:"]
        lines += [f"  --{name:<26} {OPTIONS[name].help} [default {OPTIONS[name].default}]" for name in options]
    return "\n".join(lines)
