"""`sciml data`: generate PDEBench-layout files and inspect them.

- `sciml data list`: the generators.
- `sciml data generate NAME --out DIR [--SETTING VALUE ...]`: one option per setting
  of the generator (`--beta 0.4`, `--t-end 2`, `--n-samples 1000`, `--resume`),
  typed by its default; `sciml data generate NAME --help` lists them with their
  defaults and meaning.
- `sciml data info FILE [--plot OUT.png]`: keys, shapes, dtypes, parameters,
  provenance, and value ranges computed block by block (the tensor is never read
  whole); `--plot` draws a few samples.
"""

import argparse
import sys
import typing
from pathlib import Path
from typing import Any

import numpy as np

_INFO_BLOCK_BYTES = 64 * 2**20


def _value(text: str) -> Any:
    """A command-line value for a setting without a typed default: int, then float,
    then `none`/`true`/`false`, else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("none", "true", "false"):
        return {"none": None, "true": True, "false": False}[lowered]
    return text


def _choices(annotation: Any) -> list[str]:
    """The strings of a `Literal[...]` annotation (also inside `Literal[...] | None`)."""
    if typing.get_origin(annotation) is typing.Literal:
        return [a for a in typing.get_args(annotation) if isinstance(a, str)]
    return [c for a in typing.get_args(annotation) for c in _choices(a)]


def _generator_parser(name: str) -> argparse.ArgumentParser:
    """A parser with one option per setting of generator `name`, with its default
    and meaning (so `sciml data generate NAME --help` documents the generator)."""
    from sciml import datasets

    generator = datasets.get_generator(name)
    summary = (generator.__doc__ or "").strip().splitlines()[0]
    parser = argparse.ArgumentParser(
        prog=f"sciml data generate {name}",
        description=f"{summary} Writes one HDF5 file into --out, named as PDEBench "
        "names the same data set.",
        allow_abbrev=False,
    )
    parser.add_argument("--out", required=True, help="output directory (created)")
    annotations = typing.get_type_hints(generator)
    for p in datasets.generator_parameters(name):
        flag = "--" + p.name.replace("_", "-")
        text = p.help.replace("%", "%%") or p.name
        shown = "required" if p.required else f"default: {p.default}"
        options: dict[str, Any] = {"dest": p.name, "help": f"{text} ({shown})"}
        choices = _choices(annotations.get(p.name))
        if isinstance(p.default, bool):
            options["action"] = argparse.BooleanOptionalAction
        elif choices:
            options["choices"] = choices
        elif isinstance(p.default, int):
            options["type"] = int
        elif isinstance(p.default, float):
            options["type"] = float
        else:
            options["type"] = _value
        options["default"] = argparse.SUPPRESS
        options["required"] = p.required
        parser.add_argument(flag, **options)
    return parser


def _run_generate(args: argparse.Namespace) -> int:
    from sciml import datasets

    where = "sciml data generate"
    if args.name not in datasets.list_generators():
        known = ", ".join(datasets.list_generators())
        print(
            f"{where}: error: unknown generator {args.name!r}; known: {known} "
            "(`sciml data list`).",
            file=sys.stderr,
        )
        return 2
    try:
        params = vars(_generator_parser(args.name).parse_args(args.rest))
    except SystemExit as stop:  # --help, or a usage error argparse has printed
        return int(stop.code or 0)
    out = params.pop("out")
    try:
        path = datasets.generate(args.name, out=out, **params)
    except (ValueError, TypeError, RuntimeError) as error:
        print(f"{where}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"{where}: error: cannot write into --out {out!r}: {error.strerror or error}"
            ". Pass a directory you can write to.",
            file=sys.stderr,
        )
        return 2
    print(f"wrote {path}")
    return 0


def _run_list(args: argparse.Namespace) -> int:
    from sciml import datasets

    del args
    for name in datasets.list_generators():
        doc = (datasets.get_generator(name).__doc__ or "").strip().splitlines()[0]
        print(f"{name:24s} {doc}")
    print("\n`sciml data generate NAME --help` lists a generator's settings.")
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


_COEFFICIENT_NAMES = {"nu": "permeability a (nu)"}  # PDEBench's Darcy field


def _coefficient_fields(ds: Any) -> list[str]:
    """The per-sample fields on the solution's grid (Darcy's permeability `nu`),
    drawn beside the solution."""
    grid = tuple(ds.spatial_shape)
    return [
        key
        for key, field in ds.fields.items()
        if tuple(d for d in field.shape[1:] if d != 1) == grid
    ]


def _plot(ds: Any, out: Path) -> None:
    from sciml import datasets, plotting

    picks = list(range(min(3, ds.n_samples)))
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(ds.spatial_shape) == 1:
        frames = sorted({int(k) for k in np.linspace(0, ds.n_t - 1, min(4, ds.n_t))})
        fig, axes = plotting.figure(1, len(picks), size=(4 * len(picks), 3))
        for ax, s in zip(axes[0], picks, strict=True):
            sample = ds.u[s, :, :, 0]
            for k in frames:
                ax.plot(ds.x, sample[k], label=f"t = {ds.t[k]:.3g}")
            ax.set_title(f"sample {s}")
            ax.set_xlabel("x")
        axes[0, 0].legend(fontsize="small")
        fig.suptitle(f"{ds.path.name} (channel 0)")
        plotting.save(fig, out, dpi=100)
        return
    solution = list(datasets.channel_first(ds.u[: len(picks)]))  # (T, C, X, Y) each
    keys = _coefficient_fields(ds)
    coefficient = None
    if keys:
        grid = tuple(ds.spatial_shape)
        coefficient = [
            np.stack([np.asarray(ds.fields[k][s]).reshape(grid) for k in keys])
            for s in picks
        ]
    plotting.field_preview(
        solution,
        coefficient,
        out,
        x=ds.x,
        y=ds.y,
        times=ds.t if ds.n_t > 1 else None,
        coefficient_names=[_COEFFICIENT_NAMES.get(k, k) for k in keys] or None,
        title=ds.path.name,
        dpi=100,
    )


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
        try:  # a block failing its checksum: an error naming the samples
            ranges = _ranges(ds.u)
        except ValueError as error:
            print(f"sciml data info: error: {error}", file=sys.stderr)
            return 2
        for c, (low, high, mean, bad) in enumerate(ranges):
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
    listing = sub.add_parser("list", help="list the generators")
    listing.set_defaults(func=_run_list)
    generate = sub.add_parser(
        "generate",
        help="generate a dataset: sciml data generate NAME --out DIR [--SETTING V ...]",
        description="Generate a PDEBench-layout HDF5 file. `sciml data list` shows "
        "the generators; `sciml data generate NAME --help` lists the settings of "
        "one, e.g. --beta 0.4 --n-samples 1000 --resume.",
    )
    generate.add_argument("name", help="the generator, e.g. advection")
    generate.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    generate.set_defaults(func=_run_generate)
    info = sub.add_parser("info", help="describe a PDEBench-layout file")
    info.add_argument("file")
    info.add_argument("--plot", metavar="OUT.png", help="draw a few samples")
    info.set_defaults(func=_run_info)
