"""Runtime: the multi-rank system, collective on every rank; it hands out the Loaders of this consumer."""

import ctypes
import os
import tempfile

from .capi import (_check, _encode, _ferry_consumer_comm_f, _ferry_consumer_count, _ferry_consumer_index,
                   _ferry_finalize, _ferry_init_world, _ferry_is_consumer, _ferry_pipeline_count, _ferry_pipeline_name,
                   _ferry_role, _ferry_serve, _ferry_state, _lib)
from .errors import _INVALID, InvalidArgument
from .loader import Loader


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
