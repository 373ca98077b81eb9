"""The one error type the command line reports as a single line."""


class CLIError(Exception):
    """What was wrong and what to do, printed as ``numnet: error: …``; exit code 2 (usage) unless told."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (a multi-line message is joined with " / "), control characters
    escaped: a file name from the user or a model file cannot forge lines or codes in the terminal."""
    text = " / ".join(line.strip() for line in str(exc).split("\n") if line.strip())
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text or type(exc).__name__
