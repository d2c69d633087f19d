"""docs/derivations.md, the page that derives every backward pass, checked like code.

Learners read that page on GitHub, and the code's docstrings link into its sections. So the
page can break in ways no other test would notice. These tests catch five of them:

1. math that GitHub cannot render: a ``$$`` display block left open, an odd number of ``$``
   on a line, or a construct GitHub's markdown spoils before the math renderer sees it;
2. a link to a file that does not exist;
3. a ``Code:`` or ``Test:`` link naming a function that has been renamed or removed;
4. a docstring in ``minigan/*.py`` linking to ``derivations.md#anchor`` with no such heading;
5. a required section that is missing, or out of order.

Each check is a small parsing function below. Each function is itself tested on hand-made
strings, including broken ones that it must reject, so that a check which silently passes
everything would fail too.
"""
import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "derivations.md"
PACKAGE = ROOT / "minigan"

REQUIRED_SECTIONS = [
    "Notation", "Dense", "ReLU", "Sigmoid", "Maxout", "Dropout", "BCE on probabilities",
    "BCE on logits", "Generator objectives", "Sequential", "Branches", "The GAN step",
    "The conditional GAN", "The Wasserstein GAN", "The Wasserstein critic", "Double backprop",
    "The gradient penalty", "Momentum SGD", "Schedules", "Adam", "RMSProp", "Weight clipping", "Parzen",
]


# ----- reading markdown ---------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def prose_lines(text):
    """The page as (line number, line) pairs, with every fenced code block blanked out.

    A fence is a line starting with three or more backticks or tildes. The block ends at
    the next fence made of the same character and at least as long (CommonMark's rule).
    Lines inside are replaced by empty strings, so that line numbers stay right.
    """
    out, fence = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            out.append((number, ""))
        elif fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            out.append((number, ""))
        else:
            out.append((number, line))
    return out


def code_span_ranges(line):
    """(start, end) of every inline code span on the line, such as ``x.argmax()``."""
    return [m.span() for m in CODE_SPAN.finditer(line)]


def strip_code_spans(line):
    """The line with each inline code span replaced by the same number of spaces.

    Column positions do not move, so a ``$`` in prose keeps its neighbours.
    """
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


# ----- check 1: math that GitHub can render ---------------------------------------------------

DOLLAR = re.compile(r"(?<!\\)\$")       # a $ not written as \$ (an escaped, literal dollar)
PITFALLS = [
    (re.compile(r"(?<!\\)\\[{}|,;:!>]"),
     "backslash before punctuation: GitHub's markdown eats the backslash first "
     "(write \\lbrace, \\rbrace, \\lVert, \\rVert, \\quad instead)"),
    (re.compile(r"\\begin\{align\*?\}"), "\\begin{align} does not render: use \\begin{aligned} inside $$"),
    (re.compile(r"<[A-Za-z/!]"), "'<' before a letter can be read as an HTML tag: put a space after '<'"),
]


def math_pitfalls(math):
    """Problems with one piece of LaTeX that GitHub's renderer would show wrongly."""
    return [message for pattern, message in PITFALLS if pattern.search(math)]


def inline_math(line):
    """The inline math spans of one prose line (code spans already stripped), as
    (start, end, content) triples, plus a list of problems.

    Single ``$`` delimiters must pair up on the line. An opening ``$`` must not follow a
    letter or digit, and a closing one must not be followed by one: GitHub does not render
    ``x$y$z``. The content must not start or end with a space.
    """
    positions = [m.start() for m in DOLLAR.finditer(line)]
    problems, spans = [], []
    if len(positions) % 2:
        problems.append(f"odd number of $ ({len(positions)}): an inline formula is not closed")
        return spans, problems
    for start, end in zip(positions[::2], positions[1::2]):
        content = line[start + 1:end]
        if not content.strip():
            problems.append("empty inline formula $$ inside a line")
            continue
        if content != content.strip():
            problems.append(f"inline formula ${content}$ starts or ends with a space")
        if start > 0 and line[start - 1].isalnum():
            problems.append(f"opening $ glued to the word before it: ...{line[max(0, start - 8):end + 1]}")
        if end + 1 < len(line) and line[end + 1].isalnum():
            problems.append(f"closing $ glued to the word after it: {line[start:end + 9]}...")
        problems.extend(math_pitfalls(content))
        spans.append((start, end + 1, content))
    return spans, problems


