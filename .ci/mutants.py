"""Mutation analysis: does the mirrored test file notice when one operator or constant changes?

    python .ci/mutants.py minigan/testing.py                      # tests/test_testing.py
    python .ci/mutants.py minigan/gradcheck.py --jobs 2 --list    # and print every survivor

Each mutant changes one thing in the module: an arithmetic operator (+ -, * /, // /, ** *), a
comparison (< <=, > >=, == !=, `is` `is not`, `in` `not in`), a numeric constant (an int n to
n + 1, a float x to 2x, 0.0 to 1.0) or a min/max call (swapped). Text, docstrings and f-string
formats are left alone: a changed message is not a wrong answer. The module's mirrored test file
(tests/test_<name>.py) then runs on NumPy only (-k 'not cupy'), stopping at the first failure,
in a copy of the checkout, never in it. A mutant is killed when the tests fail (or exceed the
per-mutant limit: a mutated loop bound may never end), and survives when they pass.

A survivor is either a hole in the tests (a wrong change no test notices: pin it with a test)
or equivalent (no input could tell it apart, e.g. a bound no array reaches); the --list output
names each by line so the two can be told apart by reading.

This is a developer's tool, not part of the suite: a run costs the test file's time once per
mutant (testing.py: about 250 mutants of 4 s each).
"""
import argparse
import ast
import concurrent.futures
import copy
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
          ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv}
CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
          ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}


def _texts(tree):
    """ids of the nodes inside f-strings and docstrings, which are not mutated."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def sites(tree):
    """Every (node index in ast.walk order, description) that can be mutated."""
    skip, found = _texts(tree), []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOPS:
            found.append((i, f"{type(node.op).__name__} -> {BINOPS[type(node.op)].__name__}"))
        elif isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                if type(op) in CMPOPS:
                    found.append((i, f"{type(op).__name__} -> {CMPOPS[type(op)].__name__}", j))
        elif (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
            found.append((i, f"constant {node.value!r} -> {_changed(node.value)!r}"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
            found.append((i, f"{node.func.id} -> {'max' if node.func.id == 'min' else 'min'}"))
    return [s if len(s) == 3 else (*s, 0) for s in found]


def _changed(value):
    if isinstance(value, int):
        return value + 1
    return 1.0 if value == 0 else value * 2


def mutate(tree, index, which):
    """A copy of tree with the site at ast.walk position ``index`` changed; its source text."""
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[index]
    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        node.op = BINOPS[type(node.op)]()
    elif isinstance(node, ast.Compare):
        node.ops[which] = CMPOPS[type(node.ops[which])]()
    elif isinstance(node, ast.Constant):
        node.value = _changed(node.value)
    else:
        node.func.id = "max" if node.func.id == "min" else "min"
    return ast.unparse(tree)


def run_tests(checkout, test_file, timeout):
    """True if the test file passes in ``checkout``."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "-k", "not cupy", "--hypothesis-seed=0", test_file], cwd=checkout, env=env,
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("module", help="a source file, e.g. minigan/testing.py")
    parser.add_argument("--tests", help="the test file (default: tests/test_<module name>.py)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a mutant's tests may take")
    parser.add_argument("--list", action="store_true", help="print every survivor's line")
    args = parser.parse_args(argv)
    module = Path(args.module)
    tests = args.tests or f"tests/test_{module.stem}.py"
    source = (ROOT / module).read_text()
    tree = ast.parse(source)
    todo = sites(tree)
    lines = source.splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        copies = []
        for j in range(args.jobs):          # one checkout per worker: each mutates its own file
            dest = Path(tmp) / f"c{j}"
            shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".git", ".venv", "runs", "*.egg-info"))
            copies.append(dest)
        if not run_tests(copies[0], tests, args.timeout):
            sys.exit(f"mutants.py: {tests} fails on the unmutated code; fix that first")
        free = list(copies)

        def one(site):
            checkout = free.pop()
            try:
                (checkout / module).write_text(mutate(tree, site[0], site[2]))
                return site, run_tests(checkout, tests, args.timeout)
            finally:
                (checkout / module).write_text(source)
                free.append(checkout)

        survivors = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for n, (site, passed) in enumerate(pool.map(one, todo), 1):
                if passed:
                    survivors.append(site)
                print(f"\r{n}/{len(todo)} mutants, {len(survivors)} survived", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    walk = list(ast.walk(tree))
    print(f"{module}: {len(todo) - len(survivors)} of {len(todo)} mutants killed by {tests}, "
          f"{len(survivors)} survived")
    if args.list:
        for index, what, _ in survivors:
            line = getattr(walk[index], "lineno", 0)
            print(f"  line {line}: {what}    {lines[line - 1].strip()[:90] if line else ''}")


if __name__ == "__main__":
    main()
