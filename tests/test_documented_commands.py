"""Every `python main.py ...` command in the README and the docs pages parses and resolves to a runnable config.

Each command goes through absl's parser, the registry (experiment, mode) and the config resolution main.py does
before running anything: unknown flags, flags the mode does not read, settings another experiment has and values a
preset refuses all fail here. Commands that work on a trained run (`--mode sample --workdir RUN`) are resolved up
to reading that run, which the docs assume exists.
"""

import glob
import os
import re
import shlex

import pytest
from absl import flags

import main
from abp_video import registry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md"))) + sorted(
    glob.glob(os.path.join(REPO, "docs", "results", "*.md")))


def _commands(path):
    """(line number, argv after `python main.py`) of every command in the page: in fenced blocks, one a line
    (with `\\` continuations), and in inline code spans, which may wrap across lines."""
    text = open(path).read()
    found = []
    for match in re.finditer(r"`(python main\.py[^`]*)`", text):
        found.append((text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())))
    for match in re.finditer(r"^\s*((?:\S+=\S+\s+)*python main\.py(?:[^\n]*\\\n)*[^\n]*)$", text, re.MULTILINE):
        command = re.sub(r"\\\n\s*", " ", match.group(1))
        found.append((text.count("\n", 0, match.start()) + 1, command))
    commands = []
    for line, command in found:
        command = command.split(" #")[0].split(" &&")[0].split(" |")[0].rstrip(" &")
        words = shlex.split(command.replace("[", "").replace("]", ""))  # `[--flag value]`: checked with it.
        start = words.index("main.py") + 1
        # A one-letter placeholder (`--num_frames N`) stands for a number.
        commands.append((line, ["2" if re.fullmatch(r"[A-Z]", word) else word for word in words[start:]]))
    return commands


CASES = [(os.path.relpath(path, REPO), line, argv) for path in PAGES for line, argv in _commands(path)]


def test_the_pages_document_commands():
    pages = {page for page, _, _ in CASES}
    assert "README.md" in pages and len(CASES) >= 20, pages


def _resolve(argv):
    """main.resolve, with the experiment of a `--mode M --workdir RUN` command inferred from the run's path
    (checkpoints/<experiment>/...) when --experiment is not given, as main.py reads it from the run."""
    try:
        return main.resolve()
    except ValueError as error:
        if main.FLAGS["experiment"].present or "does not exist for" not in str(error):
            raise
    having = [name for name, experiment in registry.EXPERIMENTS.items() if main.FLAGS.mode in experiment.mode_names()]
    named = [name for name in having if f"/{name}/" in f"/{main.FLAGS.workdir or ''}"]
    main.FLAGS.experiment = (named or having or [main.FLAGS.experiment])[0]
    return main.resolve()


@pytest.mark.parametrize("page,line,argv", CASES, ids=[f"{page}:{line}" for page, line, _ in CASES])
def test_documented_command_resolves(page, line, argv):
    main.FLAGS.unparse_flags()
    if "--helpfull" in argv or "--help" in argv:
        return
    try:
        main.FLAGS(["main.py", *argv])
    except flags.Error as error:
        pytest.fail(f"{page}:{line}: {' '.join(argv)}: {error}")
    try:
        _resolve(argv)
    except FileNotFoundError as error:
        if "no run in" not in str(error):  # A command on a trained run: the docs train it first.
            raise
    except ValueError as error:
        if "needs --workdir" in str(error) and "--workdir" not in argv:
            return  # Prose naming a mode (`python main.py --mode sample`), not a command to copy.
        pytest.fail(f"{page}:{line}: python main.py {' '.join(argv)}: {error}")
    finally:
        main.FLAGS.unparse_flags()


def _anchor(heading):
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path):
    text = re.sub(r"^```.*?^```", "", open(path).read(), flags=re.MULTILINE | re.DOTALL)
    return {_anchor(match.group(1)) for match in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def test_every_link_between_the_pages_resolves():
    broken = []
    for page in PAGES:
        text = re.sub(r"^```.*?^```", "", open(page).read(), flags=re.MULTILINE | re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            path, _, anchor = target.partition("#")
            linked = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            where = f"{os.path.relpath(page, REPO)} -> {target}"
            if not os.path.exists(linked):
                broken.append(f"{where}: no such file")
            elif anchor and anchor not in _anchors(linked):
                broken.append(f"{where}: no heading with that anchor")
    assert not broken, "\n".join(broken)
    assert _anchor("Synthesis quality: the LDS (§4.1, Figure 2)") == "synthesis-quality-the-lds-41-figure-2"


def test_experiment_manuals_stay_short_with_their_results_apart():
    """Each experiment's page is a manual of at most about 150 lines; its measurements live under docs/results/."""
    long = {experiment.docs: n for experiment in registry.EXPERIMENTS.values()
            if (n := len(open(os.path.join(REPO, experiment.docs)).readlines())) > 150}
    assert not long, f"manuals over 150 lines (move the measurements to docs/results/): {long}"
