"""The one error type for bad user input, shared by every layer and the CLI."""

from __future__ import annotations


# The most characters of a bad value echoed back in a message (a 100 kB argument is cut, not repeated).
MAX_ECHO = 80


class InputError(ValueError):
    """Bad user input: names the argument at fault and what would be valid.

    The CLI prints ``str(err)`` on one line and exits with status 2.

    Examples
    --------
    >>> str(InputError("neurons", "must be an integer >= 1", got=0))
    'argument neurons: must be an integer >= 1 (got 0)'
    >>> len(str(InputError("d", "bad", got="9" * 100_000))) < 200  # a huge input is not echoed back in full
    True
    """

    def __init__(self, argument: str, message: str, *, got: object = None) -> None:
        self.argument = argument
        self.message = message
        self.got = got
        text = f"argument {argument}: {message}"
        if got is not None:
            shown = repr(got)
            if len(shown) > MAX_ECHO:
                shown = f"{shown[:MAX_ECHO]}... ({len(shown)} characters)"
            text += f" (got {shown})"
        super().__init__(text.replace("\n", " "))
