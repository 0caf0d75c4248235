"""The registry of paper experiments: one `Experiment` type for both models, filled by each experiment module."""

import dataclasses

from abp_video import configs


@dataclasses.dataclass(frozen=True)
class Mode:
    """One `--mode` of an experiment: its runner and what it reads from the command line.

    A runner is called as `run(config, workdir, options)`. A training mode (`trains`) gets the preset, or the
    stored config of the run it resumes, with every setting given on the command line. Any other mode works on the
    trained run in `--workdir`: it gets that run's stored config with the settings it lets the user change
    (`settings`) applied. `options` are the non-setting flags the mode reads (main.py defines them); `options`
    holds their values, and `more_data` the positional arguments. A flag given that the mode does not read is
    refused, so that nothing a user types is silently ignored. `required` names the flags the mode cannot run
    without, {flag: what it is}.
    """
    run: object
    trains: bool = False
    options: tuple = ()
    settings: tuple = ()
    required: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Experiment:
    """A paper experiment as `main.py` sees it.

    Args:
      name: `--experiment NAME`.
      paper: the section it reproduces, e.g. "AAAI'19 §4.1".
      config_class: the config dataclass of its runs (abp_video/configs.py composes it).
      presets: {preset name: config}; empty for an experiment that only works on other runs.
      modes: {mode name: Mode}.
      family: experiments whose runs hold the same networks, so that their non-training modes work on each other's
        runs (a recover run samples as a texture run does); default: the experiment alone.
      runs_of: the experiment whose runs the non-training modes need, named in errors (default `name`).
      export: `export(run, stored config) -> (tf.Module, {signature: tf.function}, [files to copy beside])` for
        `--mode export` (abp_video/export.py), or None.
      resolve: `resolve(base config, {setting: value}, from_preset) -> config` for settings that change others
        (e.g. `--image_size` picks the paper's network for that size); default `configs.with_settings`.
      docs: the docs page.
    """
    name: str
    paper: str
    config_class: type
    presets: dict
    modes: dict
    family: str = ""
    runs_of: str = ""
    export: object = None
    resolve: object = None
    docs: str = ""

    def mode_names(self):
        return sorted(self.modes) + (["export"] if self.export is not None else [])

    def shares_runs_with(self, other_name):
        """True when this experiment's non-training modes can read a run of `other_name`."""
        other = EXPERIMENTS.get(other_name)
        return other_name == self.name or (other is not None and (other.family or other.name) ==
                                           (self.family or self.name))

    def resolved(self, base, values, from_preset):
        """The config for `base` with `values` set, through `resolve` when the experiment has one; not validated."""
        if self.resolve is not None:
            return self.resolve(base, values, from_preset)
        return configs.with_settings(base, values)


# Export is a mode of every experiment with an exporter (abp_video/export.py runs it); it reads --export_dir.
EXPORT_MODE = Mode(run=None, options=("export_dir",))

EXPERIMENTS = {}


def register(experiment):
    """Adds `experiment` to the registry; returns it."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def mode(experiment, name):
    """The `Mode` of `experiment` called `name` (export included)."""
    if name == "export" and experiment.export is not None:
        return EXPORT_MODE
    return experiment.modes[name]
