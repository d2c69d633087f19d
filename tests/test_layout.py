"""The package's layers, as docs/variants.md draws them: nothing imports upward, and no cycles.

    engine (minigan/*.py)  <  gans/, files/  <  evaluation/  <  program/

An import is read with ast from every module, function-level imports included, so a lazy
import cannot hide a dependency the page does not show.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minigan"
RANK = {"": 0, "gans": 1, "files": 1, "evaluation": 2, "program": 3}


def module_name(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path):
    """The minigan modules one file imports, as dotted names relative to minigan ('' = the package)."""
    here = module_name(path).split(".") if module_name(path) else []
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
            elif node.module and node.module.split(".")[0] == "minigan":
                base, node_module = [], node.module.split(".", 1)[1:] 
                found.update(_targets(base + node_module[0].split(".") if node_module else base, node))
                continue
            else:
                continue
            found.update(_targets(base + (node.module.split(".") if node.module else []), node))
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("minigan."))
    return found


def _targets(base, node):
    """'from X import a, b': the module a or b if they are modules, else X itself."""
    out = set()
    for alias in node.names:
        candidate = ".".join(base + [alias.name])
        exists = (PACKAGE / Path(*candidate.split("."))).with_suffix(".py").is_file() or \
            (PACKAGE / Path(*candidate.split(".")) / "__init__.py").is_file()
        out.add(candidate if exists else ".".join(base))
    return out


def rank(module):
    top = module.split(".")[0] if "." in module else ("" if module + ".py" in {p.name for p in PACKAGE.glob("*.py")} else module)
    return RANK.get(top, 0)


def graph():
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_nothing_imports_upward():
    upward = [(m, t) for m, targets in graph().items() if m not in ("", "__main__")
              for t in targets if t and rank(t) > rank(m)]
    assert not upward, f"modules importing a higher layer (module, import): {upward}"


def test_gans_and_files_are_independent_of_each_other():
    crossing = [(m, t) for m, targets in graph().items() for t in targets
                if {m.split(".")[0], t.split(".")[0]} == {"gans", "files"}]
    assert not crossing, crossing


def test_no_import_cycles():
    g = graph()
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", f"import cycle: {' -> '.join(path + [m])}"
        state[m] = "open"
        for t in g.get(m, ()):
            if t and t != m and not m.startswith(t + ".") and t not in ("", "gans", "files", "evaluation", "program"):
                visit(t, path + [m])
        state[m] = "done"

    for m in g:
        visit(m, [])


def test_the_reader_finds_the_layers_the_page_names():
    assert graph()["program.train"] >= {"gans", "files.checkpoint", "evaluation.parzen"}
    assert "network" in graph()["gans.cgan"] and "gans.gan" in graph()["gans.cgan"]


def test_setup_cfg_installs_every_subpackage_and_the_dependencies():
    """setup.cfg names the subfolders (packages = find:) and keeps install_requires in [options]:
    a section put between them once moved install_requires out, and a fresh install lacked numpy."""
    import configparser
    cfg = configparser.ConfigParser()
    cfg.read(PACKAGE.parent / "setup.cfg", encoding="utf-8")
    assert cfg["options"]["packages"].strip() == "find:"
    assert {"numpy", "matplotlib", "tqdm"} <= {line.split(">")[0].split("=")[0].strip()
                                                 for line in cfg["options"]["install_requires"].split("\n") if line.strip()}
    include = cfg["options.packages.find"]["include"]
    assert "minigan.*" in include
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert folders == {"gans", "files", "evaluation", "program"}
