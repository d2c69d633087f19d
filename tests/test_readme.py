"""The README and the docs pages: every relative link leads somewhere, the README stays short,
and what the README promises about the test output holds."""
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigan import backend

ROOT = Path(__file__).resolve().parents[1]
# docs/derivations.md has its own, stricter tests (tests/test_derivations.py).
PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "derivations.md")

# The README's size limit, in bytes of UTF-8. With the Table 1 run's 40-row log inside it, the
# README was 25.9 KB, and a newcomer met the log before the ideas. What is left is what a newcomer
# needs (what minigan is, the Quick start, the result with its command and a few rows of the
# curve, the figures, the paper-to-code map, the tests, writing a layer, speed, where to read
# next): 20,099 bytes. The limit, 20 KiB (20,480 bytes), sits just above that, so a new log or
# table has to go to a page under docs/ (docs/reproduction.md holds the run's record), and a new
# section has to push something else out.
README_LIMIT = 20 * 1024

LINK = re.compile(r"\[((?:`[^`]*`|[^\[\]`])*)\]\(([^()\s]+)\)")      # [label](target), ![alt](target)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def prose(text, blank_code=True):
    """The page's lines outside fenced code blocks, with inline code spans blanked out
    (a heading keeps them: GitHub's anchor is made from the code's text too)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", lambda m: " " * len(m.group()), line) if blank_code else line)
    return lines


def github_anchor(title):
    """GitHub's anchor for a heading: lowercase, drop all but letters, digits, _, - and spaces,
    then spaces to hyphens ('The paper's MNIST setup' -> 'the-papers-mnist-setup')."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def anchors(page):
    return {github_anchor(m.group(1)) for m in map(HEADING.match, prose(page.read_text(encoding="utf-8"), blank_code=False)) if m}


def relative_links(page):
    """(target, file it names, #fragment or '') for every link that is not a web address."""
    found = []
    for line in prose(page.read_text(encoding="utf-8")):
        for match in LINK.finditer(line):
            target = match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):        # https:, mailto:
                continue
            path, _, fragment = target.partition("#")
            found.append((target, page.parent / path if path else page, fragment))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_existing_files_and_headings(page):
    links = relative_links(page)
    assert links, f"{page.name}: no links found; is the link pattern still right?"
    missing = [target for target, path, _ in links if not path.exists()]
    assert not missing, f"{page.name} links to files that do not exist: {missing}"
    no_heading = [target for target, path, fragment in links
                  if fragment and path.suffix == ".md" and fragment not in anchors(path)]
    assert not no_heading, f"{page.name} links to headings that do not exist: {no_heading}"


def test_link_checker_catches_a_dead_link(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("# A heading\n", encoding="utf-8")
    page.write_text("[ok](there.md#a-heading) [gone](nothere.png) `[code](x.md)`\n"
                    "```\n[fenced](y.md)\n```\n[web](https://example.org)\n", encoding="utf-8")
    assert [(t, p.exists(), f) for t, p, f in relative_links(page)] == [
        ("there.md#a-heading", True, "a-heading"), ("nothere.png", False, "")]
    assert "a-heading" in anchors(tmp_path / "there.md")


def test_readme_stays_short():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, (f"README.md is {size} bytes, over its {README_LIMIT}: move detail "
                                  "(logs, long tables) to a page under docs/ and link it")


def test_readme_keeps_the_quick_start_test_command():
    """CI runs the README's test command as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install ".[test]" && python -m pytest ' in text


def test_skipped_cupy_copies_are_explained_in_the_default_output(tmp_path):
    """The README says the output explains the s's. Run pytest as a newcomer does (the project's
    setup.cfg, so -q, and its conftest.py) on a tiny test that uses the xp fixture."""
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    for name in ("conftest.py", "devicesim.py"):
        shutil.copy(ROOT / "tests" / name, tmp_path / "tests" / name)
    (tmp_path / "tests" / "test_tiny.py").write_text("def test_sum(xp):\n    assert float(xp.ones(3).sum()) == 3\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    explained = [line for line in run.stdout.splitlines() if "CuPy copies" in line]
    if backend.gpu_available():
        assert "2 passed, 1 skipped" in run.stdout and not explained     # the stand-in's copy skipped
    else:
        assert "2 passed, 1 skipped" in run.stdout                       # numpy and the stand-in
        assert len(explained) == 1 and "skipped: 1 CuPy copies" in explained[0] and "GPU" in explained[0]


def test_tests_skipped_for_want_of_mnist_are_counted_with_how_to_provide_it(tmp_path):
    """Issue 23, item 13: the README's command passed while skipping every MNIST test silently.
    With MNIST nowhere (no MINIGAN_DATA, no ../shared, an empty cache), the closing summary says
    how many tests wanted it and how to provide it; with it in minigan's cache, they run."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    shutil.copy(ROOT / "setup.cfg", project / "setup.cfg")
    for name in ("conftest.py", "devicesim.py"):
        shutil.copy(ROOT / "tests" / name, project / "tests" / name)
    (project / "tests" / "test_tiny.py").write_text(
        "def test_one(mnist_dir):\n    pass\n\ndef test_two(mnist_dir):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != "MINIGAN_DATA"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project,
                         capture_output=True, text=True, timeout=120, env=env)
    assert "2 skipped" in run.stdout, run.stdout + run.stderr
    line = [s for s in run.stdout.splitlines() if s.startswith("skipped: 2 tests that need MNIST")]
    assert len(line) == 1 and "set MINIGAN_DATA" in line[0] and str(tmp_path / "cache") in line[0], run.stdout
    cached = tmp_path / "cache" / "minigan" / "mnist"                  # where `minigan train` downloads it
    cached.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (cached / name).write_bytes(b"")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=project,
                         capture_output=True, text=True, timeout=120, env=env)
    assert "2 passed" in run.stdout and "need MNIST" not in run.stdout, run.stdout
