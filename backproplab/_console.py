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
    """The first character the encoding lacks, written: a byte the locale could not decode (a
    surrogate of U+DC80..U+DCFF) as that byte, any other as an escape. One at a time (the
    encoder asks again for the rest): a run may mix the two, e.g. a file name's undecodable
    bytes followed by a title's "·"."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    ch = error.object[error.start]
    if "\udc80" <= ch <= "\udcff":
        return bytes([ord(ch) - 0xDC00]), error.start + 1
    return ch.encode("ascii", "backslashreplace").decode("ascii"), error.start + 1


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
