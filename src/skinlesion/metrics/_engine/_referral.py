"""Selective prediction: the figures on the cases kept when the least confident are referred."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skinlesion.metrics._engine._core import (
    Figures,
    _div,
    _nanmean,
    _positive_calls,
    counts,
    rates,
)


def confidence_order(confidence: np.ndarray) -> np.ndarray:
    """Images from the most to the least confident (ties keep their input order)."""
    return np.argsort(-np.asarray(confidence, dtype=np.float64), kind="mergesort")


def kept_weights(W: np.ndarray, order: np.ndarray, fraction: float) -> np.ndarray:
    """The weights of the cases kept when the least-confident ``fraction`` is referred.

    Each row keeps its most confident ``n - round(fraction * n)`` cases (``n`` the
    row's weight): a case drawn three times is three cases, and where the border
    falls inside such a case only some of its draws are kept.
    """
    n = W.sum(axis=1, keepdims=True)
    keep = n - np.floor(fraction * n + 0.5)
    Wo = W[:, order]
    before = np.cumsum(Wo, axis=1) - Wo
    K = np.empty_like(W, dtype=np.float64)
    K[:, order] = np.clip(keep - before, 0.0, Wo)
    return K


def referral_figures(
    codes: np.ndarray,
    proba: np.ndarray,
    confidence: np.ndarray,
    fractions: Sequence[float],
    W: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: Any = 0.5,
) -> Figures:
    """Figures on the cases kept when the least-confident ``fractions`` are referred.

    Keys ``("referral", j, figure)`` for the ``j``-th fraction: referred (the
    share actually referred), threshold (the confidence of the least confident
    case kept: cases below it are referred), kept (weighted count), accuracy and
    balanced_accuracy of the arg-max prediction on the kept cases, and with
    ``mask`` the sensitivity and specificity of the positive class(es) on them
    (called positive when their summed probability is ``>= threshold``, a float
    or one per row).
    """
    order = confidence_order(confidence)
    conf_sorted = np.asarray(confidence, dtype=np.float64)[order]
    k = proba.shape[1]
    hit = (proba.argmax(axis=1) == codes).astype(np.float64)
    onehot = np.eye(k)[codes]
    n = W.sum(axis=1)
    out: Figures = {}
    for j, fraction in enumerate(fractions):
        K = kept_weights(W, order, fraction)
        kept = K.sum(axis=1)
        used = K[:, order] > 0
        last = used.shape[1] - 1 - np.argmax(used[:, ::-1], axis=1)
        block = {
            "referred": 1.0 - kept / n,
            "kept": kept,
            "threshold": np.where(used.any(axis=1), conf_sorted[last], np.nan),
            "accuracy": _div(K @ hit, kept),
            "balanced_accuracy": _nanmean(_div(K @ (onehot * hit[:, None]), K @ onehot)),
        }
        if mask is not None:
            y, called = _positive_calls(codes, proba, mask, threshold)
            block.update(rates(counts(K, y, called)))
            del block["ppv"], block["npv"]
        out.update({("referral", j, name): v for name, v in block.items()})
    return out


def referral_curve(
    codes: np.ndarray,
    proba: np.ndarray,
    confidence: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict[str, np.ndarray]:
    """The referral figures at every share referred, 0, 1/n, ..., (n - 1)/n (point only).

    The same figures as :func:`referral_figures` with unit weights (entry ``i``
    refers the ``i`` least confident cases), from running sums in confidence order.
    """
    order = confidence_order(confidence)
    n, k = proba.shape
    hit = (proba.argmax(axis=1) == codes)[order]
    onehot = np.eye(k, dtype=bool)[codes[order]]
    kept = np.arange(n, 0, -1, dtype=np.float64)

    def running(a: np.ndarray) -> np.ndarray:
        """Sums over the ``n - i`` most confident cases, for i = 0 .. n - 1."""
        return np.cumsum(a, axis=0)[::-1]

    out = {
        "referred": 1.0 - kept / n,
        "kept": kept,
        "threshold": np.asarray(confidence, dtype=np.float64)[order][::-1],
        "accuracy": running(hit) / kept,
        "balanced_accuracy": _nanmean(
            _div(running(onehot & hit[:, None]), running(onehot)), axis=1
        ),
    }
    if mask is not None:
        y, called = _positive_calls(codes[order], proba[order], mask, threshold)
        out["sensitivity"] = _div(running(y & called), running(y))
        out["specificity"] = _div(running(~y & ~called), running(~y))
    return out
