"""The data-generation tables, from the committed results of `benchmarks/datasets`."""

import re

from benchmarks._report import load_group, ratio, table

FOLDER = "quick-cpu-amd-epyc"

# (label, our variant, words of the timing's description)
SPECTRAL_CASES = [
    ("advection, exact scheme", "sciml exact nx=1024", "sciml exact scheme"),
    (
        "advection, finite volume (as PDEBench), compute only",
        "sciml FV nx=1024",
        "sciml FV nx=1024: matched resolution",
    ),
    (
        "Burgers, PDEBench's step, compute only",
        "sciml FV nx=1024, PDEBench step",
        "PDEBench step: matched resolution",
    ),
    (
        "Burgers, `cfl=0.9`, compute only",
        "sciml FV nx=1024, cfl=0.9",
        "cfl=0.9: matched resolution",
    ),
    (
        "Burgers, `cfl=0.9`, matched error",
        "sciml FV nx=1024, cfl=0.9",
        "cfl=0.9: matched error",
    ),
    (
        'advection, `scheme="spectral"`, compute only',
        ("exact phase shift", "on 1024 cells"),
        "on 1024 cells, written at 1024: matched resolution",
    ),
    (
        'Burgers, `scheme="spectral"` on 1024 cells, compute only',
        ("ETDRK4", "on 1024 cells"),
        ("on 1024 cells, written at 1024, cfl=2.5", "matched resolution"),
    ),
]
# the spectral Burgers solves on few cells: (cells, label, words naming the setting)
SPECTRAL_COARSE = [
    (160, "0.9 of the stability limit (`stable_dt`)", "(0.9 of the limit)"),
    (192, "default `cfl=2.5`", "cfl=2.5 "),
    (192, "0.9 of the stability limit (`stable_dt`)", "(0.9 of the limit)"),
    (192, "`cfl=4.1` (2 steps a frame)", "cfl=4.1 "),
    (192, "`cfl=8.1` (1 step a frame)", "cfl=8.1 "),
]
SCIPY_CASES = [
    (
        "diffusion-sorption, per sample, end to end",
        "diffusion_sorption",
        "diffusion-sorption, per sample",
    ),
    (
        "2-D diffusion-reaction, 128 x 128, per sample, end to end",
        "diffusion_reaction_2d",
        "2-D diffusion-reaction, per sample",
    ),
]


def _has(*parts: str):
    return lambda text: text is not None and all(p in text for p in parts)


def _exponax(setting: str):
    return lambda v: v is not None and v.startswith("Exponax") and v.endswith(setting)


def _generation(g) -> str:
    rows = []
    cases = list(SPECTRAL_CASES)
    for cells, label, setting in SPECTRAL_COARSE:
        written = f"on {cells} cells, written at 1024, "
        solve = f"on {cells} cells, frames on them (as the peer's), "
        cases += [
            (
                f'Burgers, `scheme="spectral", spectral_nx={cells}`, {label}, '
                "matched error",
                ("ETDRK4", written, setting),
                (written, setting, "matched error"),
            ),
            (
                f"Burgers, the same solve, frames left on its {cells} cells as the "
                "peer's: matched error, interleaved",
                ("ETDRK4", solve, setting),
                (solve, setting, "interleaved"),
            ),
        ]
    for label, variant, words in cases:
        words = (words,) if isinstance(words, str) else words
        if isinstance(variant, tuple):
            variant = _has(*variant)
        what = g.find("timings", what=_has(*words))["what"]
        # the peer's grid (and substeps) named last in the timing's description
        setting = re.findall(r"nx=\d+(?:, \d+ substeps)?", what)[-1]
        nrmse = dict(metric="nRMSE_vs_reference")
        rows.append(
            [
                label,
                "nRMSE " + g.cell(**nrmse, variant=variant),
                f"Exponax (spectral) at {setting}",
                g.cell(**nrmse, variant=_exponax(setting)),
                g.cell("ratio", ratio, kind="timings", what=_has(*words)),
            ]
        )
    for label, task, words in SCIPY_CASES:
        l2 = dict(task=task, metric="rel_l2_final_vs_reference")
        rows.append(
            [
                label,
                "rel. error " + g.cell(**l2, variant=_has("sciml")),
                "PDEBench's scipy simulator at its rtol 1e-3",
                g.cell(**l2, variant=_has("PDEBench", "rtol 0.001")),
                g.cell("ratio", ratio, kind="timings", what=_has(words, "rtol 0.001")),
            ]
        )
    header = ["PDE, case", "sciml", "peer", "peer's error", "peer time / ours"]
    caption = (
        f"Errors at the final frame against the exact solution or a reference "
        f"solve; {g.latest['settings']['n']} samples of 1024 cells x 201 "
        f"frames for the 1-D cases; the spectral rows write their frames at 1024 "
        f"cells (the peer's time includes no such interpolation), or leave them on "
        f"the solve's cells as the peer does (those ratios are medians of "
        f"interleaved calls, the others best of 3 in turn). Load average at "
        f"the end of the run (1, 5, 15 min): {g.latest['load_average']}. "
        f"Source: {g.source()}."
    )
    return table(header, rows, caption)


def _memory(g) -> str:
    entry = g.find(metric="peak_host_memory_MiB")
    rows = [
        [
            entry["note"].split(" written")[0],
            g.cell(fmt="{:.0f} MiB", metric="peak_host_memory_MiB"),
            "2048 MiB",
        ]
    ]
    header = ["advection samples written", "peak host memory", "target"]
    return table(header, rows, f"Source: {g.source()}.")


def tables(spread: bool = False) -> dict[str, str]:
    g = load_group("datasets", FOLDER, spread=spread)
    return {"generation": _generation(g), "memory": _memory(g)}
