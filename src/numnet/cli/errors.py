"""The one error type the command line reports as a single line."""


class CLIError(Exception):
    """What was wrong and what to do, printed as ``numnet: error: …``; exit code 2 (usage) unless told."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (a multi-line message is joined with " / ")."""
    text = " / ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__
