"""The wheel's build hook (pyproject.toml names it): the solved notebooks and ``mygrad.py`` of
``notebooks/`` go into the wheel as ``backproplab/notebooks/``, where ``python -m
backproplab.workbook`` finds them when the package is installed from a wheel (``pip install
/path/to/clone``, as a shared JupyterHub has it). An editable install reads them from the clone
instead. File by file, not the folder: the clone's ``__pycache__`` and checkpoints stay out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class NotebooksInTheWheel(BuildHookInterface):
    """Adds ``notebooks/*.ipynb`` and ``notebooks/mygrad.py`` to a standard (not editable) wheel."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "standard":
            return
        folder = Path(self.root) / "notebooks"
        for path in [*sorted(folder.glob("*.ipynb")), folder / "mygrad.py"]:
            build_data["force_include"][str(path)] = f"backproplab/notebooks/{path.name}"
