r"""The loss-derivative identity of gradient flow, checked exactly with sympy.

For a multilayer perceptron with pre-activations and activities (the identity of the 2019 thesis "Information
Bottleneck Theory: Extensions to Convolutional Neural Networks and the Stochastic Gradient Hypothesis", candidate
8240R, supervisor P. Lio: its Sec. 3.2.1 and the appendix "Proof of time derivative of loss")

.. math::  z^l_i = b^l_i + \sum_k W^l_{ki} a^{l-1}_k,\qquad a^l_i = \phi^l(z^l_i),\qquad a^0 = x,

trained by gradient flow :math:`\dot\theta = -\alpha\,\partial L/\partial\theta` on every weight and bias,

.. math::  \frac{dL}{dt} = -\alpha \sum_\theta \Big(\frac{\partial L}{\partial\theta}\Big)^2 .

The seed proves it layer by layer with
:math:`G^l \equiv \sum_{s,i} \frac{\partial L}{\partial z^l_{s,i}}\,\frac{d z^l_{s,i}}{dt}` (``s`` runs over samples):

.. math::  G^l = G^{l-1} - \alpha\big(\|\partial L/\partial W^l\|^2 + \|\partial L/\partial b^l\|^2\big),
           \qquad G^0 = 0,\qquad G^L = dL/dt .

:func:`loss_identity` builds the network symbolically (one symbol for every weight, bias, input and
target entry, any depth and width, one or several samples) and computes every piece by a route of its own:

* ``dL/dt``: the parameters are made functions of time, :math:`L(\theta(t))` is differentiated in ``t`` by
  sympy's chain rule through the whole composition, and only then :math:`\dot\theta` is replaced by
  :math:`-\alpha\,\partial L/\partial\theta`;
* :math:`\partial L/\partial\theta`: direct differentiation of :math:`L(\theta)` in each parameter symbol;
* :math:`\partial L/\partial z^l`: a fresh symbol stands for :math:`z^l`, the rest of the network (layers
  l..L and the loss) is differentiated in it, then :math:`z^l(\theta)` is put back;
* :math:`dz^l/dt`: the time derivative of the forward pass up to layer l, with the same flow substitution.

Every rate is linear in the parameter velocities, so each residual splits into one bracket per parameter
(no squares to expand), and each bracket is reduced by :func:`reduce_exact`: every transcendental such as
``tanh(...)`` or ``exp(...)`` becomes a generator of sympy's sparse polynomial ring over QQ, where zero is
decided exactly (the two routes produce the same atoms). The identity *holds* when every residual is exactly 0.

What the thesis's minibatch statement (its Sec. 3.2.1) holds as
---------------------------------------------------------------
The thesis trains on a minibatch loss :math:`\tilde L` (:math:`\dot\theta = -\alpha\nabla\tilde L`), writes
:math:`dL/dt = -\alpha\,\nabla L\cdot\nabla\tilde L` for the *full* loss, models
:math:`\widetilde{\nabla\theta}\sim N(\mu,\sigma^2)` and concludes :math:`E[dL/dt] = -\alpha\sum\mu^2`
("changes in the loss can be explained simply by the mean of the gradients rather than their SNR").
Precisely:

1. *Holds exactly* for the instantaneous rate: :math:`E_B[dL/dt] = -\alpha\,\nabla L\cdot E_B[g_B]`, and
   :math:`E_B[g_B] = \nabla L` whenever every sample is equally likely to enter a batch whose loss is the
   batch mean (all :math:`\binom{n}{B}` batches, or a uniformly random batch of a random equal-size
   partition). So :math:`\mu = \nabla L` and :math:`E[dL/dt] = -\alpha\|\mu\|^2 = -\alpha\sum_{\text{all }\theta}\mu_\theta^2
   = -\alpha\sum_l \|\mu^l\|^2`, where :math:`\mu_\theta` is the *component* of the mean gradient (the
   thesis's per-layer norms :math:`\mu^{lt}` squared and summed over layers, weights *and* biases). The
   Gaussian model is not needed, only unbiasedness; the identity is linear in :math:`g_B`.
2. *Holds to first order only* for a discrete step of size :math:`\alpha`:
   :math:`\Delta L = -\alpha\nabla L\cdot g_B + \tfrac{\alpha^2}{2} g_B^\top H g_B + O(\alpha^3)`, so
   :math:`E[\Delta L] = -\alpha\|\mu\|^2 + \tfrac{\alpha^2}{2}\big(\mu^\top H\mu + \operatorname{tr}(H\,\Sigma_B)\big) + O(\alpha^3)`:
   the gradient noise :math:`\Sigma_B` (the thesis's :math:`\sigma^2`) enters at order :math:`\alpha^2`.
   "The loss dynamics depend on the mean, not the SNR" is a first-order (small learning rate) statement.
3. *Does not hold* for the minibatch's own loss: :math:`E[d\tilde L_B/dt] = -\alpha E\|g_B\|^2 =
   -\alpha(\|\mu\|^2 + \operatorname{tr}\Sigma_B)`, which contains the noise at first order.
4. *Does not hold* with :math:`\mu` read off from sequential training: Tishby's per-epoch statistics average
   gradients taken at *different* parameters (one per update within the epoch); their mean equals
   :math:`\nabla L(\theta)` only up to :math:`O(\alpha)` drift. Unequal batches (a ragged last batch in a
   fixed partition) also bias the unweighted mean; the batch-size-weighted mean is exact.

:mod:`sims.gradient_identity` checks 1 and 2 numerically with the simulator.

Example
-------
>>> from analytic.loss_identity import loss_identity
>>> r = loss_identity([1, 2, 1], "tanh")
>>> r.holds, r.flow_residual, r.recursion_residuals
(True, 0, (0, 0))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Sequence

from analytic.activations import Activation, get_activation
from analytic.checks import positive_int

if TYPE_CHECKING:  # sympy is imported where it is used (an optional, slow import)
    import sympy as sp

__all__ = ["loss_identity", "LossIdentityResult", "reduce_exact", "LOSSES"]

LOSSES = ("mse", "cross_entropy")


@dataclass(frozen=True)
class LossIdentityResult:
    """Everything :func:`loss_identity` computed; the residuals are reduced sympy expressions.

    Attributes
    ----------
    widths, activations, loss, n_samples : the architecture and loss that were built.
    alpha : the learning-rate symbol; ``x``, ``y``: input / target symbols, shape (n_samples, width).
    weights, biases : per weight layer l = 1..L, W^l as a tuple of rows (fan_in x fan_out) and b^l.
    loss_expr : L(theta) as a sympy expression.
    dL_dt : dL/dt under gradient flow (time-derivative route).
    grad_sq : per layer, ||dL/dW^l||^2 + ||dL/db^l||^2 (gradient route).
    G : (G^0, ..., G^L) with G^l = sum_{s,i} dL/dz^l_{s,i} * dz^l_{s,i}/dt (unreduced).
    flow_residual : reduced dL/dt + alpha * sum_theta (dL/dtheta)^2.
    recursion_residuals : reduced G^l - G^{l-1} + alpha * grad_sq[l], for l = 1..L.
    boundary_residuals : reduced (G^0, G^L - dL/dt).
    """

    widths: tuple
    activations: tuple
    loss: str
    n_samples: int
    alpha: sp.Symbol
    x: tuple
    y: tuple
    weights: tuple
    biases: tuple
    loss_expr: sp.Expr
    dL_dt: sp.Expr
    grad_sq: tuple
    G: tuple
    flow_residual: sp.Expr
    recursion_residuals: tuple
    boundary_residuals: tuple

    @property
    def residuals(self) -> tuple:
        """All reduced residuals: flow, each recursion step, G^0, G^L - dL/dt."""
        return (self.flow_residual, *self.recursion_residuals, *self.boundary_residuals)

    @property
    def holds(self) -> bool:
        """True when every residual reduced to exactly 0."""
        return all(r == 0 for r in self.residuals)

    @property
    def params(self) -> tuple:
        """Every parameter symbol, layer by layer (W^l row-major, then b^l)."""
        out = []
        for W, b in zip(self.weights, self.biases):
            out += [w for row in W for w in row] + list(b)
        return tuple(out)


def _activations(activation, n_layers: int) -> tuple[Activation, ...]:
    if isinstance(activation, (str, Activation)):
        acts = [get_activation(activation)] * n_layers
    else:
        try:
            acts = [get_activation(a) for a in activation]
        except TypeError:
            raise ValueError("activation must be a name, an Activation, or a sequence of them") from None
        if len(acts) != n_layers:
            raise ValueError(f"activation: need one activation per weight layer ({n_layers}), got {len(acts)}")
    return tuple(acts)


def _loss_terms(out, target, loss: str):
    """Per-sample loss of output activity ``out`` (list of exprs) against ``target``."""
    import sympy as sp
    if loss == "mse":
        return sp.Rational(1, 2) * sum((o - t) ** 2 for o, t in zip(out, target))
    # cross-entropy of the softmax of the output activity against (soft / one-hot) targets
    log_norm = sp.log(sum(sp.exp(o) for o in out))
    return -sum(t * (o - log_norm) for o, t in zip(out, target))


def _velocity_degree(expr, dots) -> int:
    """Degree of ``expr`` in the symbols ``dots`` if it is homogeneous (0 for none); raises otherwise.

    Exact structural walk (no expansion): Add needs equal degrees of its non-zero terms, Mul adds degrees,
    an integer power multiplies, and a function of the velocities is not allowed.
    """
    import sympy as sp
    if expr in dots:
        return 1
    if not (expr.free_symbols & dots):
        return 0
    if isinstance(expr, sp.Add):
        degs = {_velocity_degree(a, dots) for a in expr.args}
        if len(degs) != 1:
            raise RuntimeError("internal: rate expression is not homogeneous in the parameter velocities")
        return degs.pop()
    if isinstance(expr, sp.Mul):
        return sum(_velocity_degree(a, dots) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0:
        return int(expr.exp) * _velocity_degree(expr.base, dots)
    raise RuntimeError(f"internal: parameter velocities inside {type(expr).__name__}")


def _canonical(expr, invert: bool = False):
    """``expr`` as an element of a sparse polynomial ring (or fraction field) over QQ, with each outermost
    function application (``tanh(z)``, ``exp(-z)``, ``log(1 + exp(z))``, ...) a generator; and the map back.
    ``invert``: every base raised to a negative integer power becomes a generator of its own as well."""
    import sympy as sp
    apps = {a: sp.Dummy(f"f{k}") for k, a in enumerate(expr.atoms(sp.Function))}
    flat = expr.xreplace(apps)  # top-down: an outermost application is replaced whole
    if invert:
        inv = {}

        def as_generator(e):
            return inv.setdefault(e.base, sp.Dummy(f"d{len(inv)}")) ** (-e.exp)

        flat = flat.replace(lambda e: e.is_Pow and e.exp.is_Integer and e.exp < 0, as_generator)
    gens = sorted(flat.free_symbols, key=str)
    if not gens:
        return sp.nsimplify(flat) if flat.is_Float else flat, {}
    try:
        value = sp.ring(gens, sp.QQ)[0].from_expr(flat)
    except (ValueError, sp.PolynomialError, TypeError):
        value = sp.field(gens, sp.QQ)[0].from_expr(flat)
    return value, {d: a for a, d in apps.items()}


def reduce_exact(expr: sp.Expr) -> sp.Expr:
    """Exact canonical reduction used for every residual; returns ``0`` exactly when it proves ``expr == 0``.

    Each outermost function application is replaced by a fresh symbol, so the expression becomes a
    polynomial (or rational function) of plain symbols. Three exact tests, in order:

    1. every negative integer power ``B**-k`` also becomes a fresh generator ``D**k``, and the result is
       evaluated in sympy's sparse polynomial ring over QQ. Zero there is zero for *every* value of D, hence at
       D = 1/B too (sound; no gcds, so fast for softmax / sigmoid denominators);
    2. the rational function in the fraction field over QQ (canonical: 0 there means identically 0);
    3. the same after :func:`sympy.expand` (``exp(a+b) -> exp(a) exp(b)`` etc.).

    The two routes of :func:`loss_identity` build the same arguments from the same forward pass, so a genuine
    identity cancels already in 1. A non-zero result is returned in the canonical form of 3 (exact rationals,
    never a floating-point "small" value); non-zero means "not proved zero by these exact rewritings".

    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> reduce_exact(sp.diff(sp.tanh(z), z) - (1 - sp.tanh(z) ** 2)), reduce_exact(sp.exp(2 * z) - sp.exp(z) ** 2)
    (0, 0)
    """
    import sympy as sp
    expr = sp.sympify(expr)
    if expr == 0:
        return sp.Integer(0)
    # 1) inverse powers as independent generators too (sound: a polynomial identity in a free generator D
    #    stays true at D = 1/base); no gcds, so fast for the softmax / sigmoid denominators
    value, back = _canonical(expr, invert=True)
    if value == 0:
        return sp.Integer(0)
    # 2) rational-function field (exact, canonical), then 3) the same after sympy's expand
    value, back = _canonical(expr)
    if value == 0:
        return sp.Integer(0)
    value, back = _canonical(sp.expand(expr))
    if value == 0:
        return sp.Integer(0)
    out = value.as_expr() if hasattr(value, "as_expr") else value
    return out.xreplace(back)


def loss_identity(widths: Sequence[int], activation: str | Activation | Sequence[str | Activation] = "tanh",
                  loss: Literal["mse", "cross_entropy"] = "mse", n_samples: int = 1,
                  method: Literal["coefficients", "expand"] = "coefficients") -> LossIdentityResult:
    r"""Check dL/dt = -alpha sum_theta (dL/dtheta)^2 and the layer recursion of G^l exactly, with sympy.

    Parameters
    ----------
    widths : [d_0, d_1, ..., d_L], input width first; L = len(widths) - 1 weight layers (depth L >= 1).
    activation : an activation name / :class:`~analytic.activations.Activation` applied in every layer
        (the output layer too, as in the thesis's derivation), or a sequence of L of them, one per weight layer
        (use ``"linear"`` last for a linear read-out). Their ``.sympy()`` forms are used.
    loss : ``"mse"``: :math:`L = \frac1n\sum_s \tfrac12\|a^L_s - y_s\|^2`;
        ``"cross_entropy"``: :math:`L = -\frac1n\sum_s\sum_k y_{s,k}\ln\mathrm{softmax}(a^L_s)_k`.
    n_samples : number of symbolic samples (x_s, y_s) in the (full-batch) loss.
    method : how residuals are reduced to canonical form (both exact):
        ``"coefficients"`` (default, fast): every rate above is linear in the parameter velocities,
        :math:`R = \sum_\theta c_\theta\dot\theta`; under the flow a residual equals
        :math:`\sum_\theta(-\alpha\,\partial L/\partial\theta)\,(c_\theta - [\theta\in S]\,\partial L/\partial\theta)`
        and each bracket (one parameter, no squares) is reduced by :func:`reduce_exact` on its own;
        ``"expand"``: expand the whole flow-substituted residual (small nets only; grows fast).

    Returns
    -------
    :class:`LossIdentityResult`; ``.holds`` is True when every residual is exactly 0.
    Keep it small (widths 1-2, depth <= 4): the expressions grow quickly.

    Piecewise activations (relu, hardtanh, leaky_relu, softsign) give Heaviside / sign factors; the identity
    holds wherever the network is differentiable, but sympy may not reduce those residuals to 0.

    Examples
    --------
    >>> r = loss_identity([2, 1, 1], ["sigmoid", "linear"], n_samples=2)
    >>> r.holds
    True
    """
    import sympy as sp
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise ValueError(f"widths must be a sequence of layer widths, got {widths!r}")
    widths = tuple(positive_int(w, "widths") for w in widths)
    if len(widths) < 2:
        raise ValueError(f"widths must contain the input width and at least one layer, got {widths}")
    if method not in ("coefficients", "expand"):
        raise ValueError(f"method must be 'coefficients' or 'expand', got {method!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    n_samples = positive_int(n_samples, "n_samples")
    n_layers = len(widths) - 1
    acts = _activations(activation, n_layers)

    alpha, t = sp.Symbol("alpha", positive=True), sp.Symbol("t", real=True)
    x = tuple(tuple(sp.Symbol(f"x{s}_{j}", real=True) for j in range(widths[0])) for s in range(n_samples))
    y = tuple(tuple(sp.Symbol(f"y{s}_{k}", real=True) for k in range(widths[-1])) for s in range(n_samples))
    weights = tuple(tuple(tuple(sp.Symbol(f"W{l}_{k}_{i}", real=True) for i in range(widths[l]))
                          for k in range(widths[l - 1])) for l in range(1, n_layers + 1))
    biases = tuple(tuple(sp.Symbol(f"b{l}_{i}", real=True) for i in range(widths[l]))
                   for l in range(1, n_layers + 1))
    params = [w for W, b in zip(weights, biases) for w in [*(v for row in W for v in row), *b]]
    of_t = {p: sp.Function(p.name, real=True)(t) for p in params}   # theta -> theta(t)
    dots = {p: sp.Symbol(f"{p.name}_dot", real=True) for p in params}  # placeholders for theta'(t)
    dot_set = frozenset(dots.values())
    inv_t = {v: p for p, v in of_t.items()}
    inv_dots = {sp.Derivative(of_t[p], t): dots[p] for p in params}

    def layer(l, a_prev, pmap):  # l = 1..L; returns z^l (list over units)
        W, b = weights[l - 1], biases[l - 1]
        return [pmap(b[i]) + sum(pmap(W[k][i]) * a_prev[k] for k in range(len(a_prev)))
                for i in range(widths[l])]

    def forward(xs, pmap, start=1, a_start=None):  # z^l for l >= start, from a^{start-1}
        a, zs = list(a_start if a_start is not None else xs), []
        for l in range(start, n_layers + 1):
            z = layer(l, a, pmap)
            zs.append(z)
            a = [acts[l - 1].sympy(zi) for zi in z]
        return zs, a

    ident = (lambda p: p)
    timed = (lambda p: of_t[p])
    # --- loss and its gradient (gradient route)
    fwd = [forward(x[s], ident) for s in range(n_samples)]
    zs_sym = [f[0] for f in fwd]                                  # z^l_s(theta)
    inv_n = sp.Rational(1, n_samples)
    L = inv_n * sum(_loss_terms(fwd[s][1], y[s], loss) for s in range(n_samples))
    grad = {p: sp.diff(L, p) for p in params}
    flow = {dots[p]: -alpha * grad[p] for p in params}

    def rate(expr_t):  # d/dt of an expression in theta(t); theta'(t) left as the placeholder symbols
        return sp.diff(expr_t, t).xreplace(inv_dots).xreplace(inv_t)

    # --- dL/dt (time route), linear in the placeholders theta_dot
    L_t = inv_n * sum(_loss_terms(forward(x[s], timed)[1], y[s], loss) for s in range(n_samples))
    dL_rate = rate(L_t)

    layer_of = {p: l for l, (W, b) in enumerate(zip(weights, biases), start=1)
                for p in [*(v for row in W for v in row), *b]}
    grad_sq = tuple(sum(grad[p] ** 2 for p in params if layer_of[p] == l) for l in range(1, n_layers + 1))

    # --- G^l = sum_{s,i} dL/dz^l_{s,i} dz^l_{s,i}/dt, also linear in theta_dot
    G_rate = [sum(sp.diff(L, xj) * sp.diff(xj, t) for xs in x for xj in xs)]  # G^0: inputs do not move (= 0)
    for l in range(1, n_layers + 1):
        zeta = [[sp.Symbol(f"zeta{s}_{i}", real=True) for i in range(widths[l])] for s in range(n_samples)]
        head = inv_n * sum(_loss_terms(forward(None, ident, start=l + 1,
                                               a_start=[acts[l - 1].sympy(zi) for zi in zeta[s]])[1],
                                       y[s], loss) for s in range(n_samples))
        put_back = {zeta[s][i]: zs_sym[s][l - 1][i] for s in range(n_samples) for i in range(widths[l])}
        total = 0
        for s in range(n_samples):
            z_t = forward(x[s], timed)[0][l - 1]
            for i in range(widths[l]):
                total += sp.diff(head, zeta[s][i]).xreplace(put_back) * rate(z_t[i])
        G_rate.append(total)

    def residual(rate_expr, squared_layers):
        """Reduced  rate_expr|flow + alpha * sum_{theta in squared_layers} (dL/dtheta)^2."""
        if method == "expand":
            sq = sum(grad_sq[l - 1] for l in squared_layers)
            return reduce_exact(rate_expr.xreplace(flow) + alpha * sq)
        # rate_expr = sum_theta c_theta * theta_dot (chain rule); under the flow the residual is
        # sum_theta (-alpha dL/dtheta) * (c_theta - [theta in squared_layers] dL/dtheta): reduce each bracket.
        if _velocity_degree(rate_expr, dot_set) not in (0, 1):
            raise RuntimeError("internal: rate expression is not linear in the parameter velocities")
        out = 0
        for p in params:  # homogeneous of degree 1: the coefficient is the value at the unit velocity e_p
            c = rate_expr.xreplace({d: (1 if q is p else 0) for q, d in dots.items()})
            bracket = reduce_exact(c - (grad[p] if layer_of[p] in squared_layers else 0))
            out += -alpha * grad[p] * bracket
        return out

    flow_res = residual(dL_rate, range(1, n_layers + 1))
    rec_res = tuple(residual(G_rate[l] - G_rate[l - 1], (l,)) for l in range(1, n_layers + 1))
    bnd_res = (residual(G_rate[0], ()), residual(G_rate[-1] - dL_rate, ()))
    dL_dt = dL_rate.xreplace(flow)
    G = tuple(g.xreplace(flow) if g != 0 else sp.Integer(0) for g in G_rate)
    return LossIdentityResult(widths=widths, activations=tuple(a.name for a in acts), loss=loss,
                              n_samples=n_samples, alpha=alpha, x=x, y=y, weights=weights, biases=biases,
                              loss_expr=L, dL_dt=dL_dt, grad_sq=grad_sq, G=tuple(G), flow_residual=flow_res,
                              recursion_residuals=rec_res, boundary_residuals=bnd_res)
