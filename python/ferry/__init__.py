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

import ctypes
import ctypes.util
import os
import pathlib
import tempfile

import numpy as np

__all__ = ["Runtime", "Loader", "Batch", "DeviceArray", "Error", "ConfigError", "DatasetError", "TransformError",
           "TransportError", "PeerLost", "InternalError", "InvalidArgument", "library_path", "version"]

# ferry_status (ferry.h)
_OK, _CONFIG, _DATASET, _TRANSFORM, _TRANSPORT, _INTERNAL, _INVALID, _END, _PEER_LOST = range(9)

# ferry_dtype (ferry.h), in order
_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64, np.float32,
           np.float64]


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


class _Field(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("ndim", ctypes.c_int), ("shape", ctypes.POINTER(ctypes.c_int64)), ("bytes", ctypes.c_size_t),
                ("offsets", ctypes.POINTER(ctypes.c_uint64)), ("device_data", ctypes.c_void_p)]


class _Batch(ctypes.Structure):
    _fields_ = [("pipeline", ctypes.c_char_p), ("epoch", ctypes.c_uint64), ("index", ctypes.c_uint64),
                ("size", ctypes.c_size_t), ("ids", ctypes.POINTER(ctypes.c_uint64)), ("nfields", ctypes.c_int),
                ("fields", ctypes.POINTER(_Field))]


# --- finding and loading libferry -----------------------------------------------------------------------

def _candidates():
    env = os.environ.get("FERRY_LIBRARY")
    if env:
        path = pathlib.Path(env)
        yield str(path / "libferry.so") if path.is_dir() else str(path)
        return  # an explicit choice is not second-guessed
    root = pathlib.Path(__file__).resolve().parent.parent.parent  # python/ferry -> the repository
    builds = [p for p in root.glob("build*/src/libferry.so") if p.is_file()]
    builds.sort(key=lambda p: (p.parent.parent.name != "build", -p.stat().st_mtime))  # build/ first, then newest
    for p in builds:
        yield str(p)
    found = ctypes.util.find_library("ferry")
    if found:
        yield found
    yield "libferry.so"


def _load():
    # Open MPI loads its components with dlopen and they expect libmpi's symbols in the global scope, so
    # libmpi goes there first (mpi4py does the same); libferry itself stays local, so its HDF5 (the MPI
    # build) does not replace the one h5py was built against.
    mpi = ctypes.util.find_library("mpi")
    if mpi:
        ctypes.CDLL(mpi, mode=ctypes.RTLD_GLOBAL)
    tried = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path}: {e}")
            continue
        if hasattr(lib, "ferry_init_world"):
            return lib, path
        tried.append(f"{path}: built without the C API")
    raise ImportError("ferry: cannot load libferry.so with the C API (set FERRY_LIBRARY); tried: " +
                      "; ".join(tried))


_lib, library_path = _load()


def _declare(name, *argtypes):
    fn = getattr(_lib, name)
    fn.argtypes = list(argtypes)
    fn.restype = ctypes.c_int
    return fn


_P = ctypes.c_void_p
_ferry_init_world = _declare("ferry_init_world", ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_P))
_ferry_finalize = _declare("ferry_finalize", _P)
_ferry_is_consumer = _declare("ferry_is_consumer", _P, ctypes.POINTER(ctypes.c_int))
_ferry_role = _declare("ferry_role", _P, ctypes.POINTER(ctypes.c_char_p))
_ferry_serve = _declare("ferry_serve", _P)
_ferry_consumer_index = _declare("ferry_consumer_index", _P, ctypes.POINTER(ctypes.c_int))
_ferry_consumer_count = _declare("ferry_consumer_count", _P, ctypes.POINTER(ctypes.c_int))
_ferry_consumer_comm_f = _declare("ferry_consumer_comm_f", _P, ctypes.POINTER(ctypes.c_int))  # MPI_Fint: int
_ferry_pipeline_count = _declare("ferry_pipeline_count", _P, ctypes.POINTER(ctypes.c_int))
_ferry_pipeline_name = _declare("ferry_pipeline_name", _P, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p))
_ferry_batches_per_epoch = _declare("ferry_batches_per_epoch", _P, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_uint64))
_ferry_dataset_size = _declare("ferry_dataset_size", _P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64))
_ferry_next_batch = _declare("ferry_next_batch", _P, ctypes.c_char_p, ctypes.POINTER(ctypes.POINTER(_Batch)))
_ferry_state = _declare("ferry_state", _P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
                        ctypes.POINTER(ctypes.c_size_t))
