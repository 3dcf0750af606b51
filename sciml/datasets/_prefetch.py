"""Move batches to the device in a background thread, a few batches ahead."""

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import jax

from sciml._checks import integer

_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch_to_device(
    batches: Iterable[Any], size: int = 2, *, device: Any = None
) -> Iterator[Any]:
    """Iterate over `batches` with `jax.device_put` done ahead, in a background thread.

    A thread pulls batches from `batches` (reading files, shuffling) and puts each on
    the device while the caller trains on the current one; at most `size` finished
    batches wait in a queue, so device memory holds at most `size + 2` batches (the
    queue, the one being put, the one in use). The batches and their order are
    exactly those of `jax.device_put(b, device) for b in batches`. An exception in
    the thread is raised in the caller; leaving the loop early stops the thread
    (after the batch it is working on), so the source can be closed afterwards.

    **Arguments:**

    - `batches`: an iterable of pytrees of arrays (e.g. dicts of numpy arrays).
    - `size`: the queue length; `0` puts each batch synchronously, no thread.
    - `device`: a `jax.Device` or `jax.sharding.Sharding` (default: the default
        device), passed to `jax.device_put`.

    **Returns:**

    An iterator of the batches as JAX arrays on `device`.
    """
    size = integer("size", size, minimum=0, owner="prefetch_to_device")
    if size == 0:
        return (jax.device_put(batch, device) for batch in batches)
    return _prefetch(batches, size, device)


def _prefetch(batches: Iterable[Any], size: int, device: Any) -> Iterator[Any]:
    slots: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(batches)
        try:
            for batch in source:
                if stop.is_set() or not put(jax.device_put(batch, device)):
                    return
            put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failure(error))
        finally:  # stop the source's own threads and close its files now
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="sciml-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()
