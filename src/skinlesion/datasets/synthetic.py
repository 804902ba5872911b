"""Synthetic dermoscopy-like lesion images for tests, demos and examples.

:func:`make_lesions` draws images in numpy only (no files, no network): a
skin-toned background, one pigmented lesion whose asymmetry, border
irregularity, colour variegation and diameter depend on its class (the ABCD
rule of dermoscopy), class-specific structures (milia-like cysts, arborising
vessels, a white scar-like centre, red lacunae), and nuisances that real
images have (hairs, vignetting, uneven lighting, sensor noise). Every image
also varies at random in position, rotation, size, skin tone and lighting, so
the classes overlap: a small CNN learns them well above chance, but not
perfectly.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from skinlesion._docstrings import Substitution, random_state_doc
from skinlesion._random import check_generator
from skinlesion.datasets._lesion_parts import (
    _BLACK,
    _MAX_HAIRS,
    _MAX_VESSELS,
    _PROFILES,
    _WHITE,
    _curves,
    _smooth_noise,
)
from skinlesion.images import Size, as_size

__all__ = ["LESION_CLASSES", "make_lesions"]

#: Class names in the order :func:`make_lesions` uses them (``n_classes`` takes a prefix).
LESION_CLASSES: tuple[str, ...] = (
    "melanoma",
    "nevus",
    "seborrheic keratosis",
    "basal cell carcinoma",
    "actinic keratosis",
    "dermatofibroma",
    "vascular lesion",
)

DESCR = """Synthetic dermoscopic lesions
------------------------------

Images drawn by ``skinlesion.datasets.make_lesions``: a skin-toned background with
one pigmented lesion whose asymmetry, border irregularity, colour variegation and
diameter depend on its class (the ABCD rule of dermoscopy), plus class-specific
structures (milia-like cysts for seborrheic keratosis, arborising vessels for basal
cell carcinoma, a white centre for dermatofibroma, red-purple lacunae for vascular
lesions). Position, rotation, size, skin tone and lighting vary at random for every
image; optional hairs, vignetting and pixel noise imitate real dermoscopy.

They are meant for tests, demos and examples: the classes are learnable but overlap,
so a small CNN scores clearly above chance without reaching perfect accuracy. They
are not a substitute for real images in any medical evaluation.