_lib.ferry_last_error.argtypes = []
_lib.ferry_last_error.restype = ctypes.c_char_p
_lib.ferry_version_string.argtypes = []
_lib.ferry_version_string.restype = ctypes.c_char_p


def _check(status):
    if status != _OK and status != _END:
        message = (_lib.ferry_last_error() or b"").decode(errors="replace")
        raise _ERRORS.get(status, Error)(message, status)
    return status


def _encode(text):
    return None if text is None else text.encode()


def version():
    """Ferry's version string."""
    return _lib.ferry_version_string().decode()


# --- batches --------------------------------------------------------------------------------------------

def _view(address, nbytes, dtype, shape):
    """A numpy array over Ferry's memory (no copy)."""
    if nbytes == 0 or not address:
        return np.empty(shape, dtype=dtype)
    buffer = (ctypes.c_char * nbytes).from_address(address)
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


class DeviceArray:
    """A fixed-size field of a device-resident batch (``runtime.device_batches``): GPU memory of the consumer's
    device, valid until the next batch of the same pipeline. It carries ``__cuda_array_interface__`` (version
    3), so ``torch.as_tensor(a)``, ``cupy.asarray(a)`` and numba take it without a copy; ``copy()`` returns a
    torch tensor on the GPU."""

    __slots__ = ("ptr", "shape", "dtype", "nbytes")

    def __init__(self, ptr, shape, dtype, nbytes=None):
        self.ptr, self.shape, self.dtype = ptr, tuple(shape), np.dtype(dtype)
        self.nbytes = int(np.prod(self.shape)) * self.dtype.itemsize if nbytes is None else nbytes

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.ptr, False), "strides": None,
                "version": 3}

    def copy(self):
        import torch
        return torch.as_tensor(self).clone()

    def __repr__(self):
        return f"<ferry.DeviceArray {self.dtype}{list(self.shape)} at {self.ptr:#x}>"


class Batch:
    """One batch of a pipeline: ``batch["image"]`` is a numpy array of shape [B, ...] (a DeviceArray with
    ``runtime.device_batches``).

    Arrays (and ``ids``) are views of Ferry's buffer unless the batch was taken with ``copy=True``; views are
    valid until the next batch of the same pipeline is taken. Writing into a view changes only this
    consumer's copy of the batch.
    """

    __slots__ = ("pipeline", "epoch", "index", "ids", "fields", "offsets", "pointers", "copied")

    def __init__(self, pipeline, epoch, index, ids, fields, offsets, pointers, copied):
        self.pipeline, self.epoch, self.index, self.ids = pipeline, epoch, index, ids
        self.fields, self.offsets, self.pointers, self.copied = fields, offsets, pointers, copied

    @classmethod
    def _from_c(cls, c, copy):
        pipeline = c.pipeline.decode()
        size = c.size
        ids = _view(ctypes.cast(c.ids, ctypes.c_void_p).value, size * 8, np.uint64, (size,))
        fields, offsets, pointers = {}, {}, {}
        for f in range(c.nfields):
            field = c.fields[f]
            name = field.name.decode()
            shape = tuple(field.shape[d] for d in range(field.ndim))
            pointers[name] = field.data or field.device_data or 0
            if field.device_data:  # runtime.device_batches: in the consumer's GPU memory
                fields[name] = DeviceArray(field.device_data, shape, _DTYPES[field.dtype], field.bytes)
            elif field.offsets:  # variable length: the bytes of all samples, back to back
                fields[name] = _view(field.data, field.bytes, np.uint8, (field.bytes,))
                offsets[name] = _view(ctypes.cast(field.offsets, ctypes.c_void_p).value, (size + 1) * 8,
                                      np.uint64, (size + 1,))
            else:
                fields[name] = _view(field.data, field.bytes, _DTYPES[field.dtype], shape)
        batch = cls(pipeline, c.epoch, c.index, ids, fields, offsets, pointers, False)
        return batch.copy() if copy else batch

    def copy(self):
        """A Batch that owns its arrays (survives the next batch)."""
        return Batch(self.pipeline, self.epoch, self.index, self.ids.copy(),
                     {k: v.copy() for k, v in self.fields.items()},
                     {k: v.copy() for k, v in self.offsets.items()}, dict(self.pointers), True)

    def __getitem__(self, name):
        return self.fields[name]

    def __contains__(self, name):
        return name in self.fields

    def __len__(self):
        return len(self.ids)

    def keys(self):
        return self.fields.keys()

    def items(self):
        return self.fields.items()

    def sample(self, name, i):
        """Sample i of a field (for variable-length fields its bytes)."""
        if name in self.offsets:
            o = self.offsets[name]
            return self.fields[name][int(o[i]):int(o[i + 1])]
        if isinstance(self.fields[name], DeviceArray):
            raise InvalidArgument(f"field '{name}' is in device memory (runtime.device_batches): "
                                  f"use batch.torch('{name}')", _INVALID)
        return self.fields[name][i]

    def torch(self, name=None):
        """torch.from_numpy over the field (zero-copy), or a dict of all fields when name is None. Fields in
        device memory become CUDA tensors on their device, also without a copy."""
        import torch

        def tensor(v):
            return torch.as_tensor(v) if isinstance(v, DeviceArray) else torch.from_numpy(v)
        if name is None:
            return {k: tensor(v) for k, v in self.fields.items()}
        return tensor(self.fields[name])

    def __repr__(self):
        shapes = ", ".join(f"{k}: {v.dtype}{list(v.shape)}" for k, v in self.fields.items())
        return f"<ferry.Batch {self.pipeline} epoch {self.epoch} batch {self.index}: {shapes}>"


