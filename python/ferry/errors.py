"""Ferry's exceptions, one per ferry_status code of the C API (include/ferry/ferry.h; docs/errors.md)."""

# ferry_status (ferry.h)
_OK, _CONFIG, _DATASET, _TRANSFORM, _TRANSPORT, _INTERNAL, _INVALID, _END, _PEER_LOST = range(9)


class Error(RuntimeError):
    """Base of Ferry's errors; ``status`` is the C API's ferry_status code."""

    def __init__(self, message, status=_INTERNAL):
        super().__init__(message)
        self.status = status


class ConfigError(Error):
    """A config key, file or state string is missing or bad."""


class DatasetError(Error):
    """An HDF5 file or dataset cannot be opened, read or understood."""


class TransformError(Error):
    """A transform chain cannot take its input or failed."""


class TransportError(Error):
    """MPI or UCX failed, or another rank of the job failed (the message names it)."""


class PeerLost(TransportError):
    """Another rank died or stopped answering (the message names it, its role and host). The job cannot go
    on: Runtime.finalize() then ends it (it does not return)."""


class InternalError(Error):
    """A bug in Ferry, or out of memory."""


class InvalidArgument(Error, ValueError):
    """A bad argument: unknown pipeline, a consumer call on a service rank, a finalized runtime."""


_ERRORS = {_CONFIG: ConfigError, _DATASET: DatasetError, _TRANSFORM: TransformError,
           _TRANSPORT: TransportError, _INTERNAL: InternalError, _INVALID: InvalidArgument,
           _PEER_LOST: PeerLost}
