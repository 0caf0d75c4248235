"""The layout the code keeps: shared machinery below the model packages, neither model package leaning on the other,
the library's front door (abp_video.api) above both, no import cycles, modules of a readable size."""

import ast
import glob
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("abp_video", "dynamic_generator", "st_generator")
# Which layers each layer may import: the model packages sit on the shared machinery (abp_video's core, its clips
# and its baselines), never on each other; only the API (abp_video.api) sees every experiment.
ALLOWED = {"data": {"data"}, "core": {"core"}, "baselines": {"baselines", "core"},
           "dynamic_generator": {"dynamic_generator", "core", "baselines", "data"},
           "st_generator": {"st_generator", "core", "baselines", "data"},
           "api": {"api", "dynamic_generator", "st_generator", "core", "baselines", "data"}}


def _layer(module):
    parts = module.split(".")
    if parts[0] != "abp_video":
        return parts[0]
    if len(parts) == 1 or parts[1] not in ("data", "baselines", "api", "api_flags"):
        return "core"
    return "api" if parts[1].startswith("api") else parts[1]
MAX_LINES = 500


def _module_name(path):
    relative = os.path.relpath(path, REPO)[:-len(".py")].replace(os.sep, ".")
    return relative[:-len(".__init__")] if relative.endswith(".__init__") else relative


MODULES = {_module_name(path): path for package in PACKAGES
           for path in glob.glob(os.path.join(REPO, package, "**", "*.py"), recursive=True)}


def _imports(path):
    """Project modules imported anywhere in the file (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            # `from package import module` uses the module; the package itself only when a name is not a module.
            if not all(name in MODULES for name in names):
                names.append(node.module)
        else:
            continue
        found.update(name for name in names if name in MODULES)
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_follow_the_layers(name):
    wrong = sorted(other for other in GRAPH[name] if _layer(other) not in ALLOWED[_layer(name)])
    assert not wrong, f"{name} imports {wrong}"


def test_no_import_cycles():
    # A package's __init__ importing its own submodules (to register them) is not a cycle of the code.
    graph = {name: {other for other in imports if not (name == other.rsplit(".", 1)[0] or
                                                       other.startswith(name + "."))}
             for name, imports in GRAPH.items()}
    state = {}

    def visit(name, path):
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                pytest.fail("import cycle: " + " -> ".join(path[path.index(other):] + [other]))
            if other not in state:
                visit(other, path + [other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_modules_stay_readable():
    paths = list(MODULES.values()) + glob.glob(os.path.join(REPO, "benchmarks", "*.py")) + [
        os.path.join(REPO, "main.py")]
    long = {os.path.relpath(path, REPO): n for path in paths if (n := len(open(path).readlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_readme_is_a_front_door():
    readme = open(os.path.join(REPO, "README.md")).read()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert first_block == ["pip install -r requirements.txt && python main.py",
                           "pip install -r requirements.txt && python -m pytest -q tests"]
    assert readme.index("```bash") < readme.index("\n## "), "the two commands come before any section"
    ci = open(os.path.join(REPO, ".ci", "run")).read().strip().splitlines()
    assert first_block[1] in ci, ".ci/run runs the README's test command verbatim"
    # ... then the slow tier, which the README's command leaves out (pytest.ini), so that CI runs every test.
    assert ci[ci.index(first_block[1]) + 1:] == ["python -m pytest -q -m slow tests"]
    assert 'addopts = -m "not slow"' in open(os.path.join(REPO, "pytest.ini")).read()
    assert "python -m pytest -q -m slow tests" in readme, "the README says how to run the slow tier"
    assert len(readme.splitlines()) <= 250, "measurements and details belong in docs/, the README links to them"


def test_code_and_docs_do_not_point_at_the_issue_tracker():
    paths = (list(MODULES.values()) + glob.glob(os.path.join(REPO, "benchmarks", "*.py")) +
             glob.glob(os.path.join(REPO, "docs", "*.md")) + [os.path.join(REPO, name) for name in ("main.py", "README.md")])
    found = [f"{os.path.relpath(path, REPO)}: {match.group(0)}" for path in paths
             for match in re.finditer(r"\bissue[ -]\d+", open(path).read(), re.IGNORECASE)]
    assert not found, found