# --- runtime and loaders --------------------------------------------------------------------------------

class Loader:
    """A consumer's view of one pipeline (from Runtime.loader())."""

    def __init__(self, runtime, name):
        self._runtime = runtime
        self.name = name
        n = ctypes.c_uint64()
        _check(_ferry_batches_per_epoch(runtime._handle(), name.encode(), ctypes.byref(n)))
        self.batches_per_epoch = n.value
        _check(_ferry_dataset_size(runtime._handle(), name.encode(), ctypes.byref(n)))
        self.dataset_size = n.value

    def next_batch(self, copy=False):
        """The next batch, or None after the last epoch. Without copy, valid until the next call."""
        out = ctypes.POINTER(_Batch)()
        if _check(_ferry_next_batch(self._runtime._handle(), self.name.encode(), ctypes.byref(out))) == _END:
            return None
        return Batch._from_c(out.contents, copy)

    def __iter__(self):
        """Every remaining batch of every remaining epoch."""
        while (batch := self.next_batch()) is not None:
            yield batch

    def epochs(self, copy=False):
        """An iterator of epochs; each is an iterator of that epoch's batches (``epoch.number`` says which).
        Leaving an epoch early skips the rest of it; a resumed job's first epoch may start mid-way."""
        first = self.next_batch(copy)
        while first is not None:
            epoch = _Epoch(self, first, copy)
            yield epoch
            first = epoch._finish()

    def state(self):
        """Where this consumer stands in this pipeline: a "ferry-state 1 ..." line (see Runtime.state)."""
        return self._runtime.state(self.name)


class _Epoch:
    """The batches of one epoch. The end is known from the batch index (no look-ahead), or from a batch of
    the next epoch arriving, which is then kept for the next _Epoch."""

    def __init__(self, loader, first, copy):
        self._loader, self._copy = loader, copy
        self._pending = first  # taken, not yet handed out, of this epoch
        self._after = None     # the next epoch's first batch, when taking one showed the end
        self._done = False
        self.number = first.epoch

    def _take(self):
        if self._pending is not None:
            batch, self._pending = self._pending, None
        elif self._done:
            return None
        else:
            batch = self._loader.next_batch(self._copy)
            if batch is None or batch.epoch != self.number:
                self._after, self._done = batch, True
                return None
        if batch.index + 1 >= self._loader.batches_per_epoch:
            self._done = True
        return batch

    def __iter__(self):
        while (batch := self._take()) is not None:
            yield batch

    def _finish(self):
        while self._take() is not None:
            pass
        if self._after is not None:
            return self._after
        return self._loader.next_batch(self._copy)


