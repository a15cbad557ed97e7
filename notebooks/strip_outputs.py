"""Strip outputs from notebooks so they are committed clean (outputs belong to a run).

Usage (from the project folder)::

    .venv/bin/python notebooks/strip_outputs.py            # strip every notebook here
    .venv/bin/python notebooks/strip_outputs.py --check    # exit 1 if any is not stripped
    .venv/bin/python notebooks/strip_outputs.py a.ipynb b.ipynb

A notebook is stripped when no code cell has outputs, an execution count or run metadata
(``execution`` timings, ``collapsed`` / ``scrolled`` view state, papermill's cell and
notebook metadata). Sources, cell ids, tags and the kernelspec are kept. A notebook that
is already stripped is not rewritten.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
RUN_CELL_METADATA = ("execution", "collapsed", "scrolled", "papermill")
RUN_NOTEBOOK_METADATA = ("papermill", "widgets")


def _is_dirty(cell: nbformat.NotebookNode) -> bool:
    if cell.cell_type != "code":
        return False
    return bool(
        cell.get("outputs")
        or cell.get("execution_count") is not None
        or any(key in cell.metadata for key in RUN_CELL_METADATA)
    )


def dirty_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """Positions (0-based) of code cells holding outputs, a count or run metadata.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A notebook read with :func:`nbformat.read`.

    Returns
    -------
    list of int
        Empty when every cell is stripped (notebook-level run metadata is checked
        separately).
    """
    return [i for i, cell in enumerate(notebook.cells) if _is_dirty(cell)]


def strip(notebook: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts and run metadata, in place.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        Modified in place.

    Returns
    -------
    bool
        Whether anything was removed.
    """
    changed = False
    for cell in notebook.cells:
        if _is_dirty(cell):
            cell.outputs = []
            cell.execution_count = None
            for key in RUN_CELL_METADATA:
                cell.metadata.pop(key, None)
            changed = True
    for key in RUN_NOTEBOOK_METADATA:
        changed |= notebook.metadata.pop(key, None) is not None
    return changed


def notebooks_in(folder: Path) -> list[Path]:
    """Every ``*.ipynb`` in ``folder`` (not recursive, checkpoints excluded), sorted."""
    return sorted(folder.glob("*.ipynb"))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: strip (or with ``--check``, only inspect) notebooks.

    Returns
    -------
    int
        0 when every notebook is (now) stripped; 1 with ``--check`` when one is not.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help=f"notebooks (default: {HERE}/*.ipynb)")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook has outputs"
    )
    args = parser.parse_args(argv)
    status = 0
    for path in args.paths or notebooks_in(HERE):
        notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        if args.check:
            dirty = dirty_cells(notebook)
            run_metadata = [key for key in RUN_NOTEBOOK_METADATA if key in notebook.metadata]
            if dirty or run_metadata:
                print(f"{path}: outputs in cells {dirty}, run metadata {run_metadata}")
                status = 1
        elif strip(notebook):
            nbformat.write(notebook, path)
            print(f"{path}: stripped")
    return status


if __name__ == "__main__":
    sys.exit(main())
