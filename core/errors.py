"""One exception type per failure a user can cause; the CLI prints them as one line."""


class ArtifierError(Exception):
    """Base of every error that is the user's to fix, not a bug."""


class ImageError(ArtifierError):
    """An image file is missing, unreadable, truncated, empty or too large."""


class WeightsError(ArtifierError):
    """Backbone weights are unknown, missing or do not fit the network."""


class ConfigError(ArtifierError):
    """A configuration file or a --set override is malformed."""


class IndexMissingError(ArtifierError):
    """No usable index where one was expected."""


class IndexMismatchError(ArtifierError):
    """The index was built with another backbone, layer or size than the query asks for."""


class CollectionError(ArtifierError):
    """The art folder to index is missing or holds no images."""


class OutputError(ArtifierError):
    """A result cannot be written where the user asked."""


class IndexDamagedError(ArtifierError):
    """A file of the index is missing, truncated or unreadable."""


class IndexLockedError(ArtifierError):
    """Another process is writing the same index."""


class UploadError(ArtifierError):
    """An upload to the studio is over its byte limit (an empty one is an ImageError)."""


class EngineError(ArtifierError):
    """The build engine asked for is not installed, or its cluster cannot be reached."""
