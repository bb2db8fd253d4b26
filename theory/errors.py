"""The one error type for bad user input, shared by every layer and the CLI."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: names the argument at fault and what would be valid.

    The CLI prints ``str(err)`` on one line and exits with status 2.

    Examples
    --------
    >>> str(InputError("neurons", "must be an integer >= 1", got=0))
    'argument neurons: must be an integer >= 1 (got 0)'
    """

    def __init__(self, argument: str, message: str, *, got: object = None) -> None:
        self.argument = argument
        self.message = message
        self.got = got
        text = f"argument {argument}: {message}"
        if got is not None:
            text += f" (got {got!r})"
        super().__init__(text)
