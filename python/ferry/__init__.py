"""Ferry for Python: ctypes over libferry's C API (include/ferry/ferry.h). Reference: docs/python.md.

    import ferry
    with ferry.Runtime("job.toml") as rt:        # collective over MPI_COMM_WORLD
        if not rt.is_consumer:
            rt.serve()                           # service ranks serve until the consumers finish
        else:
            loader = rt.loader("fmnist")
            for epoch in loader.epochs():
                for batch in epoch:
                    images = batch.torch("image")  # zero-copy: valid until the next batch
                    ...
            print(rt.state())

Batches are views: their numpy arrays (and torch tensors from them) point into Ferry's buffers, which are
refilled by the next next_batch() call of the same pipeline. Keep data longer with ``copy=True`` (or
``batch.copy()``, ``array.copy()``). The library is found through FERRY_LIBRARY (a file or a directory), else
in the build trees next to this package (``<repo>/build*/src/libferry.so``), else on the system's library path.
"""

from .batch import Batch, DeviceArray
from .capi import library_path, version
from .errors import (ConfigError, DatasetError, Error, InternalError, InvalidArgument, PeerLost, TransformError,
                     TransportError)
from .loader import Loader
from .runtime import Runtime

__all__ = ["Runtime", "Loader", "Batch", "DeviceArray", "Error", "ConfigError", "DatasetError", "TransformError",
           "TransportError", "PeerLost", "InternalError", "InvalidArgument", "library_path", "version"]

# The classes keep the names they had when they lived here (tracebacks print "ferry.ConfigError: ...").
for _cls in (Runtime, Loader, Batch, DeviceArray, Error, ConfigError, DatasetError, TransformError, TransportError,
             PeerLost, InternalError, InvalidArgument):
    _cls.__module__ = __name__
del _cls