def math_problems(text):
    """Every math problem on a markdown page, as 'line N: ...' strings (empty: all is well).

    Display math is written as a line holding only ``$$``, the formula, and a line holding
    only ``$$``. It must be closed before the next blank line (which ends the paragraph on
    GitHub, and is where an unclosed block is reported), and must not contain another ``$``. Outside display math, each line's
    single ``$`` must pair up (see ``inline_math``). Fenced code blocks and inline code
    spans are not markdown math and are skipped.
    """
    problems, opened = [], None
    for number, raw in prose_lines(text):
        line = strip_code_spans(raw)
        if opened is not None:                          # inside a $$ display block
            if line.strip() == "$$":
                opened = None
            elif not line.strip():                      # GitHub ends the block's paragraph here
                problems.append(f"line {opened}: $$ block is not closed before the blank line {number}")
                opened = None
            elif DOLLAR.search(line):
                problems.append(f"line {number}: a $ inside the $$ block opened at line {opened}")
            else:
                problems.extend(f"line {number}: {p}" for p in math_pitfalls(line))
            continue
        if line.strip() == "$$":
            opened = number
            continue
        if "$$" in line:
            problems.append(f"line {number}: $$ must stand alone on its line, above and below the formula")
            continue
        _, found = inline_math(line)
        problems.extend(f"line {number}: {p}" for p in found)
    if opened is not None:
        problems.append(f"line {opened}: $$ display block is never closed")
    return problems


# ----- headings and anchors -----------------------------------------------------------------

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def headings(text, level=None):
    """The titles of the page's headings (of one level, if given), in order."""
    found = []
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if match and (level is None or len(match.group(1)) == level):
            found.append(match.group(2))
    return found


def github_anchor(title):
    """The anchor GitHub gives a heading: lowercase the title, drop every character that
    is not a letter, digit, underscore, hyphen or space, then turn each space into a
    hyphen. So 'The GAN step' becomes 'the-gan-step' and 'BCE on logits' 'bce-on-logits'.
    (GitHub adds -1, -2 … to repeated titles; this page has none.)"""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


# ----- links ---------------------------------------------------------------------------------

LINK = re.compile(r"\[((?:`[^`]*`|[^\[\]`])+)\]\(([^()\s]+)\)")


def links(text):
    """Every markdown link [label](target) on the page, as (line number, label, target).

    Links inside fenced code blocks or inside inline code spans are not links and are skipped.
    """
    found = []
    for number, line in prose_lines(text):
        spans = code_span_ranges(line)
        for match in LINK.finditer(line):
            if not any(start <= match.start() < end for start, end in spans):
                found.append((number, match.group(1), match.group(2)))
    return found


def is_relative(target):
    """True for a link to a file of the repository (not a web address, not an in-page #anchor)."""
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target) and not target.startswith("#")


def broken_links(page_path, text):
    """Relative link targets that do not name an existing file or folder, resolved from
    the page's own folder (a #fragment after the file name is ignored)."""
    return [(number, target) for number, _, target in links(text)
            if is_relative(target) and not (page_path.parent / target.split("#")[0]).exists()]


def broken_in_page_anchors(text):
    """In-page links [text](#anchor) whose anchor is not one of the page's headings."""
    anchors = {github_anchor(title) for title in headings(text)}
    return [(number, target) for number, _, target in links(text)
            if target.startswith("#") and target[1:] not in anchors]


# ----- check 3: the Code: and Test: lines -----------------------------------------------------

