"""One error hierarchy for pln; converted to messages and exit codes only at the CLI boundary."""

from __future__ import annotations


class PlnError(Exception):
    """Base of every error pln reports to a user.

    ``exit_code`` follows PRODUCT.md: 2 for bad usage or bad input (nothing changed),
    1 for work that failed. ``subject`` is the id (source, item, account, file) it concerns.
    """

    exit_code = 1

    def __init__(self, message: str, *, subject: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject

    def __str__(self) -> str:
        return self.message


class UsageError(PlnError):
    """Bad input from the user: a malformed spec, a bad option value, an unknown id."""

    exit_code = 2


class NotFoundError(UsageError):
    """An id or name that does not exist."""


class AmbiguousIdError(UsageError):
    """An id prefix that matches more than one thing."""


class ConfigError(PlnError):
    """config.toml or credentials.json cannot be read or is invalid."""

    exit_code = 2


class AuthError(PlnError):
    """A token is missing, rejected or revoked."""

    exit_code = 2


class SourceError(PlnError):
    """A source could not be fetched or parsed."""


class FetchError(SourceError):
    """The network part of a source failed (DNS, timeout, HTTP error, size cap)."""


class ParseError(SourceError):
    """A response arrived but is not a feed / not Mastodon-shaped."""


class StorageError(PlnError):
    """The database is corrupt, locked or cannot be written."""


class LockedError(StorageError):
    """Another pln process holds the write lock."""


class PostError(PlnError):
    """Publishing a reflection failed (some parts may have been sent)."""


class Interrupted(PlnError):
    """The user pressed Ctrl-C; the message says what was kept (exit 130, PRODUCT.md)."""

    exit_code = 130


class PlnWarning(UserWarning):
    """Something the user should know that does not stop the command (shown on stderr)."""
