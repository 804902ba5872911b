"""What a synthetic lesion is drawn from: each class's profile and the drawing primitives.

``_PROFILES`` holds the per-class knobs of :func:`~skinlesion.datasets.make_lesions`
(the ABCD rule of dermoscopy, plus class-specific structures); ``_smooth_noise``
and ``_curves`` draw the low-frequency fields and the curved lines (hairs,
vessels) of a batch of images at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__: list[str] = []

# RGB colours in [0, 1].
_LIGHT_BROWN = (0.68, 0.46, 0.37)
_BROWN = (0.55, 0.34, 0.27)
_DARK_BROWN = (0.38, 0.22, 0.19)
_BLACK = (0.16, 0.11, 0.09)
_BLUE_GREY = (0.42, 0.46, 0.56)
_RED = (0.76, 0.33, 0.33)
_PINK = (0.86, 0.58, 0.56)
_WHITE = (0.92, 0.89, 0.86)
_PURPLE = (0.52, 0.22, 0.36)
_TAN = (0.76, 0.57, 0.49)

# Per-class knobs (means; every image draws around them, so classes overlap).
#   size: lesion radius as a fraction of half the image side
#   elong: elongation (axis ratio - 1), asymmetry of the outline
#   lobe: amplitude of the 1st/2nd outline harmonics (a lopsided outline)
#   irreg: amplitude of the 3rd-8th harmonics (a ragged, notched border)
#   soft: border blur relative to the radius (fuzzy vs sharply demarcated)
#   base: main pigment colour; second: secondary colours mixed in patches
#   varieg: strength of those patches (colour variegation)
#   dots_white / dots_dark: density of milia-like cysts / comedo-like openings
#   vessels: mean number of red vessels inside the lesion
#   centre_white: strength of a white central patch (dermatofibroma)
_PROFILES: dict[str, dict[str, Any]] = {
    "melanoma": dict(
        size=0.64,
        elong=0.30,
        lobe=0.14,
        irreg=0.07,
        soft=0.10,
        base=_BROWN,
        second=(_BLACK, _BLUE_GREY, _RED),
        varieg=1.0,
        dots_white=0.0,
        dots_dark=0.01,
        vessels=0.0,
        centre_white=0.0,
    ),
    "nevus": dict(
        size=0.34,
        elong=0.06,
        lobe=0.025,
        irreg=0.012,
        soft=0.10,
        base=_BROWN,
        second=(_DARK_BROWN, _LIGHT_BROWN, _TAN),
        varieg=0.15,
        dots_white=0.0,
        dots_dark=0.0,
        vessels=0.0,
        centre_white=0.0,
    ),
    "seborrheic keratosis": dict(
        size=0.50,
        elong=0.18,
        lobe=0.06,
        irreg=0.035,
        soft=0.03,
        base=_LIGHT_BROWN,
        second=(_DARK_BROWN, _TAN, _BROWN),
        varieg=0.40,
        dots_white=0.07,
        dots_dark=0.06,
        vessels=0.0,
        centre_white=0.0,
    ),
    "basal cell carcinoma": dict(
        size=0.46,
        elong=0.15,
        lobe=0.06,
        irreg=0.03,
        soft=0.12,
        base=_PINK,
        second=(_BLUE_GREY, _WHITE, _RED),
        varieg=0.40,
        dots_white=0.0,
        dots_dark=0.0,
        vessels=3.0,
        centre_white=0.0,
    ),
    "actinic keratosis": dict(
        size=0.48,
        elong=0.15,
        lobe=0.06,
        irreg=0.03,
        soft=0.22,
        base=_RED,
        second=(_PINK, _WHITE, _LIGHT_BROWN),
        varieg=0.45,
        dots_white=0.03,
        dots_dark=0.0,
        vessels=0.7,
        centre_white=0.0,
    ),
    "dermatofibroma": dict(
        size=0.34,
        elong=0.10,
        lobe=0.04,
        irreg=0.02,
        soft=0.14,
        base=_LIGHT_BROWN,
        second=(_BROWN, _TAN, _PINK),
        varieg=0.30,
        dots_white=0.0,
        dots_dark=0.0,
        vessels=0.0,
        centre_white=0.65,
    ),
    "vascular lesion": dict(
        size=0.40,
        elong=0.12,
        lobe=0.05,
        irreg=0.025,
        soft=0.07,
        base=_RED,
        second=(_PURPLE, _DARK_BROWN, _RED),
        varieg=0.55,
        dots_white=0.0,
        dots_dark=0.0,
        vessels=0.0,
        centre_white=0.0,
    ),
}

_MAX_HAIRS = 6
_MAX_VESSELS = 5


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, ...], grid: int, height: int, width: int
) -> np.ndarray:
    """Low-frequency noise: a ``grid x grid`` random field upsampled bilinearly.

    Returns float32 of ``shape + (height, width)`` with roughly unit variance.
    """

    def interp(n_out: int) -> np.ndarray:
        pos = np.linspace(0, grid - 1, n_out)
        lo = np.clip(np.floor(pos).astype(int), 0, grid - 2) if grid > 1 else np.zeros(n_out, int)
        frac = pos - lo
        mat = np.zeros((n_out, grid), dtype=np.float32)
        mat[np.arange(n_out), lo] = 1 - frac
        if grid > 1:
            mat[np.arange(n_out), lo + 1] += frac
        return mat

    field = rng.standard_normal((*shape, grid, grid)).astype(np.float32)
    out = interp(height) @ field @ interp(width).T
    return out / np.float32(0.75)


def _curves(
    rng: np.random.Generator,
    n: int,
    max_curves: int,
    counts: np.ndarray,
    yy: np.ndarray,
    xx: np.ndarray,
    width: np.ndarray,
) -> np.ndarray:
    """Soft masks of gently curved lines (hairs, vessels): float32 (n, h, w) in [0, 1].

    Each line is an arc of a large circle whose centre lies far from the image;
    ``counts[i]`` lines are drawn in image ``i`` with ``width[i]`` half-width.
    """
    out = np.zeros((n, *yy.shape), dtype=np.float32)
    for j in range(max_curves):
        idx = np.flatnonzero(counts > j)
        if idx.size == 0:
            break
        m = idx.size
        angle = rng.uniform(0, 2 * np.pi, m)
        far = rng.uniform(1.5, 6.0, m)
        offset = rng.uniform(-0.9, 0.9, m)
        cy = (np.sin(angle) * far).astype(np.float32)[:, None, None]
        cx = (np.cos(angle) * far).astype(np.float32)[:, None, None]
        radius = (far + offset).astype(np.float32)[:, None, None]  # passes near the centre
        dist = np.sqrt((yy[None] - cy) ** 2 + (xx[None] - cx) ** 2)
        line = np.abs(dist - radius) / width[idx, None, None]
        strength = np.clip(1.0 - line, 0.0, 1.0)
        out[idx] = np.maximum(out[idx], strength)
    return out
