import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import references

from sciml.operators import FNO, grid_coordinates, rollout


@pytest.mark.parametrize(
    "modes,grid,padding", [(6, (32,), 0), ((4, 4), (16, 16), 0), (6, (30,), 3)]
)
def test_fno_jit_vmap_grad(getkey, modes, grid, padding):
    fno = FNO(2, 3, modes, 8, 2, padding=padding, projection_width=8, key=getkey())
    a = references.normal(getkey(), (4, 2, *grid))
    out = eqx.filter_jit(jax.vmap(fno))(a)
    assert out.shape == (4, 3, *grid)
    # One compiled gradient: eager autodiff of an FNO compiles every primitive apart.
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.mean(jax.vmap(m)(a) ** 2)))(
        fno
    )
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert all(np.all(np.isfinite(g)) for g in leaves)
    assert float(sum(np.abs(g).sum() for g in leaves)) > 0


def test_fno_runs_on_other_resolutions(getkey):
    fno = FNO(1, 1, 4, width=4, n_layers=1, projection_width=4, key=getkey())
    call = eqx.filter_jit(lambda m, u: m(u))
    for n in (16, 50):
        assert call(fno, jnp.ones((1, n))).shape == (1, n)


def test_grid_coordinates_are_cell_centres():
    g = grid_coordinates((4, 2))
    assert g.shape == (2, 4, 2)
    np.testing.assert_allclose(g[0, :, 0], [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(g[1, 0, :], [0.25, 0.75])


def test_fno_bad_input(getkey, no_typecheck):
    # The input checks run before any weight is used, so a shape-only model (built
    # by tracing the constructor) meets them without compiling the weight draws.
    fno = eqx.filter_eval_shape(FNO, 2, 1, (4, 4), width=4, key=getkey())
    with pytest.raises(ValueError, match=r"C=2.*2 spatial axes"):
        fno(jnp.ones((2, 16)))
    with pytest.raises(ValueError, match=r"C=2"):
        fno(jnp.ones((3, 16, 16)))
    with pytest.raises(ValueError, match="width"):
        FNO(1, 1, 4, width=-1, key=getkey())
    with pytest.raises(ValueError, match="padding"):
        FNO(1, 1, 4, padding=-2, key=getkey())
    with pytest.raises(TypeError, match="width must be an integer"):
        FNO(1, 1, 4, width="4", key=getkey())
    with pytest.raises(TypeError, match="modes"):
        FNO(1, 1, 4.0, key=getkey())
    with pytest.raises(TypeError, match="append_grid must be True or False"):
        FNO(1, 1, 4, append_grid=None, key=getkey())


def test_rollout_matches_python_loop():
    step = lambda u: 0.5 * u + 1.0
    us = jax.jit(lambda u: rollout(step, u, 5))(jnp.array([2.0, 0.0]))
    u, expected = jnp.array([2.0, 0.0]), []
    for _ in range(5):
        u = step(u)
        expected.append(u)
    np.testing.assert_allclose(us, jnp.stack(expected))


def test_rollout_of_fno_vmaps_and_differentiates(getkey):
    fno = FNO(1, 1, 4, width=4, n_layers=1, key=getkey())
    u0 = references.normal(getkey(), (3, 1, 16))
    traj = eqx.filter_jit(jax.vmap(lambda u: rollout(fno, u, 4)))(u0)
    assert traj.shape == (3, 4, 1, 16)
    g = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(rollout(m, u0[0], 3) ** 2)))(
        fno
    )
    assert all(
        np.all(np.isfinite(x)) for x in jax.tree.leaves(eqx.filter(g, eqx.is_array))
    )


def test_rollout_bad_steps(no_typecheck):
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        rollout(lambda u: u, jnp.zeros(2), 0)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        rollout(lambda u: u, jnp.zeros(2), 2.0)


