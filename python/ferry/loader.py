"""A consumer's Loader of one pipeline and its iterator of epochs."""

import ctypes

from .batch import Batch
from .capi import _Batch, _check, _ferry_batches_per_epoch, _ferry_dataset_size, _ferry_next_batch
from .errors import _END


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
