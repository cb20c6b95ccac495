"""The packages the teacher's commands need beyond backproplab's own dependencies."""

import importlib.util

# The commands need two packages that backproplab alone does not: say so in one line, not with a
# traceback from deep inside (`pip install backproplab` gives the console script without them).
for _needed in ("nbformat", "ipykernel"):
    if importlib.util.find_spec(_needed) is None:
        raise ImportError(
            f"backproplab.classroom needs {_needed}: pip install 'backproplab[classroom]' "
            f"(or the dev extra, which the README's set-up installs)"
        )