:Classes: {classes}
:Samples per class: {counts}
:Image size: {size}
"""


def _class_counts(n_samples: int, weights: np.ndarray) -> np.ndarray:
    """Split ``n_samples`` by ``weights`` (largest-remainder rounding)."""
    exact = weights * n_samples
    counts = np.floor(exact).astype(int)
    remainder = n_samples - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def _check_args(
    n_samples: Any, n_classes: Any, weights: Any, noise: Any
) -> tuple[int, int, np.ndarray, float]:
    if not isinstance(n_samples, numbers.Integral) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
    if (
        not isinstance(n_classes, numbers.Integral)
        or isinstance(n_classes, bool)
        or not 2 <= n_classes <= len(LESION_CLASSES)
    ):
        raise ValueError(
            f"n_classes must be an int from 2 to {len(LESION_CLASSES)} (the classes are "
            f"{', '.join(LESION_CLASSES)}), got {n_classes!r}."
        )
    n_samples, n_classes = int(n_samples), int(n_classes)
    if weights is None:
        w = np.full(n_classes, 1.0 / n_classes)
    else:
        try:
            w = np.asarray(weights, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"weights must be a sequence of {n_classes} non-negative numbers, got {weights!r}."
            ) from None
        if w.ndim != 1 or len(w) != n_classes:
            raise ValueError(
                f"weights must have one entry per class ({n_classes}), got {weights!r}; "
                "pass n_classes=len(weights) or fix the list."
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(
                f"weights must be non-negative, finite and not all zero, got {weights!r}."
            )
        w = w / w.sum()
    if (
        not isinstance(noise, numbers.Real)
        or isinstance(noise, bool)
        or not np.isfinite(noise)
        or not 0 <= noise <= 1
    ):
        raise ValueError(
            f"noise must be a number from 0 to 1 (the standard deviation of pixel noise, "
            f"as a fraction of the intensity range), got {noise!r}."
        )
    return n_samples, n_classes, w, float(noise)


@Substitution(random_state=random_state_doc("the drawing of the images", "the images"))
def make_lesions(
    n_samples: int = 600,
    n_classes: int = 3,
    image_size: Size = 64,
    *,
    weights: Sequence[float] | None = None,
    noise: float = 0.05,
    hairs: bool = True,
    vignetting: bool = True,
    return_X_y: bool = True,
    return_masks: bool = False,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray] | Bunch:
    """Draw synthetic dermoscopy-like lesion images with class labels.

    Each image shows skin with one lesion. The class sets the lesion's
    asymmetry, border irregularity, colour variegation and diameter (the ABCD
    rule) and class-specific structures; position, rotation, size, skin tone
    and lighting vary at random, so the classes overlap. A small CNN trained
    on 600 images of 64 px for about 10 epochs scores clearly above chance
    but not perfectly, which makes these images suitable for tests and demos
    (not for any medical evaluation).

    Parameters
    ----------
    n_samples : int, default=600
        Number of images.
    n_classes : int, default=3
        Number of classes, 2 to 7. The classes are, in order: "melanoma",
        "nevus", "seborrheic keratosis", "basal cell carcinoma", "actinic
        keratosis", "dermatofibroma", "vascular lesion"; ``n_classes`` takes
        the first ones.
    image_size : int or (height, width), default=64
        Size of the images in pixels.
    weights : sequence of float, default=None
        Class proportions, one per class (normalised to sum to 1), to make an
        imbalanced data set. ``None`` draws the classes equally often. The
        counts are exact (rounded by largest remainder), not random.
    noise : float, default=0.05
        Standard deviation of the Gaussian pixel noise as a fraction of the
        intensity range (0 for none).
    hairs : bool, default=True
        Draw up to six dark hairs across some images.
    vignetting : bool, default=True
        Darken the corners like a dermatoscope's round field of view.
    return_X_y : bool, default=True
        Return ``(X, y)``; if False, return a :class:`~sklearn.utils.Bunch`.
    return_masks : bool, default=False
        Also return where each lesion is: ``(X, y, masks)``, or ``masks`` in the
        Bunch. For checks where the truth must be known, such as saliency maps.
    {random_state}

    Returns
    -------
    X : ndarray of shape (n_samples, height, width, 3), dtype uint8
        The images (RGB).
    y : ndarray of shape (n_samples,), dtype str
        The class name of each image, in shuffled order.
    masks : ndarray of shape (n_samples, height, width), dtype bool
        With ``return_masks=True``: the pixels inside each lesion's outline
        (where the drawn lesion covers more than half of the skin).
    data : Bunch
        When ``return_X_y=False``: ``images``, ``target`` (class names),
        ``target_names`` (the classes in use), ``masks`` with
        ``return_masks=True``, and ``DESCR``.

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it and the valid range).

    Examples
    --------
    >>> from skinlesion.datasets import make_lesions
    >>> X, y = make_lesions(n_samples=30, image_size=32, random_state=0)
    >>> X.shape, X.dtype
    ((30, 32, 32, 3), dtype('uint8'))
    >>> sorted(set(y.tolist()))
    ['melanoma', 'nevus', 'seborrheic keratosis']
    >>> data = make_lesions(20, n_classes=2, weights=[0.8, 0.2], return_X_y=False)
    >>> [int((data.target == name).sum()) for name in data.target_names]
    [16, 4]
    >>> X, y, masks = make_lesions(4, image_size=32, return_masks=True, random_state=0)
    >>> masks.shape, masks.dtype, bool(masks[:, 16, 16].any())
    ((4, 32, 32), dtype('bool'), True)
    """
    n_samples, n_classes, w, noise = _check_args(n_samples, n_classes, weights, noise)
    flags = (
        ("hairs", hairs),
        ("vignetting", vignetting),
        ("return_X_y", return_X_y),
        ("return_masks", return_masks),
    )
    for name, flag in flags:
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {flag!r}.")
    size = as_size(image_size)
    assert size is not None
    height, width = size
    rng = check_generator(random_state)

    names = LESION_CLASSES[:n_classes]
    counts = _class_counts(n_samples, w)
    labels = rng.permutation(np.repeat(np.arange(n_classes), counts))
    n = n_samples
    f32 = np.float32

    def knob(key: str) -> np.ndarray:
        return np.array([_PROFILES[names[k]][key] for k in labels], dtype=f32).reshape(n, -1)

    def vary(key: str, rel: float) -> np.ndarray:
        mean = knob(key)[:, 0]
        return np.clip(mean * (1 + rel * rng.standard_normal(n)), 0, None).astype(f32)

    # Pixel grid in [-1, 1], aspect-corrected so that lesions stay round.
    scale = max(height, width)
    yy = ((np.arange(height) + 0.5) * 2 / scale - height / scale).astype(f32)[:, None]
    xx = ((np.arange(width) + 0.5) * 2 / scale - width / scale).astype(f32)[None, :]
    yy, xx = np.broadcast_arrays(yy, xx)
    yy4 = yy[None]
    xx4 = xx[None]

    # --- lesion outline: centre, rotation, elongation, harmonics ---------------
    radius = (vary("size", 0.25) * 0.9).clip(0.12, 0.95)
    cy = rng.uniform(-0.22, 0.22, n).astype(f32)
    cx = rng.uniform(-0.22, 0.22, n).astype(f32)
    theta = rng.uniform(0, 2 * np.pi, n).astype(f32)
    elong = vary("elong", 0.6)
    dy = yy4 - cy[:, None, None]
    dx = xx4 - cx[:, None, None]
    cos_t, sin_t = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    u = (dx * cos_t + dy * sin_t) / (1 + elong[:, None, None])
    v = (-dx * sin_t + dy * cos_t) * (1 + 0.3 * elong[:, None, None])
    dist = np.sqrt(u * u + v * v)
    # outline harmonics cos(k*phi + phase), by the Chebyshev recurrence on
    # (cos phi, sin phi) rather than trigonometric calls per pixel
    safe = np.maximum(dist, 1e-6)
    c1, s1 = u / safe, v / safe
    k = np.arange(1, 9, dtype=f32)
    amp = np.where(k <= 2, vary("lobe", 0.6)[:, None], vary("irreg", 0.6)[:, None])
    amp = amp * np.where(k <= 2, 1.0, 4.0 / k)[None, :]
    amp = (amp * rng.uniform(0.3, 1.0, (n, 8))).astype(f32)
    phase = rng.uniform(0, 2 * np.pi, (n, 8))
    a_cos = (amp * np.cos(phase)).astype(f32)[..., None, None]
    a_sin = (amp * np.sin(phase)).astype(f32)[..., None, None]
    wobble = np.zeros_like(dist)
    ck, sk = c1, s1
    for j in range(8):
        wobble += a_cos[:, j] * ck - a_sin[:, j] * sk
        ck, sk = ck * c1 - sk * s1, sk * c1 + ck * s1
    outline = radius[:, None, None] * (1 + wobble)
    soft = (vary("soft", 0.4) * radius + 0.5 / scale)[:, None, None]
    mask = 1 / (1 + np.exp(np.clip((dist - outline) / soft, -30, 30)))
    rel = np.clip(dist / np.maximum(outline, 1e-3), 0, 1.5)

    # --- colours -------------------------------------------------------------
    tone = rng.uniform(0, 1, n).astype(f32)[:, None]
    light_skin = np.array([0.94, 0.79, 0.70], dtype=f32)
    dark_skin = np.array([0.70, 0.50, 0.38], dtype=f32)
    skin = light_skin * (1 - tone) + dark_skin * tone
    skin = skin + rng.normal(0, 0.02, (n, 3)).astype(f32)
    skin_img = skin[:, None, None, :] * (
        1 + 0.04 * _smooth_noise(rng, (n,), 4, height, width)[..., None]
    )

    base = knob("base") + rng.normal(0, 0.025, (n, 3)).astype(f32)
    darkness = rng.uniform(0.75, 1.15, n).astype(f32)[:, None]
    base = base * darkness
    second = np.stack([knob("second")[:, 3 * s : 3 * s + 3] for s in range(3)], axis=1)
    varieg = vary("varieg", 0.5)
    patches = _smooth_noise(rng, (n, 3), 5, height, width)
    weight = np.clip(patches - 0.4, 0, None) * varieg[:, None, None, None]
    weight = weight * rng.uniform(0.4, 1.0, (n, 3, 1, 1)).astype(f32)
    total = weight.sum(axis=1, keepdims=True)
    weight = np.where(total > 1, weight / np.maximum(total, 1e-6), weight)
    lesion = base[:, None, None, :] * (1 - weight.sum(axis=1)[..., None])
    lesion = lesion + np.einsum("nshw,nsc->nhwc", weight, second)
    # darker centre, lighter rim (pigment density falls towards the border)
    lesion = lesion * (0.85 + 0.2 * np.clip(rel, 0, 1))[..., None]

    # dermatofibroma: white central patch
    centre_white = vary("centre_white", 0.3)
    white = np.array(_WHITE, dtype=f32)
    cw = centre_white[:, None, None] * np.clip(1.0 - rel / 0.55, 0, 1) ** 0.7
    lesion = lesion * (1 - cw[..., None]) + white * cw[..., None]

    # dots: milia-like cysts (white) and comedo-like openings (dark)
    fine = max(4, min(height, width) // 4)
    for key, colour in (("dots_white", _WHITE), ("dots_dark", _BLACK)):
        density = knob(key)[:, 0]
        if not density.any():
            continue
        field = _smooth_noise(rng, (n,), fine, height, width)
        thresh = np.where(density > 0, 2.6 - 12 * density, np.inf)[:, None, None]
        thresh = thresh + rng.normal(0, 0.15, (n, 1, 1)).astype(f32)
        spot = np.clip((field - thresh) * 3, 0, 1) * (rel < 0.9)
        lesion = lesion * (1 - spot[..., None]) + np.asarray(colour, f32) * spot[..., None]

    # vessels (red, thin, inside the lesion)
    n_vessels = np.minimum(rng.poisson(knob("vessels")[:, 0]), _MAX_VESSELS)
    if n_vessels.any():
        vessel = _curves(
            rng, n, _MAX_VESSELS, n_vessels, yy, xx, np.full(n, 1.2 / scale + 0.012, f32)
        )
        vessel = vessel * (rel < 0.95)
        red = np.array((0.70, 0.12, 0.14), dtype=f32)
        lesion = lesion * (1 - vessel[..., None]) + red * vessel[..., None]

    img = skin_img * (1 - mask[..., None]) + lesion * mask[..., None]

    # --- nuisances -----------------------------------------------------------
    if hairs:
        n_hairs = np.where(rng.uniform(size=n) < 0.6, rng.integers(1, _MAX_HAIRS + 1, n), 0)
        hair_width = rng.uniform(0.8, 1.6, n).astype(f32) / scale + 0.006
        hair = _curves(rng, n, _MAX_HAIRS, n_hairs, yy, xx, hair_width)
        hair_colour = rng.uniform(0.05, 0.25, (n, 1, 1, 1)).astype(f32)
        img = img * (1 - 0.9 * hair[..., None]) + hair_colour * 0.9 * hair[..., None]
    lighting = rng.uniform(0.85, 1.12, n).astype(f32)[:, None, None]
    lighting = lighting * (1 + 0.05 * _smooth_noise(rng, (n,), 2, height, width))
    img = img * lighting[..., None]
    if vignetting:
        r2 = yy4**2 + xx4**2
        strength = rng.uniform(0.1, 0.45, n).astype(f32)[:, None, None]
        field = np.clip(1 - strength * r2**2, 0.0, 1.0)
        edge = rng.uniform(1.05, 1.5, n).astype(f32)[:, None, None]
        field = field * np.clip((edge - np.sqrt(r2)) * scale / 3, 0.05, 1.0)
        img = img * field[..., None]
    if noise > 0:
        img = img + np.float32(noise) * rng.standard_normal(img.shape, dtype=f32)

    X = np.clip(np.rint(img * 255), 0, 255).astype(np.uint8)
    y = np.asarray(names, dtype=str)[labels]
    masks = mask > 0.5
    if return_X_y:
        return (X, y, masks) if return_masks else (X, y)
    extra = {"masks": masks} if return_masks else {}
    return Bunch(
        **extra,
        images=X,
        target=y,
        target_names=np.asarray(names, dtype=str),
        DESCR=DESCR.format(
            classes=", ".join(names),
            counts=", ".join(f"{name}: {c}" for name, c in zip(names, counts, strict=True)),
            size=f"{height} x {width} pixels, RGB uint8",
        ),
    )
