"""The model: the estimator, its network, its input pipeline and its files.

Everything here is private; the public names live at :mod:`skinlesion`
(``LesionClassifier``, ``load_model``, ``build_cnn``), :mod:`skinlesion.network` and
:mod:`skinlesion.backbones`. The modules, from the bottom up:

- ``_layers``, ``_backbones``, ``_network``: the Keras network as a function of its
  hyperparameters (trunk and head); ``_trunk``: reading, copying and freezing a trunk;
- ``_tfdata``: the ``tf.data`` input; ``_hardware``: precision, XLA, ``tf.distribute``;
- ``_transfer``: what ``init=`` starts from;
- ``_training``, ``_prediction``, ``_persistence``: the estimator's mixins (the steps of
  ``fit``; ``predict*``; ``save``, pickling and model files);
- ``_classifier``: :class:`~skinlesion.LesionClassifier`, its parameters and ``fit``.

Importing this package imports nothing else, so ``import skinlesion`` stays light.
"""
