"""The training batches of `fit`: where they come from, and that they keep one shape."""

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import equinox as eqx
import jax


def _signature(batch: Any) -> tuple:
    # Cheap enough to run every step: no key paths unless there is a mismatch.
    leaves, treedef = jax.tree.flatten(batch)
    return treedef, tuple(
        (x.shape, x.dtype) if eqx.is_array(x) else (type(x), x) for x in leaves
    )


def _describe_leaves(batch: Any) -> list[tuple[str, str]]:
    out = []
    for path, x in jax.tree_util.tree_flatten_with_path(batch)[0]:
        name = jax.tree_util.keystr(path) or "<batch>"
        if eqx.is_array(x):
            out.append((name, f"{x.dtype}{list(x.shape)}"))
        else:
            out.append((name, f"non-array {type(x).__name__} {x!r}"))
    return out


def _check_batch(
    step: int, expected: tuple, first: list[tuple[str, str]], batch: Any
) -> None:
    got = _signature(batch)
    if got == expected:
        return
    if expected[0] != got[0]:
        detail = f"expected structure {expected[0]}, got {got[0]}"
        got_spec = _describe_leaves(batch)
    else:
        got_spec = _describe_leaves(batch)
        diffs = [
            f"{name}: expected {e}, got {g}"
            for (name, e), (_, g) in zip(first, got_spec, strict=True)
            if e != g
        ]
        detail = "; ".join(diffs)
    fix = (
        "use equal-sized batches, e.g. drop the remainder so every batch has the "
        "same leading size"
    )
    if any("non-array" in s for _, s in got_spec):
        fix += ", and pass numbers that change between batches as arrays"
    raise ValueError(
        f"The batch at step {step} differs from the first batch ({detail}). Every "
        f"batch must have the same structure, shapes and dtypes, or the step would "
        f"recompile. Fix: {fix}."
    )


def _batch_source(
    batches: Iterable[Any] | Callable[[int], Any], start: int
) -> Callable[[int], Any]:
    if hasattr(batches, "__iter__"):
        iterator: Iterator[Any] = iter(batches)
        skipped = sum(1 for _ in itertools.islice(iterator, start))
        if skipped < start:
            raise ValueError(
                f"Resuming at step {start} needs to skip {start} batches, but "
                f"`batches` ran out after {skipped}. Fix: pass the same iterable as "
                f"the original run (a deterministic one, rebuilt from the start)."
            )

        def get(step: int) -> Any:
            try:
                return next(iterator)
            except StopIteration:
                raise ValueError(
                    f"`batches` ran out at step {step}. Fix: provide at least "
                    f"`steps` batches, e.g. loop over epochs in a generator, or "
                    f"pass a callable `step -> batch`."
                ) from None

        return get
    if callable(batches):
        return batches
    raise TypeError(
        f"Expected `batches` to be an iterable of batches or a callable "
        f"`step -> batch`, got {type(batches).__name__}. Fix: pass a list, a "
        f"generator or a function."
    )
