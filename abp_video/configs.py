"""Composed configs: frozen dataclasses whose optional parts are dataclasses too, with one flat set of settings.

A config field made with `part(PartClass)` holds a sub-config, or None where the experiment has no such part (a
texture run has no mask). Every leaf field of the config and of its present parts is a *setting*: one command-line
flag of the same name, and one key of the run's stored settings. Leaf names are unique across the parts, so
`--mask_type` names one value whatever part holds it. A part may expose only some of its leaves
(`part(STConfig, settings=(...))`): the others keep the part's defaults and are not settings of the whole.

`config.json` holds the nested form (`to_dict`); `from_dict` also reads the flat form that runs written before
configs were composed have (one key per setting, every part's keys present), placing each key in its part.
"""

import dataclasses

# Where learning runs (abp_video/distribute.py builds the tf.distribute strategy of each).
STRATEGIES = ("default", "mirrored", "multi_worker")
# Where FrameNormalization takes its statistics on incomplete data (abp_video/layers.py): over the visible values,
# or over every position (the authors').
NORMALIZATION_STATISTICS = ("visible", "all")


def part(part_class, default=None, settings=None):
    """A field holding a `part_class` sub-config (None: the experiment has no such part).

    Args:
      part_class: the sub-config's frozen dataclass.
      default: the part's default value (None or a `part_class` instance).
      settings: names of the part's leaves that are settings of the whole config (None: all of them).
    """
    return dataclasses.field(default=default, metadata={"part": part_class, "settings": settings})


def newer_setting(default, stored):
    """A setting added after runs were stored: `default` for new configs, `stored` for a stored config that lacks
    it (the behaviour those runs had), so that an old run resumes, and is compared, as what it ran."""
    return dataclasses.field(default=default, metadata={"stored_default": stored})


def _stored_defaults(config_class, present):
    """{name: stored default} of `config_class`'s leaves that a stored config lacks (not in `present`)."""
    return {field.name: field.metadata["stored_default"] for field in dataclasses.fields(config_class)
            if "stored_default" in field.metadata and field.name not in present}


def _parts(config_class):
    """[(field name, part class, exposed leaf names or None)] of `config_class`'s parts."""
    return [(field.name, field.metadata["part"], field.metadata["settings"])
            for field in dataclasses.fields(config_class) if "part" in field.metadata]


def _is_part(field):
    return "part" in field.metadata


def setting_fields(config_class):
    """Every setting `config_class` can have (its leaves and those of all its parts): {name: dataclasses.Field}."""
    fields = {field.name: field for field in dataclasses.fields(config_class) if not _is_part(field)}
    for _, part_class, exposed in _parts(config_class):
        for name, field in setting_fields(part_class).items():
            if exposed is not None and name not in exposed:
                continue
            if name in fields:
                raise TypeError(f"{config_class.__name__}: setting {name!r} is defined twice")
            fields[name] = field
    return fields


def settings(config):
    """The settings of `config` and of its present parts: {name: value}."""
    values = {field.name: getattr(config, field.name) for field in dataclasses.fields(config) if not _is_part(field)}
    for name, _, exposed in _parts(type(config)):
        value = getattr(config, name)
        if value is not None:
            values.update({key: item for key, item in settings(value).items() if exposed is None or key in exposed})
    return values


def with_settings(config, values):
    """`config` with the settings in `values` replaced, each in the part that holds it.

    Raises:
      ValueError naming the first setting that `config` does not have (e.g. a part the experiment lacks).
    """
    values = dict(values)
    own = {field.name for field in dataclasses.fields(config) if not _is_part(field)}
    changes = {name: values.pop(name) for name in list(values) if name in own}
    for name, _, exposed in _parts(type(config)):
        current = getattr(config, name)
        if current is None:
            continue
        held = {key: values.pop(key) for key in list(values) if key in settings(current)
                and (exposed is None or key in exposed)}
        if held:
            changes[name] = with_settings(current, held)
    if values:
        raise ValueError(f"{type(config).__name__} has no setting {sorted(values)[0]!r}")
    return dataclasses.replace(config, **changes)


