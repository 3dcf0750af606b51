r"""Training a conditioned one-step solver through rollouts: CAPE's curriculum from
teacher forcing to autoregressive steps, and its losses."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from .._checks import choice, integer, real
from .._random import flat_draw
from ..metrics import relative_l2

ACCUMULATIONS = ("per_step", "cumulative")
"""The `cape_accumulation=` choices of `RolloutLoss`."""

NORMALISATIONS = ("step", "scale")
"""The `normalise=` choices of `RolloutLoss`: each step's error relative to that
step's true frame, or to a norm per sample the batch gives (`batch["scale"]`)."""


def _relative(pred: Array, target: Array, scale: Array | None) -> Array:
    """`relative_l2`, or the error norm per sample over `scale` `(B,)`."""
    if scale is None:
        return relative_l2(pred, target)
    axes = tuple(range(1, pred.ndim))
    error = jnp.sqrt(jnp.sum((pred - target) ** 2, axis=axes))
    return jnp.mean(error / scale)


def _scale(batch: dict, normalise: str, owner: str) -> Array | None:
    if normalise == "step":
        return None
    if "scale" not in batch:
        raise ValueError(
            f'{owner}(normalise="scale") divides each error by batch["scale"], a '
            "norm per sample (B,), e.g. that of its trajectory's first frame; the "
            "batch has none."
        )
    return batch["scale"]


def curriculum_steps(
    epoch: int, epochs: int, rollout_steps: int, warmup: int = 3
) -> int:
    r"""CAPE's curriculum: the autoregressive share $t_\mathrm{AR}$ of a rollout of
    $T$ steps at epoch `epoch` of `epochs`, after `warmup` warm-up epochs:

    $$e_n = \frac{e - E_w}{E - E_w},\quad \tau = \tfrac12\Big(1 + \tanh\frac{e_n -
    0.5}{0.2}\Big),\quad t_\mathrm{AR} = \mathrm{clip}(\lfloor T\tau \rfloor, 1, T).$$

    $\tau$ runs from about 0.7 % (so $t_\mathrm{AR} = 1$: every input is the true
    frame) through 50 % at mid-training to about 99.3 % (every input but the first
    is the model's own prediction). Pass the result to `RolloutLoss` inside the
    batch (`batch["t_ar"]`), so the schedule changes no compiled shape.

    **Arguments:**

    - `epoch`: the epoch $e$, counting from 0 (warm-up epochs included).
    - `epochs`: the total epochs $E$.
    - `rollout_steps`: $T$, the steps of a training rollout.
    - `warmup`: $E_w$, the warm-up epochs (CAPE trains only its own block then).
    """
    owner = "curriculum_steps"
    epochs = integer("epochs", epochs, minimum=1, owner=owner)
    warmup = integer("warmup", warmup, minimum=0, owner=owner)
    if warmup >= epochs:
        raise ValueError(f"{owner}: warmup={warmup} must be below epochs={epochs}.")
    t = integer("rollout_steps", rollout_steps, minimum=1, owner=owner)
    e_n = (integer("epoch", epoch, owner=owner) - warmup) / (epochs - warmup)
    tau = 0.5 * (1 + math.tanh((e_n - 0.5) / 0.2))
    return min(max(math.floor(t * tau), 1), t)


