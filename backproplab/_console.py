"""What the commands print, on a terminal whose encoding is not UTF-8.

A command's lines hold characters that not every terminal's encoding has: a notebook's title
("01 · Why backprop") in ASCII (the C locale without Python's UTF-8 mode), a student's name or
a folder's in Windows' cp1252 (output sent to a file or an IDE's panel). Printed as they are,
they end the command with a UnicodeEncodeError after its work is done, and the rest of what it
had to say is lost. ``tolerant_output`` makes such a character an escape (``\\u2714``) instead;
a file name the locale could not decode (held as surrogates) is written back as its own bytes,
as Python does for it by default.
"""

from __future__ import annotations

import codecs
import sys

__all__ = ["tolerant_output"]

_HANDLER = "backproplab.escape"


def _escape(error: UnicodeError) -> tuple[str | bytes, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    if all("\udc80" <= ch <= "\udcff" for ch in text):  # bytes the locale could not decode
        return bytes(ord(ch) - 0xDC00 for ch in text), error.end
    return codecs.backslashreplace_errors(error)


codecs.register_error(_HANDLER, _escape)


def tolerant_output() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` write a character their encoding lacks as an
    escape instead of raising (a stream replaced by one without ``reconfigure``, or set to
    another error handler by the user, is left as it is)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) in (
            "strict",
            "surrogateescape",
            "backslashreplace",
        ):
            reconfigure(errors=_HANDLER)
