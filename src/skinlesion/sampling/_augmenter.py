"""Image augmentation with Augmentor's operations, as a sampler: :class:`~skinlesion.Augmenter`.

The operations are Augmentor's own (``Augmentor.Operations``), configured through
``Augmentor.Pipeline``'s methods so that Augmentor's own limits apply. Augmentor
draws from Python's global ``random`` module and NumPy's global RNG; here its
operations draw from generators seeded, image by image, from the Augmenter's
``random_state`` instead (stand-ins for the two modules are put into Augmentor's
module for the duration of a call), so results are repeatable, do not depend on
how many threads augment, and the caller's global random state is never read or
changed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real
from typing import Any

import numpy as np
from PIL import Image

from skinlesion._compat import Interval, StrOptions, augmentor_own_randomness, augmentor_seeded
from skinlesion._docstrings import Substitution, listed, random_state_doc
from skinlesion._random import check_random_state
from skinlesion.images import Size, as_size, read_images
from skinlesion.sampling._base import (
    NAMED_STRATEGIES,
    STRATEGY_NAMES,
    ImageSampler,
    class_counts,
    resample_indices,
    resolve_targets,
)

__all__ = ["OPERATIONS", "Augmenter"]

#: Names of the operations, in the order they are applied (keys for ``probability``).
OPERATIONS: tuple[str, ...] = (
    "rotate",
    "flip",
    "zoom",
    "crop",
    "distortion",
    "skew",
    "brightness",
    "contrast",
    "color",
)

_HINTS = {
    "rotate": "Augmentor's rotate crops the rotated image back to its size and allows at "
    "most 25 degrees; use rotate<=25",
    "zoom": "use a zoom between 0 and 1 (0.2 zooms in by up to 20 %)",
    "crop": "crop is the share of the image area cut away, between 0 and 0.9",
    "distortion": "distortion is a displacement in pixels and distortion_grid a number of "
    "grid cells of at least 1",
    "skew": "skew must lie in (0, 1]",
    "brightness": "brightness must lie in [0, 1] (factors 1-b to 1+b)",
    "contrast": "contrast must lie in [0, 1] (factors 1-c to 1+c)",
    "color": "color must lie in [0, 1] (factors 1-c to 1+c)",
}


@Substitution(
    named_strategies=listed(STRATEGY_NAMES),
    random_state=random_state_doc("every random draw", "the output"),
)
class Augmenter(ImageSampler):
    """Augment images with Augmentor's operations, at fit time only.

    Two uses:

    - ``sampling_strategy=None`` (default) perturbs the training images: each image
      is replaced by an augmented version (same number of images);
    - any other ``sampling_strategy`` grows classes with *new* augmented images
      (the originals are kept; every new image has at least one operation
      applied, so none is an exact copy). ``sampling_strategy=500`` brings every
      class to at least 500 images, the notebook recipe in one line::

          Augmenter(rotate=10, flip=True, zoom=0.2, sampling_strategy=500)

    Each enabled operation is applied independently with its probability, in the
    order of :data:`~skinlesion.augmentation.OPERATIONS`. As a step of
    :func:`skinlesion.make_pipeline` it only sees the training part of each
    cross-validation split; prediction and scoring pass images through untouched.

    Parameters
    ----------
    sampling_strategy : None, str, float, int, dict or callable, default=None
        ``None`` perturbs every image. Otherwise the class sizes to grow to: a
        name ({named_strategies}), a float ratio, a dict or a callable, with
        imbalanced-learn's over-sampling meanings (``"auto"``: every class to the
        size of the largest; a dict ``{class: n}``: those classes to ``n``), or an
        int: every class to at least that many images. Classes never shrink.
    rotate : int, default=0
        Largest rotation in degrees, either way (Augmentor's ``rotate``: the
        rotated image is cropped to its largest inner rectangle and resized back;
        at most 25). 0 disables it.
    flip : bool or {"horizontal", "vertical"}, default=False
        ``True`` flips left-right and top-bottom, each with the operation's
        probability (dermoscopy has no up or left); a string flips one way only.
    zoom : float, default=0.0
        Zoom in by a random factor between 1 and ``1 + zoom``, keeping the centre.
    crop : float, default=0.0
        Cut away this share of the area at a random place and resize back
        (Augmentor's ``zoom_random``); at most 0.9.
    distortion : int, default=0
        Random elastic distortion: largest displacement of the grid points, in pixels.
    distortion_grid : int, default=4
        Number of grid cells along each side for ``distortion``.
    skew : float, default=0.0
        Random perspective skew, in (0, 1] (Augmentor's ``skew``).
    brightness, contrast, color : float, default=0.0
        Random brightness / contrast / saturation factor between ``1 - value`` and
        ``1 + value``.
    probability : float or dict, default=0.5
        Probability that each enabled operation is applied to an image; a dict
        ``{operation: p}`` sets it per operation (others keep 0.5).
    image_size : int or (height, width), default=None
        Size at which a list of image paths is read. ``None`` keeps the files'
        size (they must all have the same). Arrays keep their own size.
    n_jobs : int, default=None
        Threads that augment images at once (``-1``: one per core). ``None`` means 1,
        which suits a grid search that already runs one process per core. The
        output does not depend on it.
    {random_state}

    Attributes
    ----------
    sampling_strategy_ : dict or None
        Class label -> number of images after augmentation (None when perturbing).
    sample_indices_ : ndarray of shape (n_output,)
        Input row that each output image comes from (the original or the
        image it was augmented from).

    Notes
    -----
    Output images have the input's size, dtype and channel order (channels-last
    RGB; a grayscale input stays grayscale, an alpha channel is dropped). A list of
    paths gives a ``uint8`` array, since new pixels are made; put Augmenter after
    :class:`~skinlesion.Rebalancer`, which keeps paths as paths.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion import Augmenter
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(6, 16, 16, 3), dtype=np.uint8)
    >>> y = np.array(["nevus"] * 4 + ["melanoma"] * 2)
    >>> augmenter = Augmenter(rotate=10, flip=True, zoom=0.2, sampling_strategy=5,
    ...                       random_state=0)
    >>> X_res, y_res = augmenter.fit_resample(X, y)
    >>> X_res.shape, X_res.dtype, sorted(np.unique(y_res, return_counts=True)[1])
    ((10, 16, 16, 3), dtype('uint8'), [np.int64(5), np.int64(5)])
    >>> y[augmenter.sample_indices_[6:]].tolist()  # classes of the images new ones come from
    ['melanoma', 'melanoma', 'melanoma', 'nevus']
    """

    _parameter_constraints: dict = {
        "sampling_strategy": [
            None,
            Interval(Real, 0, 1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            StrOptions(NAMED_STRATEGIES),
            dict,
            callable,
        ],
        "rotate": [Interval(Integral, 0, None, closed="left")],
        "flip": ["boolean", StrOptions({"horizontal", "vertical"})],
        "zoom": [Interval(Real, 0, None, closed="left")],
        "crop": [Interval(Real, 0, None, closed="left")],
        "distortion": [Interval(Integral, 0, None, closed="left")],
        "distortion_grid": [Interval(Integral, 1, None, closed="left")],
        "skew": [Interval(Real, 0, None, closed="left")],
        "brightness": [Interval(Real, 0, None, closed="left")],
        "contrast": [Interval(Real, 0, None, closed="left")],
        "color": [Interval(Real, 0, None, closed="left")],
        "probability": [Interval(Real, 0, 1, closed="both"), dict],
        "image_size": [None, Interval(Integral, 1, None, closed="left"), tuple],
        "n_jobs": [None, Integral],
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(
        self,
        sampling_strategy: str | float | int | dict[Any, int] | Any | None = None,
        *,
        rotate: int = 0,
        flip: bool | str = False,
        zoom: float = 0.0,
        crop: float = 0.0,
        distortion: int = 0,
        distortion_grid: int = 4,
        skew: float = 0.0,
        brightness: float = 0.0,
        contrast: float = 0.0,
        color: float = 0.0,
        probability: float | dict[str, float] = 0.5,
        image_size: Size | None = None,
        n_jobs: int | None = None,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.rotate = rotate
        self.flip = flip
        self.zoom = zoom
        self.crop = crop
        self.distortion = distortion
        self.distortion_grid = distortion_grid
        self.skew = skew
        self.brightness = brightness
        self.contrast = contrast
        self.color = color
        self.probability = probability
        self.image_size = image_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- configuration -------------------------------------------------------------

    def _probabilities(self) -> dict[str, float]:
        if not isinstance(self.probability, Mapping):
            return dict.fromkeys(OPERATIONS, float(self.probability))
        unknown = sorted(set(self.probability) - set(OPERATIONS))
        if unknown:
            raise ValueError(
                f"probability names unknown operation(s) {unknown}; the operations are "
                f"{list(OPERATIONS)}."
            )
        probabilities = dict.fromkeys(OPERATIONS, 0.5)
        for name, p in self.probability.items():
            if isinstance(p, bool) or not isinstance(p, Real) or not 0 <= p <= 1:
                raise ValueError(
                    f"probability[{name!r}]={p!r} is not a probability; give a number in [0, 1]."
                )
            probabilities[name] = float(p)
        return probabilities

    def _build_operations(self) -> list[tuple[str, Any, float]]:
        """Augmentor operations for the enabled parameters, checked by Augmentor itself.

        Returns ``(parameter, operation, probability)`` triples.
        """
        import Augmentor

        probabilities = self._probabilities()
        steps: list[tuple[str, Any]] = []
        if self.rotate:
            steps.append(("rotate", lambda p, q: p.rotate(q, self.rotate, self.rotate)))
        if self.flip in (True, "horizontal"):
            steps.append(("flip", lambda p, q: p.flip_left_right(q)))
        if self.flip in (True, "vertical"):
            steps.append(("flip", lambda p, q: p.flip_top_bottom(q)))
        if self.zoom:
            steps.append(("zoom", lambda p, q: p.zoom(q, 1.0, 1.0 + self.zoom)))
        if self.crop:
            steps.append(("crop", lambda p, q: p.zoom_random(q, round(1.0 - self.crop, 6))))
        if self.distortion:
            g = self.distortion_grid
            steps.append(("distortion", lambda p, q: p.random_distortion(q, g, g, self.distortion)))
        if self.skew:
            steps.append(("skew", lambda p, q: p.skew(q, self.skew)))
        if self.brightness:
            b = self.brightness
            steps.append(("brightness", lambda p, q: p.random_brightness(q, 1 - b, 1 + b)))
        if self.contrast:
            c = self.contrast
            steps.append(("contrast", lambda p, q: p.random_contrast(q, 1 - c, 1 + c)))
        if self.color:
            c = self.color
            steps.append(("color", lambda p, q: p.random_color(q, 1 - c, 1 + c)))

        operations = []
        for name, add in steps:
            q = probabilities[name]
            if q == 0:
                continue
            pipeline = Augmentor.Pipeline()
            try:
                add(pipeline, q)
            except ValueError as err:
                value = getattr(self, name)
                raise ValueError(
                    f"Augmenter({name}={value!r}) cannot be honoured by Augmentor "
                    f"{Augmentor.__version__}: {err} Fix: {_HINTS.get(name, '')}."
                ) from None
            operations.append((name, pipeline.operations[0], q))
        if not operations:
            raise ValueError(
                "Augmenter has no operation enabled, so it would only copy images. Enable at "
                "least one, e.g. Augmenter(rotate=10, flip=True, zoom=0.2), or use "
                "skinlesion.Rebalancer to repeat images."
            )
        return operations

    def _check_operations_run(self, operations: list[tuple[str, Any, float]], image: np.ndarray):
        """Run every operation once, so that a failure names its parameter at fit time."""
        import Augmentor
        import PIL

        h, w = image.shape[:2]
        if self.distortion and self.distortion_grid > min(h, w):
            raise ValueError(
                f"distortion_grid={self.distortion_grid} has more cells than the images have "
                f"pixels ({h}x{w}); use a distortion_grid of at most {min(h, w)}."
            )
        with (
            augmentor_own_randomness(),
            augmentor_seeded(0),
        ):  # does not consume the Augmenter's draws
            for name, operation, _ in operations:
                try:
                    out = operation.perform_operation([Image.fromarray(image)])[0]
                except Exception as err:
                    raise ValueError(
                        f"Augmentor {Augmentor.__version__}'s {type(operation).__name__} "
                        f"operation fails with Pillow {PIL.__version__} and NumPy "
                        f"{np.__version__} ({type(err).__name__}: {err}). Set {name} to its "
                        "default to leave it out."
                    ) from err
                if out.size != (w, h):
                    raise ValueError(
                        f"Augmentor's {type(operation).__name__} changed the image size from "
                        f"{w}x{h} to {out.size[0]}x{out.size[1]}; set {name} to its default "
                        "to leave it out."
                    )

    # -- resampling ----------------------------------------------------------------

    def _resolve_strategy(self, y: np.ndarray) -> dict[Any, int] | None:
        if self.sampling_strategy is None:
            return None
        return resolve_targets(self.sampling_strategy, y, "over")

    def _fit_resample(
        self, X_checked: np.ndarray, y_arr: np.ndarray, X_original: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        operations = self._build_operations()
        if X_checked.dtype == object:
            images = read_images(X_checked, size=as_size(self.image_size))
            original = images
        else:
            images = X_checked
            original = np.asarray(X_original)
            if original.shape[-1] == 4:  # alpha is dropped, as everywhere in skinlesion
                original = original[..., :3]
        self._check_operations_run(operations, images[0])
        rng = check_random_state(self.random_state)

        n = len(images)
        if self.sampling_strategy is None:
            self.sampling_strategy_ = None
            sources = np.arange(n)
            new = self._augment(images, sources, operations, rng, force=False)
            self.sample_indices_ = sources
            return _like(new, original), y_arr.copy()

        targets = self._resolve_strategy(y_arr)
        counts = class_counts(y_arr)
        grow = {c: t for c, t in targets.items() if t > counts[c]}
        self.sampling_strategy_ = targets
        if not grow:
            self.sample_indices_ = np.arange(n)
            return original.copy(), y_arr.copy()
        # the n originals first, then the images each new one is made from
        indices = resample_indices(y_arr, grow, rng)
        new = self._augment(images, indices[n:], operations, rng, force=True)
        self.sample_indices_ = indices
        X_out = np.concatenate([original, _like(new, original)])
        return X_out, y_arr[indices]

    def _augment(
        self,
        images: np.ndarray,
        sources: np.ndarray,
        operations: list[tuple[str, Any, float]],
        rng: np.random.RandomState,
        *,
        force: bool,
    ) -> np.ndarray:
        """Augmented copies of ``images[sources]`` (uint8 RGB)."""
        out = np.empty((len(sources), *images.shape[1:]), dtype=np.uint8)
        probabilities = np.array([q for _, _, q in operations])
        fire = rng.random_sample((len(sources), len(operations))) < probabilities
        if force:  # a new image must differ from its source: apply at least one operation
            idle = ~fire.any(axis=1)
            fire[idle, rng.randint(len(operations), size=int(idle.sum()))] = True
        seeds = rng.randint(np.iinfo(np.int32).max, size=len(sources))
        size = (images.shape[2], images.shape[1])

        def augment_one(row: int) -> None:
            with augmentor_seeded(int(seeds[row])):
                pil = [Image.fromarray(images[sources[row]])]
                for (_, operation, _), on in zip(operations, fire[row], strict=True):
                    if on:
                        pil = operation.perform_operation(pil)
            image = pil[0]
            if image.mode != "RGB":
                image = image.convert("RGB")
            if image.size != size:
                image = image.resize(size, Image.Resampling.BILINEAR)
            out[row] = np.asarray(image)

        n_threads = _n_threads(self.n_jobs, len(sources))
        with augmentor_own_randomness():
            if n_threads == 1:
                for row in range(len(sources)):
                    augment_one(row)
            else:  # Pillow releases the GIL while it transforms pixels
                with ThreadPoolExecutor(max_workers=n_threads) as pool:
                    list(pool.map(augment_one, range(len(sources))))
        return out


def _n_threads(n_jobs: int | None, n_tasks: int) -> int:
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        n_jobs = max((os.cpu_count() or 1) + 1 + n_jobs, 1)
    return max(1, min(n_jobs, n_tasks))


def _like(images: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Give uint8 RGB ``images`` the dtype and channel count of ``original``."""
    out: np.ndarray = images
    if original.shape[-1] == 1:
        out = out[..., :1]
    dtype = original.dtype
    if dtype == np.uint8:
        return out
    if dtype.kind == "f":
        return (out / 255.0).astype(dtype)
    if dtype.kind == "b":
        return out >= 128
    if dtype == np.uint16:
        return out.astype(np.uint16) * 257
    return out.astype(dtype)