class RolloutLoss(eqx.Module):
    r"""CAPE's training loss over a rollout of $T$ steps, for a `Conditioned` model
    (any mode), as `loss(model, batch, key) -> (loss, metrics)`.

    Step $k = 1 \dots T$ maps the input $x^{k-1}$ plus Gaussian noise (std `noise`)
    to $\hat u^k$ and, with CAPE, $u_\mathrm{CAPE}^k$:

    $$\mathcal{L} = \sum_{k=1}^T \Big(\mathrm{relL2}(\hat u^k, u^k) + \alpha\,
    \mathrm{relL2}(u_\mathrm{CAPE}^k, u^k)\Big) + g\,\big(\|\partial_{\lambda'}
    \hat u^1(u^0, \lambda')\|_2 - 4.58\big)^2.$$

    The input of step $k+1$ is the model's own prediction while $k < t_\mathrm{AR}$
    and the true frame from then on (`curriculum_steps`), chosen by
    `where(k < t_ar, prediction, truth)` inside one `jax.lax.scan`, so no value of
    $t_\mathrm{AR}$ changes a compiled shape; gradients flow through the
    autoregressive steps (no stop-gradient, as the reference [U]). The gradient
    penalty (CAPE models only; the sheet's $g = 5.16 \cdot 10^{-4}$ in 1-D, 0 in
    2-D) takes the batch's first frames at a parameter $\lambda'$ drawn
    log-uniformly over [`param_low`, `param_high`] ([D]: the reference's
    distribution is [U]), once per batch; the norm is the Frobenius norm of the
    Jacobian of the predicted state with respect to $\lambda'$, per sample, and the
    penalty the batch mean. The noise is added to every step's input ([D]; the
    reference's std-or-variance is [U], std here).

    `cape_accumulation="cumulative"` reproduces the official code's running sum of
    the auxiliary term, added again at every step (step $j$'s term then weighs
    $T - j + 1$ times); the default `"per_step"` is the plain sum above ([D]).

    **Arguments:**

    - `alpha`: $\alpha$, the weight of CAPE's auxiliary loss ($5.7 \cdot 10^{-5}$
      1-D, $8.34 \cdot 10^{-5}$ 2-D in the reference).
    - `gradient_penalty`: $g$ (0 switches it off).
    - `param_low`, `param_high`: the range of $\lambda'$ (positive; needed when
      $g > 0$).
    - `noise`: the std of the input noise (0: none).
    - `cape_accumulation`: one of `ACCUMULATIONS`.
    - `normalise`: `"step"` (the reference: $\mathrm{relL2}$ against each step's
      true frame) or `"scale"` ([D]: each step's error norm over a norm per
      sample that the batch gives, `batch["scale"]` of shape `(B,)`, e.g. that
      of the trajectory's first frame). Use `"scale"` where the fields decay to
      zero (Burgers at large viscosity, whose late frames underflow float32 and
      make the per-step ratio infinite); where the norm stays put (advection)
      the two agree.
    - `unroll`: `jax.lax.scan`'s `unroll` for the rollout.

    The batch is a dict: `"u"`, true trajectories `(B, T + 1, C, *grid)` (frame 0
    the initial state); `"params"`, `(B, p)`; `"t_ar"`, an integer scalar array.
    Metrics: `"main"` and `"cape"` (the two sums), `"penalty"`.
    """

    alpha: float = eqx.field(static=True)
    gradient_penalty: float = eqx.field(static=True)
    param_low: float = eqx.field(static=True)
    param_high: float = eqx.field(static=True)
    noise: float = eqx.field(static=True)
    cape_accumulation: str = eqx.field(static=True)
    normalise: str = eqx.field(static=True)
    unroll: int | bool = eqx.field(static=True)

    def __init__(
        self,
        alpha: float = 5.7e-5,
        gradient_penalty: float = 5.16e-4,
        param_low: float | None = None,
        param_high: float | None = None,
        noise: float = 1e-3,
        cape_accumulation: str = "per_step",
        normalise: str = "step",
        unroll: int | bool = 1,
    ):
        owner = "RolloutLoss"
        self.alpha = real("alpha", alpha, minimum=0.0, owner=owner)
        self.gradient_penalty = real(
            "gradient_penalty", gradient_penalty, minimum=0.0, owner=owner
        )
        self.noise = real("noise", noise, minimum=0.0, owner=owner)
        self.cape_accumulation = choice(
            "cape_accumulation", cape_accumulation, ACCUMULATIONS, owner=owner
        )
        if self.gradient_penalty > 0:
            if param_low is None or param_high is None:
                raise ValueError(
                    f"{owner}: gradient_penalty > 0 draws parameters from "
                    "[param_low, param_high]; give both (the training range)."
                )
            param_low = real("param_low", param_low, owner=owner)
            param_high = real("param_high", param_high, owner=owner)
            if not 0 < param_low <= param_high:
                raise ValueError(
                    f"{owner}: need 0 < param_low <= param_high for the log-uniform "
                    f"draw; got {param_low}, {param_high}."
                )
        self.param_low = param_low
        self.param_high = param_high
        self.normalise = choice("normalise", normalise, NORMALISATIONS, owner=owner)
        self.unroll = unroll

    def __call__(self, model, batch: dict, key: PRNGKeyArray):
        u, params, t_ar = batch["u"], batch["params"], batch["t_ar"]
        n_steps = u.shape[1] - 1
        if n_steps < 1:
            raise ValueError(
                f"RolloutLoss needs trajectories (B, T + 1, C, *grid) with T >= 1; "
                f"got {u.shape}."
            )
        k_noise, k_param = jax.random.split(key)
        noise = self.noise * flat_draw(
            jax.random.normal, k_noise, (n_steps, *u[:, 0].shape), dtype=u.dtype
        )
        step = jax.vmap(model)
        truth = jnp.moveaxis(u, 1, 0)  # (T + 1, B, C, *grid)

        scale = _scale(batch, self.normalise, "RolloutLoss")

        def body(carry, inputs):
            x, aux_sum = carry
            k, target, eps = inputs
            out = step(x + eps, params)
            main = _relative(out.next, target, scale)
            aux = 0.0 if out.cape is None else _relative(out.cape, target, scale)
            aux_sum = aux_sum + aux if self.cape_accumulation == "cumulative" else aux
            x_next = jnp.where(k < t_ar, out.next, target)
            return (x_next, aux_sum), (main, aux_sum)

        ks = jnp.arange(1, n_steps + 1)
        _, (mains, auxes) = jax.lax.scan(
            body,
            (truth[0], jnp.zeros((), u.dtype)),
            (ks, truth[1:], noise),
            unroll=self.unroll,
        )
        main, aux = jnp.sum(mains), jnp.sum(auxes)
        penalty = jnp.zeros((), u.dtype)
        if getattr(model, "cape", None) is not None and self.gradient_penalty > 0:
            penalty = self._penalty(model, truth[0], params.shape, k_param)
        loss = main + self.alpha * aux + self.gradient_penalty * penalty
        return loss, {"main": main, "cape": aux, "penalty": penalty}

    def _penalty(self, model, u0: Array, shape: tuple, key: PRNGKeyArray) -> Array:
        lo, hi = math.log(self.param_low), math.log(self.param_high)
        lam = jnp.exp(
            flat_draw(
                jax.random.uniform, key, shape, dtype=u0.dtype, minval=lo, maxval=hi
            )
        )

        def norm(u, p):
            jac = jax.jacfwd(lambda q: model(u, q).next)(p)
            # the square root's gradient is infinite at 0: a floor far below
            # the target norm 4.58 keeps it finite
            return jnp.sqrt(jnp.sum(jac**2) + 1e-12)

        norms = jax.vmap(norm)(u0, lam)
        return jnp.mean((norms - 4.58) ** 2)


