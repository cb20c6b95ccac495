"""How the curves of one picture are told apart: by colour and, as well, by line style and
marker, so that a reader who does not see the colours (colour blindness, a grey-scale print)
still can. The colours are Okabe and Ito's, chosen to stay distinct under the common kinds of
colour blindness (red-green, protanopia and deuteranopia); ``CURVES[k]`` styles the k-th curve::

    ax.plot(x, y, **CURVES[k], label=...)
"""

from __future__ import annotations

from typing import Any

# Okabe and Ito's palette without its yellow (too light on white for a thin line), in an order
# where any two of the first four differ by a CIELAB distance of 50 or more also as seen with
# protanopia or deuteranopia (tests/test_plotting.py): blue, orange, bluish green, black, reddish
# purple, sky blue, vermilion
COLORS = ["#0072B2", "#E69F00", "#009E73", "#000000", "#CC79A7", "#56B4E9", "#D55E00"]
_LINES = ["-", "--", ":", "-."]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X"]

CURVES: list[dict[str, Any]] = [
    {"color": color, "linestyle": _LINES[k % len(_LINES)], "marker": _MARKERS[k]}
    for k, color in enumerate(COLORS)
]


def curve(k: int) -> dict[str, Any]:
    """The style of the k-th curve of a picture (after the seventh, they repeat)."""
    return dict(CURVES[k % len(CURVES)])
