"""The one exception type the CLI shows as a single clear line."""


class GatewatchError(Exception):
    """An expected failure: bad input, missing file, unreachable owner."""
