"""The samplers: image steps that run at fit time only, inside a pipeline.

Everything here is private; the public names live at :mod:`skinlesion`
(``Rebalancer``, ``Augmenter``), :mod:`skinlesion.resampling` and
:mod:`skinlesion.augmentation`. The modules:

- ``_base``: what both share (label checks, ``sampling_strategy`` into target
  counts, index resampling, the guard against a plain scikit-learn ``Pipeline``);
- ``_rebalancer``: :class:`~skinlesion.Rebalancer` (repeats or drops images);
- ``_augmenter``: :class:`~skinlesion.Augmenter` (Augmentor's operations).

Importing this package imports nothing else, so ``import skinlesion`` stays light.
"""
