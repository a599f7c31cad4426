"""The user-facing error type: a bad config, preset name, parameter or file. The CLI prints it and exits with 2."""


class CosimInputError(Exception):
    """Bad input. ``str(err)`` names where (file and YAML path), the bad value, and what is allowed."""

    def __init__(self, message: str, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
