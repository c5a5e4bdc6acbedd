"""Property tests (hypothesis) of the defining mathematical properties."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import actlab
from actlab import functional as AF

settings.register_profile("actlab", max_examples=60, deadline=None)
settings.load_profile("actlab")

floats = st.floats(-20, 20, allow_nan=False)
pos = st.floats(0.2, 5.0)


def vec(n):
    return st.lists(floats, min_size=n, max_size=n).map(lambda v: torch.tensor(v, dtype=torch.float64))


@given(vec(8), vec(8), st.sampled_from([1, 2, 4, None]))
def test_radial_bounding_is_1_lipschitz(x, y, g):
    groups = 8 if g is None else g
    dx = (AF.radial_bounding(x, g) - AF.radial_bounding(y, g)).reshape(-1, groups).norm(dim=1)
    assert (dx <= (x - y).reshape(-1, groups).norm(dim=1) + 1e-12).all()


@given(vec(8), st.sampled_from([2, 4, None]))
def test_radial_bounding_identity_inside_ball_and_projection_outside(x, g):
    groups = x.reshape(-1, 8 if g is None else g)
    y = AF.radial_bounding(x, g).reshape(groups.shape)
    norms = groups.norm(dim=1)
    inside = norms <= 1
    torch.testing.assert_close(y[inside], groups[inside])
    torch.testing.assert_close(y[~inside].norm(dim=1), torch.ones_like(norms[~inside]))
    # phase preserving: same direction (groups whose ‖x‖² underflows have no measurable direction)
    measurable = norms > 1e-150
    cos = (y * groups).sum(1)[measurable] / (y.norm(dim=1) * norms)[measurable]
    assert (cos > 1 - 1e-12).all()


def _slope(fn, x):
    x = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g.item()


ZORROS = {
    "zorro": lambda a, b: (lambda x: AF.zorro(x, a, b)),
    "zorro_asymmetric": lambda a, b: (lambda x: AF.zorro_asymmetric(x, a, b, b + 0.3, a * 0.7)),
    "zorro_sloped": lambda a, b: (lambda x: AF.zorro_sloped(x, a, b, 0.4)),
}


@given(st.sampled_from(sorted(ZORROS)), pos, pos, st.floats(0, 1))
def test_zorro_linear_on_unit_interval_and_C1_at_junctions(name, a, b, t):
    f = ZORROS[name](a, b)
    x = torch.tensor([t], dtype=torch.float64)
    assert abs(f(x).item() - t) < 1e-12
    for j in (0.0, 1.0):
        eps = 1e-7
        lo, hi = f(torch.tensor([j - eps], dtype=torch.float64)).item(), f(torch.tensor([j + eps], dtype=torch.float64)).item()
        assert abs(lo - hi) < 1e-6  # continuous
        assert abs(_slope(f, j - eps) - 1) < 1e-5 and abs(_slope(f, j + eps) - 1) < 1e-5  # C¹, slope 1


@given(pos, pos, floats)
def test_symmetric_zorro_point_symmetry(a, b, t):
    x = torch.tensor([t], dtype=torch.float64)
    assert abs(AF.zorro(1 - x, a, b).item() - (1 - AF.zorro(x, a, b).item())) < 1e-9


@given(pos, pos, vec(16))
def test_zorro_core_shortcuts_match_the_general_form(a, b, x):
    """A parameter shared by both sides (one tensor, or equal numbers as in a compiled
    kernel) and a fixed m = 0 take shortcuts in the core; they agree with the general
    form, which selects per element between separate tensors for each side."""
    from actlab.activations import zorro as Z

    x = torch.cat([x, torch.tensor([0.0, 1.0, -0.0, float("nan")], dtype=torch.float64)])
    t = lambda v: torch.tensor(v, dtype=torch.float64)
    a_t, b_t = t(a), t(b)
    general = (t(a), t(b), t(a), t(b), t(0.0))  # separate tensors for each side, m a tensor
    for fn in (Z.core_value, Z.core_derivative, Z.core_partials):
        want = fn(x, *general)
        for shared in ((a_t, b_t, a_t, b_t, 0.0), (a, b, a, b, 0.0)):
            got = fn(x, *shared)
            for g, w in zip(*[v if isinstance(v, tuple) else (v,) for v in (got, want)]):
                torch.testing.assert_close(g, w, rtol=1e-13, atol=1e-15, equal_nan=True)


@given(pos, st.floats(0.5, 6), st.floats(0.5, 4), floats)
def test_sigmoid_and_tanh_zorro_symmetries(s, a, b, t):
    x = torch.tensor([t], dtype=torch.float64)
    zs = lambda v: AF.zorro_sigmoid(v, s, a, b).item()
    zt = lambda v: AF.zorro_tanh(v, s, a, b).item()
    assert abs(zs(-x) - (1 - zs(x))) < 1e-9  # about (0, ½)
    assert abs(zt(-x) + zt(x)) < 1e-9  # odd
    assert abs(zs(torch.zeros(1, dtype=torch.float64)) - 0.5) < 1e-12


@given(st.sampled_from([1.0, 2.0, 3.0, 2.5]), st.floats(-5, 5))
def test_mrepu_derivative_closed_form(p, z):
    if abs(z + 1) < 1e-6:
        return
    closed = (z + 1) ** (p - 1) * ((p + 1) * z + 1) if z > -1 else 0.0
    assert abs(_slope(lambda x: AF.mrepu(x, p), z) - closed) < 1e-9 * max(1, abs(closed))


def test_mrepu_taylor_at_zero():
    for p in (2.0, 3.0):
        x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        (d1,) = torch.autograd.grad(AF.mrepu(x, p).sum(), x, create_graph=True)
        (d2,) = torch.autograd.grad(d1.sum(), x)
        assert (AF.mrepu(x, p).item(), d1.item(), d2.item()) == (0.0, 1.0, 2 * p)


@given(st.sampled_from(sorted(actlab.list_activations())), floats)
def test_derivative_matches_finite_difference(name, x0):
    if name == "radial_bounding":  # a 1-D input of one feature: the group-of-one view
        name = "radial_bounding(group_size=1)"
    act = actlab.get_activation(name).double()
    kinks = act.info.breakpoints + tuple(-b for b in act.info.breakpoints if act.info.group_size)
    if name == "softplus":  # torch's softplus turns into x above x = threshold = 20: a jump of ~2e-9
        kinks += (20.0,)
    if any(abs(x0 - b) < 1e-3 for b in kinks):
        return
    h = 1e-6
    fd = (act(torch.tensor([x0 + h], dtype=torch.float64)) - act(torch.tensor([x0 - h], dtype=torch.float64))).item() / (2 * h)
    assert abs(_slope(act, x0) - fd) < 1e-5 * max(1.0, abs(fd))
