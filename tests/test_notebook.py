"""The notebook runs top to bottom, so it cannot rot: on the test index at a tiny size."""
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def test_the_notebook_runs(small_index, tmp_path):
    notebook = nbformat.read(ROOT / "examples" / "artifier.ipynb", as_version=4)
    parameters = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    config = tmp_path / "tiny.toml"
    config.write_text('[transfer]\nschedule = "fast"\n[transfer.schedules.fast]\n'
                      "scales = [0.5, 1.0]\niterations = [3, 2]\n")
    parameters.source += (f"\nINDEX = Path({str(small_index)!r})\nSIZE = 96\n"
                          f"CONFIG = Path({str(config)!r})\nOUT = Path({str(tmp_path)!r})\n")
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if {"image/png", "image/jpeg"} & set(o.get("data", {}))]
    assert len(images) == 3  # the matches, the triptych, the provenance map
    assert (tmp_path / "notebook.png").is_file()