def _reference_fno(fno: FNO, a: jax.Array) -> jax.Array:
    """The textbook FNO forward pass (Li et al. 2021) written out in plain
    jax.numpy from the model's weights: channel-first, `jnp.fft`, exact GELU."""
    gelu = lambda x: 0.5 * x * (1 + jax.scipy.special.erf(x / np.sqrt(2)))
    w2 = lambda conv: conv.weight[:, :, 0]
    n = a.shape[-1]
    x = jnp.concatenate([a, ((jnp.arange(n) + 0.5) / n)[None]])
    v = w2(fno.lift) @ x + fno.lift.bias
    for i, (spec, skip) in enumerate(zip(fno.spectral, fno.skips, strict=True)):
        m = spec.modes[0]
        v_hat = jnp.fft.rfft(v, axis=-1)
        w = spec.weights_real[0] + 1j * spec.weights_imag[0]  # (cin, cout, m)
        out_hat = jnp.zeros((w.shape[1], n // 2 + 1), complex)
        out_hat = out_hat.at[:, :m].set(jnp.einsum("ik,iok->ok", v_hat[:, :m], w))
        v = jnp.fft.irfft(out_hat, n, axis=-1) + w2(skip) @ v + skip.bias
        if i < len(fno.spectral) - 1:
            v = gelu(v)
    h = gelu(w2(fno.proj_hidden) @ v + fno.proj_hidden.bias)
    return w2(fno.proj_out) @ h + fno.proj_out.bias


@pytest.mark.parametrize("transform", ["fft", "dft"])
def test_fno_matches_a_plain_reference_forward_and_gradient(getkey, transform):
    fno = FNO(2, 1, 6, width=8, n_layers=3, transform=transform, key=getkey())
    a = references.normal(getkey(), (3, 2, 32))
    ours = eqx.filter_jit(jax.vmap(fno))(a)
    ref = jax.jit(jax.vmap(lambda u: _reference_fno(fno, u)))(a)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    loss = lambda m, f: jnp.mean(jax.vmap(f(m))(a) ** 2)
    g_ours = eqx.filter_jit(eqx.filter_grad(lambda m: loss(m, lambda m: m)))(fno)
    g_ref = eqx.filter_jit(
        eqx.filter_grad(lambda m: loss(m, lambda m: lambda u: _reference_fno(m, u)))
    )(fno)
    for x, y in zip(
        jax.tree.leaves(eqx.filter(g_ours, eqx.is_inexact_array)),
        jax.tree.leaves(eqx.filter(g_ref, eqx.is_inexact_array)),
        strict=True,
    ):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)


def test_rollout_unrolled_is_the_same():
    step = lambda u: 0.9 * u + jnp.sin(u)
    u0 = jnp.linspace(0.0, 1.0, 5)
    np.testing.assert_allclose(
        rollout(step, u0, 7, unroll=True), rollout(step, u0, 7), rtol=1e-6
    )
    with pytest.raises(ValueError, match="unroll"):
        rollout(step, u0, 7, unroll=0)


def test_pdebench_presets_match_its_configurations(getkey):
    from sciml.operators import PDEBENCH_PRESETS

    adv = FNO.pdebench("advection", key=getkey())
    assert (adv.in_channels, adv.out_channels, adv.modes, adv.width) == (
        10,
        1,
        (12,),
        20,
    )
    assert adv.padding == 2 and adv.projection_width == 128
    sorp = FNO.pdebench("diffusion_sorption", key=getkey())
    assert (sorp.modes, sorp.width) == ((16,), 64)
    cfd = FNO.pdebench("cfd_2d", key=getkey())
    assert (cfd.in_channels, cfd.out_channels, cfd.modes) == (40, 4, (12, 12))
    out = eqx.filter_eval_shape(cfd, jax.ShapeDtypeStruct((40, 32, 32), jnp.float32))
    assert out.shape == (4, 32, 32)
    assert len(PDEBENCH_PRESETS) == 8
    with pytest.raises(ValueError, match="unknown problem 'navier'"):
        FNO.pdebench("navier", key=getkey())