class WarmupLoss(eqx.Module):
    r"""CAPE's warm-up loss: its guess alone, teacher-forced,
    $\sum_k \mathrm{relL2}(u_\mathrm{CAPE}(u^{k-1}, \lambda), u^k)$, for the first
    epochs, in which only `model.cape` is trained (with its own optimizer; see
    `sciml.training.trainable_only`), as `loss(model, batch, key) -> (loss,
    metrics)`. Same batch as `RolloutLoss`; `key` unused.

    **Arguments:**

    - `normalise`: as `RolloutLoss`'s (`"step"` or `"scale"`).
    """

    normalise: str = eqx.field(static=True)

    def __init__(self, normalise: str = "step"):
        self.normalise = choice(
            "normalise", normalise, NORMALISATIONS, owner="WarmupLoss"
        )

    def __call__(self, model, batch: dict, key: PRNGKeyArray):
        del key
        if getattr(model, "cape", None) is None:
            raise ValueError(
                "WarmupLoss trains a CAPE block: use a Conditioned(mode='cape')."
            )
        u, params = batch["u"], batch["params"]
        n = u.shape[1] - 1
        inputs = u[:, :-1].reshape(-1, *u.shape[2:])
        targets = u[:, 1:].reshape(-1, *u.shape[2:])
        guess = jax.vmap(model.cape)(inputs, jnp.repeat(params, n, axis=0))
        scale = _scale(batch, self.normalise, "WarmupLoss")
        if scale is not None:
            scale = jnp.repeat(scale, n, axis=0)
        # per-sample relative errors, summed over steps, averaged over the batch
        loss = _relative(guess, targets, scale) * n
        return loss, {"cape": loss}
