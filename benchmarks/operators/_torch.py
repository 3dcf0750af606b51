"""The PyTorch peers, eager: PDEBench's FNO1d / FNO2d (MIT, `models/fno/fno.py`,
imported from the git-ignored export under `.peers/pdebench_src`, never copied)
and neuraloperator's `FNO` configured to the same structure (a linear lift, four
Fourier layers with linear skips and no channel MLP, a two-layer projection to 128
channels), trained with `torch.optim.Adam` on the same loss; and PDEBench's
UNet1d / UNet2d (`models/unet/unet.py`, MIT, likewise imported unchanged), with
BatchNorm in training mode for the step and in evaluation mode (running
statistics, as PDEBench evaluates) for the rollout."""

import importlib
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PDEBENCH = ROOT / ".peers" / "pdebench_src"


def _pdebench(module: str = "fno"):
    """PDEBench's `models/<module>/<module>.py` ("fno" or "unet"), unchanged."""
    folder = PDEBENCH / "pdebench" / "models" / module
    if not (folder / f"{module}.py").is_file():
        raise FileNotFoundError(
            f"PDEBench's {module}.py is not in {folder}. Fix: fetch pdebench/PDEBench "
            "and export it as benchmarks/operators/README.md says."
        )
    sys.path.insert(0, str(folder))
    return importlib.import_module(module)


def grid_input(torch, cfg):
    """PDEBench's coordinate input `(B, *grid, d)` in [0, 1]."""
    axes = [torch.linspace(0, 1, n) for n in cfg["grid"]]
    mesh = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
    return mesh.expand(cfg["batch"], *mesh.shape)


def build(torch, side: str, cfg: dict, seed: int = 0):
    """(model, step, rollout, n_params) for `side` in ("pdebench", "neuralop")."""
    if cfg.get("model") == "unet":
        return build_unet(torch, cfg, seed)
    torch.manual_seed(seed)
    d, frames, unroll = len(cfg["grid"]), cfg["frames"], cfg["unroll"]
    b, grid = cfg["batch"], cfg["grid"]
    if side == "pdebench":
        fno = _pdebench()
        if d == 1:
            net = fno.FNO1d(
                1, modes=cfg["modes"], width=cfg["width"], initial_step=frames
            )
        else:
            m = cfg["modes"]
            net = fno.FNO2d(1, m[0], m[1], width=cfg["width"], initial_step=frames)
        coords = grid_input(torch, cfg)

        def forward(x):  # x (B, *grid, frames) -> (B, *grid, 1)
            return net(x, coords)[..., 0, :]
    else:
        from neuralop.models import FNO

        modes = cfg["modes"] if d > 1 else (cfg["modes"],)
        # neuraloperator counts modes over both signs: 2 m on full axes, and
        # 2 (m - 1) on the last (real FFT) axis keeps m there
        n_modes = (*(2 * m for m in modes[:-1]), 2 * (modes[-1] - 1))
        net = FNO(
            n_modes,
            in_channels=frames,
            out_channels=1,
            hidden_channels=cfg["width"],
            n_layers=4,
            lifting_channel_ratio=0,
            projection_channel_ratio=128 / cfg["width"],
            use_channel_mlp=False,
            fno_skip="linear",
        )

        def forward(x):  # channels-first inside neuraloperator
            x = torch.movedim(x, -1, 1)
            return torch.movedim(net(x), 1, -1)

    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(b, *grid, frames, generator=gen)
    y = torch.randn(b, *grid, unroll, generator=gen)

    def unrolled(x, n):
        out = []
        for _ in range(n):
            nxt = forward(x)
            out.append(nxt)
            x = torch.cat([x[..., 1:], nxt], dim=-1)
        return torch.cat(out, dim=-1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((unrolled(x, unroll) - y) ** 2)
        loss.backward()
        opt.step()
        return loss

    def rollout():
        with torch.no_grad():
            return unrolled(x, cfg["rollout_steps"])

    # real parameters: a complex weight counts twice, as in ours
    count = sum(p.numel() * (2 if p.is_complex() else 1) for p in net.parameters())
    return net, step, rollout, count


def build_unet(torch, cfg: dict, seed: int = 0):
    """(model, step, rollout, n_params) for PDEBench's UNet1d / UNet2d on a U-Net
    configuration: one frame `(B, in_channels, *grid)` to the next, channel-first
    as PDEBench feeds it."""
    torch.manual_seed(seed)
    unet = _pdebench("unet")
    classes = {1: unet.UNet1d, 2: unet.UNet2d, 3: unet.UNet3d}
    net = classes[len(cfg["grid"])](
        cfg["in_channels"], cfg["out_channels"], init_features=cfg["features"]
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(cfg["batch"], cfg["in_channels"], *cfg["grid"], generator=gen)
    y = torch.randn(cfg["batch"], cfg["out_channels"], *cfg["grid"], generator=gen)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(x) - y) ** 2)
        loss.backward()
        opt.step()
        return loss

    def rollout():
        net.eval()
        try:
            with torch.no_grad():
                u, out = x, []
                for _ in range(cfg["rollout_steps"]):
                    u = net(u)
                    out.append(u)
                return torch.stack(out, dim=1)
        finally:
            net.train()

    # BatchNorm's weight and bias are parameters; its running statistics are not
    count = sum(p.numel() for p in net.parameters())
    return net, step, rollout, count
