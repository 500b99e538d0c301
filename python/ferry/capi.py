"""The ctypes binding of libferry's C API (include/ferry/ferry.h): finding and loading the library, its structs
and functions, and turning a ferry_status into an exception."""

import ctypes
import ctypes.util
import os
import pathlib

from .errors import _END, _ERRORS, _OK, Error


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
