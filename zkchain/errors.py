"""Errors a user can act on.

Every error raised for bad input derives from :class:`ZkchainError`; the CLI turns it into one clear line on
stderr and exit code 2 (usage or input error). A rejected proof is not an error: verifiers return ``False``
and the CLI exits with 1.
"""


class ZkchainError(Exception):
    """Base class of every user-facing error (bad file, bad input, unsupported model...)."""

    exit_code = 2


class InputError(ZkchainError):
    """A file or value supplied by the user is malformed, truncated, of the wrong shape or out of range."""


class UnsupportedModelError(ZkchainError):
    """The ONNX model uses operators or shapes zkchain cannot compile."""


class SetupError(ZkchainError):
    """An SRS, proving key or verifying key is missing, corrupt or too small."""


class ChainError(ZkchainError):
    """An RPC endpoint is unreachable or a transaction could not be sent."""