class Runtime:
    """The multi-rank system on MPI_COMM_WORLD (or an mpi4py communicator): collective on every rank.

    ``config`` is a TOML file (or pass ``config_text`` with the TOML itself); ``state`` is a string from
    ``state()`` of an earlier job to resume exactly there. MPI is initialized (MPI_THREAD_FUNNELED) when
    nobody did yet, and then finalized by ``finalize()``; with mpi4py imported first, mpi4py owns MPI.
    Use it as a context manager or call ``finalize()`` on every rank, also after an error.
    """

    def __init__(self, config=None, state=None, comm=None, config_text=None):
        if (config is None) == (config_text is None):
            raise InvalidArgument("ferry.Runtime: give exactly one of config (a path) and config_text",
                                  _INVALID)
        if isinstance(state, (list, tuple)):
            state = "\n".join(state)
        path, temporary = config, None
        if config_text is not None:
            # In the working directory when it is writable: relative dataset.files in a config resolve
            # against the config file's directory, and here that should mean the working directory.
            try:
                fd, temporary = tempfile.mkstemp(prefix=".ferry-", suffix=".toml", dir=os.getcwd())
            except OSError:
                fd, temporary = tempfile.mkstemp(prefix="ferry-", suffix=".toml")
            with os.fdopen(fd, "w") as f:
                f.write(config_text)
            path = temporary
        handle = ctypes.c_void_p()
        try:
            if comm is None:
                _check(_ferry_init_world(_encode(str(path)), _encode(state), ctypes.byref(handle)))
            else:
                _check(_init_with_comm(comm, str(path), state, handle))
        finally:
            if temporary:
                os.unlink(temporary)
        self._h = handle.value
        self._loaders = {}

    # Queries ---------------------------------------------------------------------------------------------
    def _handle(self):
        if self._h is None:
            raise InvalidArgument("ferry.Runtime: already finalized", _INVALID)
        return self._h

    def _int(self, fn):
        v = ctypes.c_int()
        _check(fn(self._handle(), ctypes.byref(v)))
        return v.value

    @property
    def is_consumer(self):
        return bool(self._int(_ferry_is_consumer))

    @property
    def role(self):
        v = ctypes.c_char_p()
        _check(_ferry_role(self._handle(), ctypes.byref(v)))
        return v.value.decode()

    @property
    def consumer_index(self):
        """Index among the job's consumers; -1 on service ranks."""
        return self._int(_ferry_consumer_index)

    @property
    def consumer_count(self):
        return self._int(_ferry_consumer_count)

    @property
    def consumer_comm_f(self):
        """The consumers' communicator as a Fortran handle (MPI_Comm_c2f)."""
        return self._int(_ferry_consumer_comm_f)

    @property
    def consumer_comm(self):
        """The consumers' communicator as an mpi4py Comm (needs mpi4py); owned by the runtime."""
        from mpi4py import MPI
        return MPI.Comm.f2py(self.consumer_comm_f)

    @property
    def pipelines(self):
        names = []
        for i in range(self._int(_ferry_pipeline_count)):
            v = ctypes.c_char_p()
            _check(_ferry_pipeline_name(self._handle(), i, ctypes.byref(v)))
            names.append(v.value.decode())
        return names

    # Roles -------------------------------------------------------------------------------------------
    def serve(self):
        """Service ranks: run this rank's role until every consumer has finished."""
        _check(_ferry_serve(self._handle()))

    def loader(self, name=None):
        """The Loader of a pipeline of this consumer (None: the first)."""
        if name is None:
            pipelines = self.pipelines
            if not pipelines:
                raise InvalidArgument("this rank has no pipeline (service ranks call serve())", _INVALID)
            name = pipelines[0]
        if name not in self._loaders:
            self._loaders[name] = Loader(self, name)
        return self._loaders[name]

    def next_batch(self, pipeline=None, copy=False):
        return self.loader(pipeline).next_batch(copy)

    def state(self, pipeline=None):
        """Where this consumer stands: one "ferry-state 1 pipeline=NAME seed=S epoch=E batch=B dataset=HEX" line per
        pipeline (or for one). Pass it as ``state=`` to a later Runtime to continue exactly there."""
        name = _encode(pipeline)
        need = ctypes.c_size_t()
        status = _ferry_state(self._handle(), name, None, 0, ctypes.byref(need))
        if status != _INVALID or need.value == 0:
            _check(status)
        buffer = ctypes.create_string_buffer(need.value)
        _check(_ferry_state(self._handle(), name, buffer, need.value, None))
        return buffer.value.decode()

    # Life cycle --------------------------------------------------------------------------------------
    def finalize(self):
        """Collective: shuts the system down on every rank (and MPI, when this runtime initialized it)."""
        if self._h is not None:
            handle, self._h = self._h, None
            self._loaders.clear()
            _check(_ferry_finalize(handle))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.finalize()
        return False


def _init_with_comm(comm, path, state, handle):
    """ferry_init with an mpi4py communicator's C handle (an int on MPICH, a pointer on Open MPI)."""
    from mpi4py import MPI
    comm_type = ctypes.c_void_p if MPI._sizeof(MPI.Comm) == ctypes.sizeof(ctypes.c_void_p) else ctypes.c_int
    fn = _lib.ferry_init
    fn.argtypes = [comm_type, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    fn.restype = ctypes.c_int
    return fn(comm_type(MPI._handleof(comm)), _encode(path), _encode(state), ctypes.byref(handle))
