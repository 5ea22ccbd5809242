"""The project's error hierarchy.

Every error a user can cause or meet derives from :class:`BotError`. The CLI
prints ``str(error)`` as one line and exits non-zero; the web UI raises
``gr.Error`` with the same text. Nothing else should reach a user as a traceback.
"""

from __future__ import annotations


class BotError(Exception):
    """Base class of every error the bot reports to a user."""

    exit_code: int = 1


class ConfigError(BotError):
    """A setting is missing, malformed or contradictory."""

    exit_code = 2


class InputError(BotError):
    """A question, file or question set cannot be used as given."""

    exit_code = 2


class DocumentError(BotError):
    """A document cannot be read (binary, undecodable, empty, unsupported)."""


class IndexMissingError(BotError):
    """There is no index where one was expected."""


class IndexCorruptError(BotError):
    """The index exists but cannot be opened or read."""


class StoreUnavailableError(BotError):
    """The Chroma server cannot be reached."""


class BackendError(BotError):
    """A generative backend (OpenAI-compatible server, llama.cpp) failed."""
