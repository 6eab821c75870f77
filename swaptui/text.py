"""Text that came from a file (a scenario, a trace, a file name) made safe to print on a terminal.

A name or caption holding ESC could move the cursor, recolour or clear the screen, retitle the
window or worse; NUL and the other control characters garble output. `printable` replaces every
control character with a visible escape (ESC becomes \\x1b), so what was in the file is still shown.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides (which
# reorder what follows them on screen).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_EXCEPT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """Return str(text) with each control character shown as an escape (\\x1b); newlines and tabs too,
    unless keep_newlines (then only \\n and \\t are kept as they are)."""
    pattern = _CONTROL_EXCEPT_LINES if keep_newlines else _CONTROL
    return pattern.sub(_escape, str(text))


def find_control(text: str, *, allow_newlines: bool = True) -> int | None:
    """Index of the first control character in text (tab, newline and carriage return allowed), or None."""
    pattern = _CONTROL_EXCEPT_LINES if allow_newlines else _CONTROL
    match = pattern.search(text.replace("\r", "\n") if allow_newlines else text)
    return match.start() if match else None


CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x1B: "ESC", 0x7F: "DEL", 0x0C: "FF", 0x0B: "VT"}


def describe_char(char: str) -> str:
    """Name a character for an error message: U+001B (ESC)."""
    code = ord(char)
    name = CONTROL_NAMES.get(code)
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def markup_safe(text: object) -> str:
    """printable(text), with rich markup escaped too: for text from a file placed in a rich markup string or a
    table title (a name such as "[/x]" would otherwise be read as a closing tag and raise MarkupError)."""
    from rich.markup import escape

    return escape(printable(text))


def markdown_table(header: list[str], rows: list[list[str]], left: int = 1) -> str:
    """A markdown table that pastes into a mail: the first `left` columns left-aligned, the rest (figures)
    right-aligned; cells from files shown printable, with | escaped."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(printable(cell).replace("|", "\\|") for cell in cells) + " |"

    rule = "|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|"
    return "\n".join([line(header), rule, *(line(cells) for cells in rows)]) + "\n"
