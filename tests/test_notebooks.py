"""The analyst notebooks run end to end on the bundled sample, and are committed clean.

Every ``notebooks/*.ipynb`` is covered (a new notebook is picked up without editing this
file). The sample study is run once per session (``stages.run_study``, report included).
Each notebook's ``parameters`` cell is replaced with that run's folders and the notebook
is executed with nbclient, with ``notebooks/`` as the working directory, in a ``python3``
kernel spec installed at test time for the interpreter running the tests (the project's
venv), so a user-level or system ``python3`` kernel can never be picked up instead. Any
cell error fails the test.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import ipykernel.kernelspec
import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from pipeline import stages
from pipeline.config import load_config
from pipeline.privacy import resolve_key

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
STRIP_SCRIPT = NOTEBOOK_DIR / "strip_outputs.py"
SAMPLE_CONFIG = ROOT / "data" / "raw" / "sample" / "study.toml"
REQUIRED = ("01_data_quality.ipynb", "02_outcomes.ipynb", "03_custom_analysis.ipynb")
DEFAULT_PARAMETERS = {"processed": "../data/processed", "report": "../reports/latest"}
KERNEL = "python3"
# A string literal naming a data or config file: notebooks must get paths from loaders.
FILE_NAME = re.compile(r"\.(parquet|json|csv|xlsx|toml)$", re.IGNORECASE)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _parameters_cells(notebook: nbformat.NotebookNode) -> list[int]:
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", [])
    ]


def _python(source: str) -> ast.Module:
    """Parse a code cell, dropping IPython magics and shell lines."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Path, Path]:
    """(processed folder, report folder) of one ``run_study`` of the bundled sample."""
    root = tmp_path_factory.mktemp("notebook_run")
    config = load_config(SAMPLE_CONFIG).with_paths(
        processed=root / "processed", reports=root / "reports"
    )
    key = resolve_key(config.study.salt_env, config.study.demo, {})
    report = root / "report"
    report.mkdir()
    stages.run_study(config, key, out=report)
    assert (report / "results.json").is_file()
    return config.processed_dir, report


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory):
    """A ``python3`` kernel spec for this interpreter, first on JUPYTER_PATH."""
    jupyter = tmp_path_factory.mktemp("jupyter")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(jupyter / "share" / "jupyter"))
        env.setenv("JUPYTER_RUNTIME_DIR", str(jupyter / "runtime"))
        env.setenv("IPYTHONDIR", str(jupyter / "ipython"))
        ipykernel.kernelspec.install(kernel_name=KERNEL, prefix=str(jupyter))
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        assert Path(spec.resource_dir).is_relative_to(jupyter)
        assert spec.argv[0] == sys.executable
        yield KERNEL


def test_the_analyst_notebooks_exist():
    assert set(REQUIRED) <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_layout(path):
    notebook = _read(path)
    assert notebook.cells[0].cell_type == "markdown"
    assert _parameters_cells(notebook) == [1], "cell 2 must be the only `parameters` cell"
    assignments = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in _python(notebook.cells[1].source).body
        if isinstance(node, ast.Assign)
    }
    assert assignments == DEFAULT_PARAMETERS
    code = [c.source for c in notebook.cells[2:] if c.cell_type == "code"]
    assert any("load_study(processed, report)" in source for source in code)
    literals = [
        node.value
        for source in code
        for node in ast.walk(_python(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    assert not [s for s in literals if FILE_NAME.search(s.strip())], "hard-coded file name"


def test_committed_notebooks_have_no_outputs():
    check = subprocess.run(
        [sys.executable, str(STRIP_SCRIPT), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_strip_outputs_removes_outputs_and_keeps_sources(tmp_path):
    parameters = nbformat.v4.new_code_cell("processed = 'x'", execution_count=1)
    parameters.metadata["tags"] = ["parameters"]
    result = nbformat.v4.new_code_cell(
        "1 + 1",
        execution_count=2,
        outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=2)],
    )
    result.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# t"), parameters, result]
    )
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)

    def strip(*options: str) -> int:
        return subprocess.run([sys.executable, str(STRIP_SCRIPT), *options, str(path)]).returncode

    assert strip("--check") == 1
    assert _read(path) == notebook, "--check must not change the file"
    assert strip() == 0
    assert strip("--check") == 0
    stripped = _read(path)
    assert [c.source for c in stripped.cells] == [c.source for c in notebook.cells]
    assert stripped.cells[1].metadata == {"tags": ["parameters"]}
    for cell in stripped.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
        assert "execution" not in cell.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_sample(path, sample_run, kernel_name):
    processed, report = sample_run
    notebook = _read(path)
    (index,) = _parameters_cells(notebook)
    notebook.cells[index].source = f"processed = {str(processed)!r}\nreport = {str(report)!r}\n"
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        startup_timeout=60,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors
