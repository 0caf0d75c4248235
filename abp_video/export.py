"""`--mode export`: a trained run as a SavedModel that serves without this repository's code.

Each experiment provides its own exporter (`Experiment.export`, a hook): it builds a `tf.Module` whose
`tf.function`s are the serving signatures and returns it with the signature dict and the run's files to copy
beside it (e.g. the clip names of a many-clip run); this module checks the paths,
writes the SavedModel atomically (a temporary folder renamed into place, so a failed or killed export leaves
nothing behind) and records the run's config beside it.
"""

import json
import os
import shutil

import tensorflow as tf

from abp_video import runs


def check_export_dir(export_dir):
    """Raises a user error when `export_dir` is missing, already holds something, or cannot be written."""
    if not export_dir:
        raise ValueError("--mode export needs --export_dir, a new folder to write the SavedModel to")
    path = os.path.abspath(export_dir)
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise ValueError(f"--export_dir {path} already exists and is not an empty folder; choose a new "
                         f"--export_dir or remove it first")
    runs.make_writable_parent(path, "the SavedModel", "--export_dir")
    return path


def save_atomically(module, export_dir, signatures, config_dict, extra_files=()):
    """tf.saved_model.save into `<export_dir>.partial<pid>`, then renames it to `export_dir`.

    The run's config goes to `assets.extra/config.json` (SavedModel's folder for files the loader ignores), with
    copies of `extra_files`.
    """
    temporary = f"{export_dir}.partial{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        tf.saved_model.save(module, temporary, signatures=signatures)
        os.makedirs(os.path.join(temporary, "assets.extra"), exist_ok=True)
        with open(os.path.join(temporary, "assets.extra", "config.json"), "w") as handle:
            json.dump(config_dict, handle, indent=2, sort_keys=True)
        for path in extra_files:
            shutil.copy(path, os.path.join(temporary, "assets.extra", os.path.basename(path)))
        if os.path.isdir(export_dir):
            os.rmdir(export_dir)  # Empty (checked before): replaced by the finished export.
        os.replace(temporary, export_dir)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return export_dir


def export_run(experiment, workdir, export_dir):
    """Exports the run in `workdir` with `experiment.export`; returns the SavedModel's path."""
    if not workdir:
        raise ValueError("--mode export needs --workdir, the directory of a trained run")
    run = runs.RunDirectory(workdir)
    stored = run.read_config_dict()
    if experiment.export is None:
        raise ValueError(f"runs of --experiment {experiment.name} cannot be exported; see docs/export.md "
                         f"for the experiments that can")
    path = check_export_dir(export_dir)
    module, signatures, extra_files = experiment.export(run, stored)
    save_atomically(module, path, signatures, stored, extra_files)
    print(f"wrote SavedModel {path} with signatures {sorted(signatures)}")
    return path
