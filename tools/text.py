"""Text that a submission controls, neutralised where it lands: the one owner of it. A report line (the
terminal, results.json, the pages' text before Jinja2 escapes it) gets safe_text; a folder's name display_name;
a CSV cell csv_cell, which spreadsheet_text keeps from running as a formula."""
import os


def safe_text(text: str, limit: int = 300) -> str:
    """Text that a submission controls, fit for a report: printable, on one line, at most `limit` characters."""
    text = "".join(character if character.isprintable() else " " for character in str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def spreadsheet_text(text: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula (a leading =, +, -, @, tab or CR is quoted away)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def display_name(name: str) -> str:
    """A folder name fit for any report: bytes that are not UTF-8 shown escaped, no control characters."""
    try:
        name = os.fsencode(name).decode("utf-8", errors="backslashreplace")
    except (UnicodeError, ValueError):
        name = repr(name)
    return safe_text(name, 120)


def submission_name(path: str) -> str:
    """The name of a submission in every report: its folder's name."""
    return display_name(os.path.basename(os.path.normpath(path)) or path)


def csv_cell(value) -> str:
    """A CSV cell that no spreadsheet runs as a formula (a leading =, +, -, @, tab or CR is quoted away)."""
    return str(value) if isinstance(value, (int, float)) else spreadsheet_text(safe_text(value))
