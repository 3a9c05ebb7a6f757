"""Shared machinery of the estimators: input checks and exact entropies of discrete symbols.

A layer's symbol is the tuple of its units' integer codes. Tuples become one integer key per sample by a
mixed-radix combination ``key = key * radix + code``; when the next product could overflow int64 the keys are
first replaced by their dense ranks within each batch item (``< samples``), so any number of units and bins works.
Counting is sort-based over the flattened ``(batch, samples)`` view: sort each row, mark where the key changes,
number the groups, and ``np.bincount`` the group ids. Everything is batched; there is no loop over samples or over
batch items.

Entropies are plug-in entropies of the empirical distribution with every sample weighted 1/S (the samples are the
equiprobable inputs of the analysis set): ``H = ln S - (1/S) sum_k n_k ln n_k``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from analytic.checks import finite_array, labels_for

__all__ = ["check_activity", "label_codes", "row_keys", "dense_rank", "entropy_of_keys", "discrete_mi"]

_KEY_LIMIT = 2 ** 62


def check_activity(activity, labels, name: str = "activity"):
    """Validate ``activity`` (..., samples, units) and ``labels`` (samples,); return (array, labels, batch shape)."""
    act = finite_array(activity, name, min_ndim=2)
    if act.shape[-2] < 1 or act.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one sample and one unit, got shape {act.shape}")
    y = labels_for(labels, act.shape[-2], "labels")
    return act, y, act.shape[:-2]


def label_codes(labels):
    """Labels -> (integer codes 0..C-1, C, class probabilities p(y))."""
    uniq, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    p = np.bincount(codes, minlength=uniq.size) / codes.size
    return codes, uniq.size, p


def dense_rank(keys):
    """Dense rank of each entry within its row: (B, S) int -> (B, S) int in 0..(#distinct - 1)."""
    order = np.argsort(keys, axis=-1, kind="stable")
    sk = np.take_along_axis(keys, order, axis=-1)
    new = np.zeros(sk.shape, dtype=np.int64)
    new[:, 1:] = sk[:, 1:] != sk[:, :-1]
    ranks = np.cumsum(new, axis=-1)
    out = np.empty_like(ranks)
    np.put_along_axis(out, order, ranks, axis=-1)
    return out


def row_keys(codes):
    """Integer codes (B, S, U), each >= 0 -> one int64 key per (batch, sample) identifying the U-tuple."""
    codes = np.asarray(codes, dtype=np.int64)
    B, S, U = codes.shape
    radix = int(codes.max()) + 1 if codes.size else 1
    key = codes[..., 0].copy()
    bound = radix
    for u in range(1, U):
        if bound > _KEY_LIMIT // radix:
            key = dense_rank(key)
            bound = S
        key *= radix
        key += codes[..., u]
        bound *= radix
    return key


def entropy_of_keys(keys):
    """Plug-in entropy (nats) of each row of ``keys`` (B, S), samples weighted 1/S."""
    B, S = keys.shape
    sk = np.sort(keys, axis=-1)
    starts = np.ones(sk.shape, dtype=np.int64)
    starts[:, 1:] = sk[:, 1:] != sk[:, :-1]
    gid = np.cumsum(starts, axis=-1) - 1 + (np.arange(B, dtype=np.int64) * S)[:, None]
    counts = np.bincount(gid.ravel(), minlength=B * S).reshape(B, S)
    return np.log(S) - xlogy(counts, counts).sum(axis=-1) / S


def discrete_mi(codes, labels):
    """Exact plug-in ``(H(T), I(T;Y))`` for symbols T = tuple of codes[b, s, :] and labels Y.

    codes (B, S, U) non-negative integers; labels (S,). ``I(T;Y) = H(T) + H(Y) - H(T,Y)``, equivalently
    ``H(T) - sum_y p(y) H(T|y)``.
    """
    y, C, p = label_codes(labels)
    keys = row_keys(codes)
    h_t = entropy_of_keys(keys)
    h_y = -np.sum(xlogy(p, p))
    joint = dense_rank(keys) * C + y[None, :]
    h_ty = entropy_of_keys(joint)
    return h_t, h_t + h_y - h_ty
