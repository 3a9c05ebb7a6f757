"""The loss-derivative identity dL/dt = -alpha sum (dL/dtheta)^2 and the G^l recursion, exactly with sympy."""
import numpy as np
import pytest
import sympy as sp

from analytic import loss_identity
from analytic.loss_identity import reduce_exact

ACTS = ["tanh", "sigmoid", "softplus", "linear"]


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_identity_exact_width1_chains(depth, activation):
    r = loss_identity([1] * (depth + 1), activation)
    assert r.flow_residual == 0
    assert r.recursion_residuals == (0,) * depth
    assert r.boundary_residuals == (0, 0)
    assert r.holds and len(r.G) == depth + 1 and r.G[0] == 0


@pytest.mark.parametrize("widths, activation", [
    ([2, 2, 1], "sigmoid"),
    ([1, 2, 2, 1], "softplus"),
    ([1, 2, 2, 2, 1], "tanh"),          # depth 4, width 2
    ([2, 2, 2], ["tanh", "linear"]),    # linear read-out
])
def test_identity_exact_width2(widths, activation):
    r = loss_identity(widths, activation)
    assert r.holds, r.residuals


def test_identity_cross_entropy_and_several_samples():
    r = loss_identity([2, 2, 2], ["tanh", "linear"], loss="cross_entropy", n_samples=2)
    assert r.holds, r.residuals
    r = loss_identity([1, 2, 1], ["sigmoid", "tanh"], n_samples=3)
    assert r.holds, r.residuals


@pytest.mark.parametrize("widths, activation", [([1, 2, 1], "tanh"), ([1, 1], "sigmoid"), ([1, 1, 1], "softplus")])
def test_full_expansion_agrees_with_coefficient_route(widths, activation):
    """method='expand' expands the whole flow-substituted residual (no per-parameter split)."""
    r = loss_identity(widths, activation, method="expand")
    assert r.holds, r.residuals


def test_reduction_detects_false_identities():
    """Negative controls: a wrong factor or a wrong layer in the recursion must NOT reduce to 0."""
    r = loss_identity([1, 1, 1], "tanh")
    a = r.alpha
    assert reduce_exact(r.dL_dt + 2 * a * sum(r.grad_sq)) != 0
    assert reduce_exact(r.dL_dt + a * r.grad_sq[0]) != 0                    # a layer missing
    assert reduce_exact(r.G[2] - r.G[1] + a * r.grad_sq[0]) != 0            # wrong layer's gradient
    assert reduce_exact(r.G[1] + a * r.grad_sq[0]) == 0                     # G^1 = -alpha ||grad_1||^2
    z = sp.Symbol("z")
    assert reduce_exact(sp.tanh(z) ** 2 + 1 - 1 / sp.cosh(z) ** 2) != 0     # sign error in an identity
    assert reduce_exact(sp.diff(1 / (1 + sp.exp(-z)), z) - sp.exp(-z) / (1 + sp.exp(-z)) ** 2) == 0


def test_symbolic_network_is_the_simulators_network():
    """Independent route: the sympy gradients, evaluated at random numbers, equal the simulator's backprop
    (sims.MLP: z = a W + b, mse loss (1/n) sum 1/2 ||a_L - y||^2, linear output) to 1e-12."""
    from sims import MLP
    widths, n = [2, 2, 2], 2
    r = loss_identity(widths, ["tanh", "linear"], n_samples=n)
    rng = np.random.default_rng(0)
    net = MLP(widths, "tanh", output="linear")
    params = net.init_params(seed=1)
    for W, b in params:
        b += rng.normal(size=b.shape)
    x, y = rng.normal(size=(n, widths[0])), rng.normal(size=(n, widths[-1]))
    subs = {}
    for (W, b), Ws, bs in zip(params, r.weights, r.biases):
        subs.update({Ws[k][i]: W[0, k, i] for k in range(W.shape[1]) for i in range(W.shape[2])})
        subs.update({bs[i]: b[0, i] for i in range(b.shape[1])})
    subs.update({r.x[s][j]: x[s, j] for s in range(n) for j in range(widths[0])})
    subs.update({r.y[s][k]: y[s, k] for s in range(n) for k in range(widths[-1])})
    subs[r.alpha] = 0.3
    subs = {k: sp.Float(float(v), 30) for k, v in subs.items()}
    value = (lambda expr: float(expr.xreplace(subs)))  # numbers in: every node evaluates at 30 digits
    loss, grads = net.loss_and_grads(params, x, y, loss="mse")
    assert value(r.loss_expr) == pytest.approx(float(loss[0]), rel=1e-12)
    sq = [float((gW ** 2).sum() + (gb ** 2).sum()) for gW, gb in grads]
    for l in range(len(sq)):
        assert value(r.grad_sq[l]) == pytest.approx(sq[l], rel=1e-12)
        # G^l = -alpha * sum_{k <= l} ||grad_k||^2, evaluated from the unreduced G expressions
        assert value(r.G[l + 1]) == pytest.approx(-0.3 * sum(sq[:l + 1]), rel=1e-10)
    assert value(r.dL_dt) == pytest.approx(-0.3 * sum(sq), rel=1e-10)


def test_params_listing():
    r = loss_identity([2, 3, 1], "tanh")
    assert len(r.params) == 2 * 3 + 3 + 3 * 1 + 1
    assert len(set(r.params)) == len(r.params)
    assert r.weights[1][2][0].name == "W2_2_0"  # separated indices: W1_1_10 and W1_11_0 can never collide


@pytest.mark.parametrize("kwargs, name", [
    (dict(widths=[3]), "widths"),
    (dict(widths=[1, 0]), "widths"),
    (dict(widths="12"), "widths"),
    (dict(widths=[1, 1], loss="hinge"), "loss"),
    (dict(widths=[1, 1, 1], activation=["tanh"]), "activation"),
    (dict(widths=[1, 1], activation="swish"), "activation"),
    (dict(widths=[1, 1], n_samples=0), "n_samples"),
    (dict(widths=[1, 1], method="simplify"), "method"),
])
def test_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        loss_identity(**kwargs)
