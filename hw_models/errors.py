"""The error type of hardware descriptions."""


class HardwareConfigError(ValueError):
    """A hardware name, override path or value is not allowed; the message says what is."""
