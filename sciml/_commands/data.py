"""`sciml data`: generate PDEBench-layout files and inspect them.

- `sciml data generate NAME --PARAM VALUE ... --out DIR [--n-samples N] [--seed S]
  [--resume]`: every `--key value` the command itself does not know goes to the
  generator (`--beta 0.4`, `--t-end 2`); numbers are converted (int, then float),
  `true`/`false` become booleans, anything else stays a string.
- `sciml data info FILE [--plot OUT.png]`: keys, shapes, dtypes, parameters,
  provenance, and value ranges computed block by block (the tensor is never read
  whole); `--plot` draws a few samples.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

_INFO_BLOCK_BYTES = 64 * 2**20


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _generator_params(extra: list[str]) -> dict[str, Any]:
    """`["--beta", "0.4", "--t-end=2"]` -> `{"beta": 0.4, "t_end": 2}`."""
    params: dict[str, Any] = {}
    i = 0
    while i < len(extra):
        token = extra[i]
        if not token.startswith("--") or len(token) == 2:
            raise ValueError(
                f"Expected a generator parameter `--name value`, got {token!r}."
            )
        name, has_value, text = token[2:].partition("=")
        if not has_value:
            if i + 1 >= len(extra) or extra[i + 1].startswith("--"):
                raise ValueError(f"Parameter --{name} needs a value, e.g. --{name} 1.")
            text = extra[i + 1]
            i += 1
        params[name.replace("-", "_")] = _value(text)
        i += 1
    return params


def _generate_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(
        prog="sciml data generate NAME", add_help=False, allow_abbrev=False
    )
    options.add_argument("--out", required=True)
    options.add_argument("--n-samples", type=int, default=None)
    options.add_argument("--seed", type=int, default=0)
    options.add_argument("--resume", action="store_true")
    return options


def _run_generate(args: argparse.Namespace) -> int:
    from sciml import datasets

    try:
        options, extra = _generate_options().parse_known_args(args.rest)
        params = _generator_params(extra)
        if options.n_samples is not None:
            params["n_samples"] = options.n_samples
        path = datasets.generate(
            args.name,
            out=options.out,
            seed=options.seed,
            resume=options.resume,
            **params,
        )
    except (ValueError, TypeError) as error:
        print(f"sciml data generate: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def _datasets(path: Path) -> list[str]:
    """One line per dataset; of per-sample groups (`0000`, `0001`, ...) only the
    first is listed, with a count."""
    import h5py

    lines: list[str] = []
    groups: list[str] = []

    def visit(name: str, item: Any) -> None:
        top = name.split("/")[0]
        if top.isdigit() and "/" in name:
            if groups[0] != top:
                return
        if isinstance(item, h5py.Dataset):
            lines.append(f"  {name}: shape {tuple(item.shape)}, {item.dtype}")

    with h5py.File(path, "r") as file:
        groups += sorted(
            (k for k, v in file.items() if k.isdigit() and isinstance(v, h5py.Group)),
            key=int,
        )
        groups.append("")
        file.visititems(visit)
    if len(groups) > 2:
        lines.append(f"  ... and {len(groups) - 2} more groups like {groups[0]!r}")
    return lines


def _ranges(u: Any) -> list[tuple[float, float, float, int]]:
    """Per channel: min, max, mean and the count of non-finite values, read in
    blocks of about 64 MiB of samples."""
    n_channels = u.shape[-1]
    low = np.full(n_channels, np.inf)
    high = np.full(n_channels, -np.inf)
    total = np.zeros(n_channels)
    count = np.zeros(n_channels)
    bad = np.zeros(n_channels, np.int64)
    sample_bytes = u.dtype.itemsize * max(1, int(np.prod(u.shape[1:])))
    step = max(1, _INFO_BLOCK_BYTES // sample_bytes)
    for start in range(0, u.shape[0], step):
        block = np.asarray(u[start : start + step], np.float64)
        block = block.reshape(-1, n_channels)
        finite = np.isfinite(block)
        bad += (~finite).sum(axis=0)
        clean = np.where(finite, block, np.nan)
        if finite.any():
            low = np.fmin(low, np.nanmin(clean, axis=0))
            high = np.fmax(high, np.nanmax(clean, axis=0))
            total += np.nansum(clean, axis=0)
            count += finite.sum(axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return [
        (float(low[c]), float(high[c]), float(mean[c]), int(bad[c]))
        for c in range(n_channels)
    ]


def _plot(ds: Any, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = list(range(min(3, ds.n_samples)))
    frames = sorted({int(k) for k in np.linspace(0, ds.n_t - 1, min(4, ds.n_t))})
    if len(ds.spatial_shape) == 1:
        fig, axes = plt.subplots(1, len(picks), figsize=(4 * len(picks), 3))
        for ax, s in zip(np.atleast_1d(axes), picks, strict=True):
            sample = ds.u[s, :, :, 0]
            for k in frames:
                ax.plot(ds.x, sample[k], label=f"t = {ds.t[k]:.3g}")
            ax.set_title(f"sample {s}")
            ax.set_xlabel("x")
        np.atleast_1d(axes)[0].legend(fontsize="small")
    else:
        fig, axes = plt.subplots(
            len(picks),
            len(frames),
            figsize=(2.6 * len(frames), 2.4 * len(picks)),
            squeeze=False,
        )
        for row, s in enumerate(picks):
            for col, k in enumerate(frames):
                ax = axes[row, col]
                ax.imshow(ds.u[s, k, :, :, 0].T, origin="lower", cmap="viridis")
                ax.set_title(f"sample {s}, t = {ds.t[k]:.3g}", fontsize="small")
                ax.set_xticks([])
                ax.set_yticks([])
    fig.suptitle(f"{ds.path.name} (channel 0)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _run_info(args: argparse.Namespace) -> int:
    from sciml import datasets

    path = Path(args.file)
    try:
        ds = datasets.load(path)
    except (ValueError, FileNotFoundError, NotImplementedError) as error:
        print(f"sciml data info: error: {error}", file=sys.stderr)
        return 2
    with ds:
        print(f"file: {path}")
        print("datasets:")
        for line in _datasets(path):
            print(line)
        print(
            f"samples: {ds.n_samples}, frames: {ds.n_t}, space: {ds.spatial_shape}, "
            f"channels: {ds.n_channels}  (view (samples, t, x[, y], channels) = "
            f"{ds.u.shape})"
        )
        print(f"t: {len(ds.t)} frames in [{ds.t[0]:.6g}, {ds.t[-1]:.6g}]")
        print(f"x: {len(ds.x)} points in [{ds.x[0]:.6g}, {ds.x[-1]:.6g}]")
        if ds.y is not None:
            print(f"y: {len(ds.y)} points in [{ds.y[0]:.6g}, {ds.y[-1]:.6g}]")
        print("parameters:")
        for key, value in sorted(ds.params.items()):
            print(f"  {key} = {value}")
        print("provenance:" + ("" if ds.provenance else " none (not written by sciml)"))
        for key, value in sorted(ds.provenance.items()):
            print(f"  {key} = {value}")
        print("values:")
        for c, (low, high, mean, bad) in enumerate(_ranges(ds.u)):
            extra = f", {bad} non-finite" if bad else ""
            print(
                f"  channel {c}: min {low:.6g}, max {high:.6g}, mean {mean:.6g}{extra}"
            )
        if args.plot:
            _plot(ds, Path(args.plot))
            print(f"plot: {args.plot}")
    return 0


def add_parser(subparsers: Any) -> None:
    data = subparsers.add_parser("data", help="generate and inspect PDEBench files")
    sub = data.add_subparsers(dest="data_command", required=True)
    generate = sub.add_parser(
        "generate",
        help="generate a dataset: sciml data generate NAME --PARAM VALUE ... --out DIR",
        description="Generate a PDEBench-layout HDF5 file. Options: --out DIR "
        "(required), --n-samples N, --seed S, --resume (continue an interrupted "
        "run); every other --name value is a generator parameter, e.g. --beta 0.4.",
    )
    generate.add_argument("name", help="the generator, e.g. advection")
    generate.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    generate.set_defaults(func=_run_generate)
    info = sub.add_parser("info", help="describe a PDEBench-layout file")
    info.add_argument("file")
    info.add_argument("--plot", metavar="OUT.png", help="draw a few samples")
    info.set_defaults(func=_run_info)
