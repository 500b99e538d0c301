"""Batches as numpy arrays over Ferry's buffers (no copy), and DeviceArray for batches in GPU memory; both
become torch tensors without a copy."""

import ctypes

import numpy as np

from .errors import _INVALID, InvalidArgument

# ferry_dtype (ferry.h), in order
_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64, np.float32,
           np.float64]


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
