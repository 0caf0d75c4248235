"""The Python API: docs/api.md's walk-through runs as written, from a folder with its own `data.py` and `common.py`
(names this project no longer installs), writing its run under that folder; `preset` is the command line's
resolution; the library installs three import names only."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from abp_video import api

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A user's own modules with the generic names the project used to take: they must not shadow anything of ours.
USER_MODULES = {"data.py": "sources = 'the user\\'s own data module'\n", "common.py": "runs = None\n"}


def walk_through():
    text = open(os.path.join(REPO, "docs", "api.md")).read()
    return "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))


def _user_folder(tmp_path):
    for name, content in USER_MODULES.items():
        (tmp_path / name).write_text(content)
    (tmp_path / "walk_through.py").write_text(walk_through())
    return tmp_path


def _check_walk_through(completed, folder):
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "refused: --mask_type is not a setting of --experiment texture" in completed.stdout and "(2, 16, 16, 16, 3) uint8" in completed.stdout, completed.stdout
    run = folder / "checkpoints" / "texture" / "my_clip_tiny"
    assert (run / "config.json").is_file() and any((run / "samples").iterdir())
    assert (folder / "exported" / "my_clip" / "saved_model.pb").is_file()


def test_walk_through_runs_in_a_users_folder(tmp_path):
    folder = _user_folder(tmp_path)
    environment = dict(os.environ, PYTHONPATH=REPO)
    completed = subprocess.run([sys.executable, "walk_through.py"], cwd=folder, capture_output=True, text=True,
                               env=environment, timeout=600)
    _check_walk_through(completed, folder)


@pytest.mark.slow
def test_installed_copy_runs_the_walk_through(tmp_path):
    """`pip install <checkout>` into a fresh venv (this Python's packages visible, no download), then the
    walk-through from a folder outside the checkout: the installed names are the three packages only."""
    source = tmp_path / "source"  # A copy: building in the checkout would leave build/ and *.egg-info there.
    for name in ("abp_video", "dynamic_generator", "st_generator"):
        shutil.copytree(os.path.join(REPO, name), source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(os.path.join(REPO, name), source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(source)],
                             capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    top_level = subprocess.run([python, "-c", "import importlib.metadata as m; "
                                "print(sorted(set(m.distribution('abp-video').read_text('top_level.txt').split())))"],
                               capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert top_level.strip() == "['abp_video', 'dynamic_generator', 'st_generator']"
    (tmp_path / "notebook").mkdir()
    folder = _user_folder(tmp_path / "notebook")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    completed = subprocess.run([python, "walk_through.py"], cwd=folder, capture_output=True, text=True,
                               env=environment, timeout=600)
    _check_walk_through(completed, folder)
    located = subprocess.run([python, "-c", "import abp_video; print(abp_video.__file__)"], cwd=folder,
                             capture_output=True, text=True, env=environment, check=True).stdout
    assert located.startswith(str(venv)), located


def test_preset_is_the_command_lines_resolution():
    config = api.preset("st_interpolate", "quick", mask_type="frame_blocks", init="li", latent_grid="4,1,1")
    assert (config.mask_type, config.init, config.latent_grid, config.preset) == ("frame_blocks", "li", (4, 1, 1),
                                                                                   "quick")
    plan = api.resolve("train", None, "st_interpolate", "quick", mask_type="frame_blocks", init="li",
                       latent_grid=[4, 1, 1])
    assert plan.config == config
    with pytest.raises(ValueError, match="is not a setting of --experiment texture"):
        api.preset("texture", "quick", mask_type="frame_blocks")
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        api.preset("texture", "huge")
    with pytest.raises(ValueError, match="unknown experiment"):
        api.preset("textures")


def test_runs_default_to_checkpoints_under_the_current_folder(tmp_path, monkeypatch):
    from abp_video import runs
    from dynamic_generator.experiments import texture

    monkeypatch.chdir(tmp_path)
    assert runs.default_root() == str(tmp_path / "checkpoints")
    assert texture.default_workdir(api.preset("texture", "tiny")).startswith(str(tmp_path / "checkpoints"))


def test_every_trainer_declares_the_loop_contract():
    import importlib
    import inspect
    import pkgutil

    from abp_video import loop

    found = {}
    for package in ("abp_video", "dynamic_generator", "st_generator"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            module = importlib.import_module(info.name)
            found.update({f"{info.name}.{name}": value for name, value in inspect.getmembers(module, inspect.isclass)
                          if name.endswith("Trainer") and value.__module__ == info.name and value is not loop.Trainer})
    assert {"dynamic_generator.train.DynamicGeneratorTrainer", "st_generator.train.STGeneratorTrainer",
            "st_generator.multimodal.MultimodalTrainer"} <= set(found), sorted(found)
    undeclared = sorted(name for name, value in found.items() if loop.Trainer not in value.__mro__)
    assert not undeclared, undeclared
    assert len({value.__name__ for value in found.values()}) == len(found), "two trainers share a name"


def test_the_loop_refuses_an_object_that_is_not_a_trainer(tmp_path):
    from abp_video import loop, runs

    class Half:
        config, iteration = None, None

        def train_iteration(self):
            return {}

    with pytest.raises(TypeError, match="does not provide abp_video.loop.Trainer"):
        loop.run_training(Half(), runs.RunDirectory(str(tmp_path / "run")), "half")
