"""Rebuild the rendered notebook: execute notebooks/tour.py and write tour.ipynb beside it.

    python notebooks/build_tour.py          # needs MNIST in $MINIGAN_DATA; about 36 s on 2 cores

tour.py (jupytext's percent format) is the source that diffs readably; tour.ipynb is the
executed copy with figures that a learner sees where the project is hosted. Volatile metadata
(execution counts, timings, the Python version) is dropped and cell ids are fixed, so a rebuild
changes the .ipynb only where the code or its outputs changed. tests/test_notebook.py checks
that the two files hold the same code.
"""
import tempfile
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def main():
    nb = jupytext.read(HERE / "tour.py")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cwd:          # the tour writes its run there, not here
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"                      # stable ids: a rebuild diffs only where outputs changed
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = None
                output.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    jupytext.write(nb, HERE / "tour.ipynb", fmt="ipynb")
    print(f"executed notebooks/tour.py in {time.perf_counter() - start:.1f} s; wrote notebooks/tour.ipynb")


if __name__ == "__main__":
    main()
