"""Errors that stop a run with a one-line reason (exit status 2).

Bad *rows* never raise: they go to quarantine. These exceptions are for problems that
make a run impossible: an unreadable config, an input file that cannot be parsed at
all or lacks a required column, a missing pseudonym key.
"""

from __future__ import annotations


class StudyError(Exception):
    """A problem that stops the run; the message is one line meant for the user.

    Attributes
    ----------
    exit_code : int
        Process exit status the command line uses for this error (2: could not run).
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class ConfigError(StudyError):
    """study.toml or claims.toml is missing, malformed or inconsistent."""


class InputError(StudyError):
    """An input file cannot be read as a whole (encoding, format, missing column).

    Parameters
    ----------
    path : str
        The file, as the user named it (relative to the raw folder where possible).
    message : str
        What is wrong, in one sentence.
    column : str, optional
        The column concerned, when there is one.
    """

    def __init__(self, path: str, message: str, column: str | None = None):
        self.path = str(path)
        self.column = column
        where = f"{self.path}" + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {message}")


class KeyMissingError(StudyError):
    """The pseudonym key is not set for a study that is not the bundled demo."""
