"""The one error type of the project, and its few kinds.

    EssayError                 anything a user can act on; the CLI prints its message as one line
     +-- UsageError            bad options, a missing file, a prompt with no sections (exit code 2)
     +-- ConfigError           essay.toml unreadable or contradictory
     +-- LLMError              the model could not give a usable answer (after retries)
     +-- DraftError            the drafts folder cannot be written as asked, or a draft cannot be read
     +-- StateError            the workspace's own state (.essay/) cannot be used
     +-- PrivacyError          a call would have sent a private note to an endpoint that is not trusted
     +-- DownloadError         a model could not be downloaded, or its bytes did not match the published hash
     +-- Cancelled             the run was interrupted before a call was sent
    Deferred                   not an error: a call kept for the Batch API (`essay batch --defer`); its essay waits

Every message says what happened and what to do next.
"""


class EssayError(Exception):
    """An error the user can fix; its message is shown as it is."""

    exit_code = 1


class UsageError(EssayError):
    """The command was called with something that cannot work: fix the call."""

    exit_code = 2


class ConfigError(EssayError):
    """essay.toml (or an option that overrides it) is not usable."""

    exit_code = 2


class LLMError(EssayError):
    """The model or endpoint did not give a usable answer."""


class DraftError(EssayError):
    """A draft could not be read or written."""


class StateError(EssayError):
    """The workspace's state folder or file cannot be used as it is."""


class PrivacyError(EssayError):
    """A private note was about to leave for an untrusted endpoint; nothing was sent."""


class DownloadError(EssayError):
    """`essay models pull` could not fetch or verify a model; nothing was installed."""


class Cancelled(EssayError):
    """The run was interrupted (Ctrl-C) before this call was sent."""

    exit_code = 130


class ContextTooLong(LLMError):
    """The request does not fit the model's context window; the stage splits its input and tries again."""


class Deferred(Exception):
    """A call was kept for the provider's Batch API instead of being sent: its essay stops as pending, not failed,
    and is finished by a later run once the batch is answered. Not an EssayError, so nothing reports it as one."""
