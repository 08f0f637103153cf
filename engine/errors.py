"""The platform's error classes, each with the exit status the spec gives it.

Services raise these; the command line (the operation boundary) prints the message
as one ``jessr: …`` line on stderr and exits with :attr:`JessrError.exit_code`.
Nothing is written when one is raised: the boundary rolls the transaction back.
"""

from __future__ import annotations


class JessrError(Exception):
    """Base of the errors a command reports in one line (never a traceback)."""

    exit_code = 1


class CheckFailed(JessrError):
    """A check found a problem (``audit verify``, a ``batch replay`` that differs): exit 1."""

    exit_code = 1


class InputError(JessrError):
    """Invalid input or usage; nothing written: exit 2."""

    exit_code = 2


class NotMigrated(InputError):
    """The database is missing or not at the code's schema revision: exit 2."""


class ConflictError(JessrError):
    """The state does not allow the operation (or changed under it); nothing written: exit 3."""

    exit_code = 3


class Forbidden(InputError):
    """The acting account's role does not allow the operation (web: 403; CLI: exit 2)."""


class NotFound(InputError):
    """No such object, or none the acting account may see (web: 404; CLI: exit 2)."""


class FieldError(InputError):
    """Invalid input in one field of a form (web: shown beside that field).

    ``field`` names the field (``code``, ``email``…); ``code`` is a stable key of
    the problem (``taken``, ``unknown_org``…) and ``params`` its values, so that an
    interface can say it in the reader's language; ``str()`` is the English line
    the command line prints (``field: message``).
    """

    def __init__(self, field: str, code: str, message: str, **params: object) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.params = params
