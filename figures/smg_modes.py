"""Saxe-McClelland-Ganguli (2014): modes are learned in order of singular value (closed form vs gradient descent)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.linear_dynamics import deep_mode, smg_mode
from figures._registry import figure
from minimal_models.linear_student_teacher import deep_linear_gd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _decoupled_net(s, u0, n_weight_layers, seed=0):
    """Target Sigma_yx = U diag(s) V^T and a decoupled, balanced initialisation with every mode at strength u0."""
    rng = np.random.default_rng(seed)
    n = s.size
    u_mat = np.linalg.qr(rng.standard_normal((n, n)))[0]
    v_mat = np.linalg.qr(rng.standard_normal((n, n)))[0]
    rot = [v_mat] + [np.linalg.qr(rng.standard_normal((n, n)))[0] for _ in range(n_weight_layers - 1)] + [u_mat]
    a = u0 ** (1.0 / n_weight_layers)
    # W_l = R_l (a I) R_{l-1}^T: the product is a^D U V^T = U diag(u0) V^T, and every layer has strength a
    weights = [a * rot[l + 1] @ rot[l].T for l in range(n_weight_layers)]
    return u_mat @ np.diag(s) @ v_mat.T, weights, u_mat, v_mat


def _mode_strengths(w_tot, u_mat, v_mat):
    return np.einsum("ij,tjk,ki->ti", u_mat.T, w_tot, v_mat)


@figure("smg-modes", "SMG 2014: input-output modes learned in order of singular value; closed form over GD dots")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    s = np.array([3.0, 2.0, 1.0, 0.5])
    u0, lr = 1e-3, (0.002 if full else 0.01)
    t_end = 14.0
    steps = int(round(t_end / lr))
    log_steps = np.unique(np.round(np.linspace(0, steps, 36)).astype(int))
    t_dense = np.linspace(0.0, t_end, 400)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = plt.cm.viridis(np.linspace(0.05, 0.85, s.size))

    sigma_yx, weights, u_mat, v_mat = _decoupled_net(s, u0, 2)
    w_tot = deep_linear_gd(weights, np.eye(s.size), sigma_yx, lr, steps, log_steps)
    u_sim = _mode_strengths(w_tot, u_mat, v_mat)
    ax = axes[0]
    for i, (si, c) in enumerate(zip(s, colors)):
        ax.plot(t_dense, smg_mode(t_dense, si, u0) / si, color=c, lw=1.8, label=f"s = {si:g}, closed form")
        ax.plot(log_steps * lr, u_sim[:, i] / si, "o", color=c, ms=3.5, mfc="none")
    ax.plot([], [], "o", color="gray", mfc="none", label=f"gradient descent (lr = {lr:g})")
    ax.set_xlabel("time t / tau")
    ax.set_ylabel("mode strength u(t) / s")
    ax.set_title(f"A  two-layer net, u0 = {u0:g}: modes learned in order of s")
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[1]
    s_one, u_start, t_b = 1.5, 1e-2, 6.0
    steps_b = int(round(t_b / lr))
    log_b = np.unique(np.round(np.linspace(0, steps_b, 41)).astype(int))
    t_dense_b = np.linspace(0.0, t_b, 400)
    depth_colors = plt.cm.plasma(np.linspace(0.1, 0.75, 3))
    for n_layers, c in zip((3, 4, 6), depth_colors):
        sig, ws, um, vm = _decoupled_net(np.array([s_one]), u_start, n_layers - 1, seed=n_layers)
        w_tot = deep_linear_gd(ws, np.eye(1), sig, lr, steps_b, log_b)
        ax.plot(t_dense_b, deep_mode(t_dense_b, s_one, u_start, n_layers) / s_one, color=c, lw=1.8,
                label=f"N_l = {n_layers} ({n_layers - 1} weight layers), closed form")
        ax.plot(log_b * lr, _mode_strengths(w_tot, um, vm)[:, 0] / s_one, "o", color=c, ms=3.5, mfc="none")
    ax.plot([], [], "o", color="gray", mfc="none", label="gradient descent, layer by layer")
    ax.set_xlabel("time t / tau")
    ax.set_ylabel("mode strength u(t) / s")
    ax.set_title(f"B  deep nets, equal layers (s = {s_one:g}, u0 = {u_start:g})")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return fig