def to_dict(config):
    """The nested JSON form: parts as objects (None when absent), tuples as lists."""
    values = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if _is_part(field):
            values[field.name] = None if value is None else to_dict(value)
        else:
            values[field.name] = list(value) if isinstance(value, tuple) else value
    return values


def flatten(values):
    """A stored config dict (nested or flat) as one flat {setting: value} dict."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(flatten(value))
        elif value is not None or key not in flat:
            flat[key] = value
    return flat


def _unknown(config_class, keys, where):
    if keys:
        raise ValueError(f"{where} has fields this version does not know: {sorted(keys)}")


def from_dict(config_class, values, where="config.json"):
    """Rebuilds a config from its stored dict: the nested form of `to_dict`, or the flat form of older runs.

    In the flat form the parts that exist are those `config_class.legacy_parts(values)` names (every part when
    the class has no such method); keys of absent parts are dropped.
    """
    part_names = {name for name, _, _ in _parts(config_class)}
    nested = any(isinstance(values.get(name), dict) or (name in values and values[name] is None)
                 for name in part_names)
    if not nested and part_names:
        present = (config_class.legacy_parts(values) if hasattr(config_class, "legacy_parts") else part_names)
        known = set(setting_fields(config_class))
        for _, part_class, _ in _parts(config_class):
            known |= set(setting_fields(part_class))
        _unknown(config_class, set(values) - known, where)
        return _from_flat(config_class, values, present)
    fields = {field.name: field for field in dataclasses.fields(config_class)}
    _unknown(config_class, set(values) - set(fields), where)
    arguments = {}
    for key, value in values.items():
        field = fields[key]
        if _is_part(field):
            arguments[key] = None if value is None else from_dict(field.metadata["part"], value, where)
        else:
            arguments[key] = tuple(value) if isinstance(value, list) else value
    arguments.update(_stored_defaults(config_class, values))
    return config_class(**arguments)


def _from_flat(config_class, values, present_parts):
    arguments = {}
    for field in dataclasses.fields(config_class):
        if _is_part(field):
            if field.name in present_parts:
                part_class = field.metadata["part"]
                keys = set(setting_fields(part_class))
                arguments[field.name] = _from_flat(part_class, {k: v for k, v in values.items() if k in keys},
                                                   set(p for p, _, _ in _parts(part_class)))
            else:
                arguments[field.name] = None
        elif field.name in values:
            value = values[field.name]
            arguments[field.name] = tuple(value) if isinstance(value, list) else value
    arguments.update(_stored_defaults(config_class, values))
    return config_class(**arguments)


# What each setting is, its unit or allowed values: the text of its flag's help (main.py adds the presets'
# defaults). These are the settings both models have in the same sense; each model's configs module extends it.
COMMON_HELP = {
    "seed": "Seed of the initial weights and latents, of the Langevin noise and of generated clips and masks.",
    "strategy": "Where learning runs: default (one device), mirrored (local GPUs or logical CPUs) or multi_worker "
                "(TF_CONFIG; docs/distribute.md).",
    "log_every": "Iterations between lines of history.jsonl and TensorBoard scalars.",
    "sample_every": "Iterations between TensorBoard images.",
    "checkpoint_every": "Iterations between checkpoints (also written at the end and on Ctrl-C).",
    "num_output_samples": "Clips synthesised into samples/ at the end of training.",
    "learning_rate": "Adam's learning rate of the weights (Eq. 5).",
    "adam_beta1": "Adam's beta_1 (decay of its first-moment average).",
    "num_iterations": "Iterations of inference then learning (--iterations is the same flag).",
    "langevin_step_size": "Langevin step size delta of the latents' inference (Eq. 4).",
    "num_langevin_steps": "Langevin steps l per iteration (chains warm-started from the last iteration).",
    "sigma": "Standard deviation sigma of the observation noise epsilon (weighs the reconstruction energy).",
    "normalization_statistics": "On incomplete data, where the generator's batch-normalisation statistics are "
                                "taken: visible (the observed values only) or all (every position, the authors'; "
                                "runs stored before this setting read as all). docs/fidelity.md.",
}