NAMED_LINK = re.compile(r"\[`(?P<name>[^`]+)`\]\((?P<target>[^()\s]+)\)")    # [`name`](target)
NAMED_LIST = re.compile(r"\[`[^`]+`\]\([^()\s]+\)(?:, \[`[^`]+`\]\([^()\s]+\))*")  # such links, ", "-separated
LINK_LINE = re.compile(r"^Code: (?P<code>.+) · Test: (?P<test>.+)$")


def sections(text):
    """{title: [its lines]} for every level-2 section, each holding the lines up to the next
    level-2 heading."""
    out, current = {}, None
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if match and len(match.group(1)) == 2:
            current = match.group(2)
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def link_line(lines):
    """The section's closing 'Code: … · Test: …' line, split into its two lists of
    (name, target) pairs. Raises ValueError when the last non-blank line is not of that form."""
    body = [line for line in lines if line.strip()]
    last = body[-1].strip() if body else ""
    match = LINK_LINE.match(last)
    if not match or not all(NAMED_LIST.fullmatch(match.group(part)) for part in ("code", "test")):
        raise ValueError(f"the section must end with 'Code: [`module.Name`](../minigan/module.py) "
                         f"· Test: [`test_x.py::test_name`](../tests/test_x.py)', got {last!r}")
    pairs = lambda part: [(m.group("name"), m.group("target")) for m in NAMED_LINK.finditer(match.group(part))]
    return pairs("code"), pairs("test")


def resolve_code_name(name):
    """The object named 'module.Name' or 'module.Class.method' under minigan/.

    Raises ImportError or AttributeError when it does not exist.
    """
    module, *attributes = name.split(".")
    obj = importlib.import_module("minigan." + module_file(module).with_suffix("").as_posix().replace("/", "."))
    for attribute in attributes:
        obj = getattr(obj, attribute)
    return obj


def top_level_functions(path):
    """Names of the functions defined at the top level of a Python file (read with ast,
    not imported)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def module_file(module):
    """The path, relative to minigan/, of the one file called ``module``.py in the package
    (``gan`` -> gans/gan.py): a link names a module by its file's name, wherever it sits."""
    found = sorted(p.relative_to(PACKAGE) for p in PACKAGE.rglob(f"{module}.py"))
    if len(found) != 1:
        raise ImportError(f"{len(found)} files called {module}.py under minigan/, expected one")
    return found[0]


def check_code_link(name, target):
    """None if ``name`` is 'module.Name[.attr…]', exists, and ``target`` is that module's
    file relative to docs/. Otherwise, what is wrong."""
    module = name.split(".")[0]
    try:
        expected = f"../minigan/{module_file(module).as_posix()}"
    except ImportError as error:
        return f"{name} does not exist ({error})"
    if target != expected:
        return f"{name} links to {target}, not {expected}"
    if "." not in name:
        return f"{name} names a module, not something in it: write module.Name"
    try:
        resolve_code_name(name)
    except (ImportError, AttributeError) as error:
        return f"{name} does not exist ({type(error).__name__}: {error})"
    return None


def check_test_link(name, target, tests_dir):
    """None if ``name`` is 'test_x.py::test_name', the link points to that file, and the file
    defines that function at its top level. Otherwise, what is wrong."""
    file, _, function = name.partition("::")
    if not function or not file.endswith(".py"):
        return f"{name} is not of the form test_file.py::test_function"
    if target != f"../tests/{file}":
        return f"{name} links to {target}, not ../tests/{file}"
    path = Path(tests_dir) / file
    if not path.is_file():
        return f"{name}: there is no tests/{file}"
    if function not in top_level_functions(path):
        return f"{name}: tests/{file} defines no top-level function {function}"
    return None


# ----- check 4: docstrings that link into the page --------------------------------------------

DOCSTRING_ANCHOR = re.compile(r"derivations\.md#([\w-]+)")


def anchors_linked_from(package_dir):
    """Every 'derivations.md#anchor' in the package's .py files, as (file name, line, anchor)."""
    found = []
    for path in sorted(Path(package_dir).rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found.extend((path.relative_to(package_dir).as_posix(), number, anchor) for anchor in DOCSTRING_ANCHOR.findall(line))
    return found


# ----- the page itself ------------------------------------------------------------------------

def read_page():
    return PAGE.read_text(encoding="utf-8") if PAGE.is_file() else ""


def _named_links(kind):
    """Every Code (kind 0) or Test (kind 1) link on the page, as pytest parameters named after
    the link, so that a report names the one that broke."""
    pairs = set()
    for lines in sections(read_page()).values():
        try:
            pairs.update(link_line(lines)[kind])
        except ValueError:
            pass                    # reported by test_every_section_ends_with_its_code_and_test_links
    return [pytest.param(name, target, id=name) for name, target in sorted(pairs)]


def test_page_has_the_required_sections_in_order():
    assert PAGE.is_file(), f"{PAGE} is missing"
    found = headings(read_page(), level=2)
    missing = [title for title in REQUIRED_SECTIONS if title not in found]
    assert not missing, f"missing level-2 headings: {missing}"
    assert [t for t in found if t in REQUIRED_SECTIONS] == REQUIRED_SECTIONS, f"sections out of order: {found}"


def test_math_renders_on_github():
    problems = math_problems(read_page())
    assert not problems, "\n".join(problems)


def test_every_section_ends_with_its_code_and_test_links():
    bad = {}
    for title, lines in sections(read_page()).items():
        try:
            code, tests = link_line(lines)
            assert code and tests
        except (ValueError, AssertionError) as error:
            bad[title] = str(error)
    assert not bad, bad


def test_relative_links_point_to_existing_files():
    broken = broken_links(PAGE, read_page())
    assert not broken, f"links to files that do not exist (line, target): {broken}"


def test_in_page_links_point_to_headings():
    broken = broken_in_page_anchors(read_page())
    assert not broken, f"links to anchors with no heading (line, target): {broken}"


@pytest.mark.parametrize("name, target", _named_links(0))
def test_code_link_names_an_existing_object(name, target):
    problem = check_code_link(name, target)
    assert problem is None, problem


@pytest.mark.parametrize("name, target", _named_links(1))
def test_test_link_names_an_existing_test(name, target):
    problem = check_test_link(name, target, ROOT / "tests")
    assert problem is None, problem


def test_docstring_links_into_the_page_have_headings():
    anchors = {github_anchor(title) for title in headings(read_page())}
    bad = [(file, line, anchor) for file, line, anchor in anchors_linked_from(PACKAGE) if anchor not in anchors]
    assert not bad, f"docstrings link to anchors the page does not have (file, line, anchor): {bad}"


# ----- the checks, checked on hand-made pages -------------------------------------------------

def test_github_anchor_rule():
    assert github_anchor("The GAN step") == "the-gan-step"
    assert github_anchor("BCE on logits") == "bce-on-logits"
    assert github_anchor("Momentum SGD") == "momentum-sgd"
    assert github_anchor("  Adam  ") == "adam"
    assert github_anchor("What's `x.T @ dy`? (shapes)") == "whats-xt--dy-shapes"
    assert github_anchor("snake_case and hy-phen") == "snake_case-and-hy-phen"


def test_math_checker_accepts_well_formed_math():
    page = "\n".join([
        "Inline $a_i$ and $\\sigma(a) - t$, then a display:",
        "",
        "$$",
        "\\frac{\\partial L}{\\partial a} = \\sigma(a) - t",
        "$$",
        "",
        "A price of \\$5 and `code with $ inside` are not math.",
        "```python",
        "x = '$ unbalanced in a code block'",
        "```",
        "A set $\\lbrace 0, 2 \\rbrace$, a norm $\\lVert x \\rVert$ and ($x$), fine.",
    ])
    assert math_problems(page) == []


@pytest.mark.parametrize("page, complaint", [
    ("one $x$ and one $y", "odd number of $"),
    ("$$\nx = 1\n", "never closed"),
    ("$$\nx = 1\n\ny = 2\n$$", "not closed before the blank line 3"),
    ("$$x = 1$$", "must stand alone"),
    ("the $x$th entry", "closing $ glued"),
    ("cost$x$", "opening $ glued"),
    ("a $ x$ here", "starts or ends with a space"),
    ("a set $\\{0, 2\\}$", "backslash before punctuation"),
    ("$$\n\\begin{align} x &= 1 \\end{align}\n$$", "begin{aligned}"),
    ("$a<b$", "HTML tag"),
])
def test_math_checker_rejects_broken_math(page, complaint):
    problems = math_problems(page)
    assert any(complaint in p for p in problems), problems


def test_links_are_found_outside_code_only(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "code.py").write_text("")
    page_path = tmp_path / "docs" / "page.md"
    text = "\n".join([
        "## A heading",
        "Good: [`code.py`](../code.py) and [up](#a-heading); web: [site](https://example.org).",
        "Broken: [gone](../missing.py#part) and [nowhere](#no-such-heading).",
        "In code, not a link: `[x](../also_missing.py)`",
        "```",
        "[y](../missing_in_fence.py)",
        "```",
    ])
    page_path.write_text(text)
    assert [target for _, _, target in links(text)] == [
        "../code.py", "#a-heading", "https://example.org", "../missing.py#part", "#no-such-heading"]
    assert broken_links(page_path, text) == [(3, "../missing.py#part")]
    assert broken_in_page_anchors(text) == [(3, "#no-such-heading")]


def test_link_line_format():
    good = ["", "Some text.", "",
            "Code: [`layers.Dense.backward`](../minigan/layers.py), [`layers.sigmoid`](../minigan/layers.py)"
            " · Test: [`test_layers.py::test_dense_gradients`](../tests/test_layers.py)", ""]
    code, tests = link_line(good)
    assert code == [("layers.Dense.backward", "../minigan/layers.py"), ("layers.sigmoid", "../minigan/layers.py")]
    assert tests == [("test_layers.py::test_dense_gradients", "../tests/test_layers.py")]
    for bad in (["Code: [`layers.Dense`](../minigan/layers.py)"],                       # no Test part
                ["Code: layers.Dense · Test: [`test_layers.py::test_x`](../tests/test_layers.py)"],   # not a link
                ["Code: [`layers.Dense`](../minigan/layers.py) · Test: [`t.py::t`](../tests/t.py)", "More text."]):
        with pytest.raises(ValueError):
            link_line(bad)


def test_name_resolution_rejects_missing_names(tmp_path):
    assert check_code_link("layers.Dense.backward", "../minigan/layers.py") is None
    assert "does not exist" in check_code_link("layers.Dense.no_such_method", "../minigan/layers.py")
    assert "does not exist" in check_code_link("no_such_module.f", "../minigan/no_such_module.py")
    assert "not ../minigan/layers.py" in check_code_link("layers.Dense", "../minigan/losses.py")
    (tmp_path / "test_example.py").write_text(
        "def test_here():\n    pass\n\nclass TestGroup:\n    def test_inside(self):\n        pass\n")
    assert check_test_link("test_example.py::test_here", "../tests/test_example.py", tmp_path) is None
    assert "no top-level function" in check_test_link("test_example.py::test_inside", "../tests/test_example.py", tmp_path)
    assert "no top-level function" in check_test_link("test_example.py::test_gone", "../tests/test_example.py", tmp_path)
    assert "there is no" in check_test_link("test_other.py::test_here", "../tests/test_other.py", tmp_path)


def test_docstring_anchor_scan(tmp_path):
    (tmp_path / "mod.py").write_text('"""See docs/derivations.md#bce-on-logits and\n'
                                     'docs/derivations.md#momentum-sgd."""\n# derivations.md#not-a-section\n')
    found = anchors_linked_from(tmp_path)
    assert found == [("mod.py", 1, "bce-on-logits"), ("mod.py", 2, "momentum-sgd"), ("mod.py", 3, "not-a-section")]
    page = "## BCE on logits\n\n## Momentum SGD\n"
    anchors = {github_anchor(title) for title in headings(page)}
    assert [a for _, _, a in found if a not in anchors] == ["not-a-section"]
