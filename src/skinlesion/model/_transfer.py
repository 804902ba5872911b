"""What ``LesionClassifier(init=...)`` starts from: the source network and its trunk.

``init`` may be a fitted classifier (bare, in a pipeline, or wrapped in
scikit-learn's ``FrozenEstimator`` so that ``clone`` keeps it fitted), the path
of a model file (``.skl``) or of a Keras model file (``.keras``), or a Keras
model. This module turns any of these into the Keras network whose trunk is
copied, checks that trunk against the estimator's own architecture parameters,
and says which architecture the new network is built with.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from skinlesion._hints import fix
from skinlesion.model._network import DEFAULT_FILTERS, resolve_convs_per_block
from skinlesion.model._persistence import _model_from_bytes, read_model
from skinlesion.model._trunk import trunk_spec

__all__ = [
    "TRUNK_PARAMS",
    "phase_callbacks",
    "resolve_architecture",
    "source_network",
    "trunk_source",
]

#: The estimator parameters that shape the trunk. With ``init``, those left at
#: their defaults follow init's trunk; those set otherwise must agree with it.
TRUNK_PARAMS = ("backbone", "filters", "kernel_size", "convs_per_block", "batch_norm", "block")
_DEFAULTS: dict[str, Any] = {
    "backbone": None,
    "filters": tuple(DEFAULT_FILTERS),
    "kernel_size": 3,
    "convs_per_block": 1,
    "batch_norm": True,
    "block": "plain",
}

_UNFITTED = (
    "init is an unfitted LesionClassifier. scikit-learn's clone (which GridSearchCV, "
    "cross_val_score and pipelines call) turns a fitted estimator passed as a parameter "
    "into an unfitted copy; keep it fitted by wrapping it, init=FrozenEstimator(clf) "
    "(from sklearn.frozen import FrozenEstimator), or save it and pass the file: "
    "clf.save('base.skl'); init='base.skl'."
)


def trunk_source(params: dict[str, Any], estimator_class: type) -> tuple[Any, dict[str, Any]]:
    """The network whose trunk ``init`` gives (or None), and the architecture to build.

    ``params`` are the estimator's own (``get_params(deep=False)``); without
    ``init`` the architecture is theirs, with it :func:`resolve_architecture`'s.
    """
    architecture = {name: params[name] for name in TRUNK_PARAMS}
    architecture["filters"] = tuple(architecture["filters"])
    if params["init"] is None:
        return None, architecture
    if params["backbone_weights"] is not None:
        raise ValueError(
            f"init and backbone_weights={params['backbone_weights']!r} both give the trunk's "
            "weights; pass one of them (init=None to start from backbone_weights)."
        )
    network, where = source_network(params["init"], estimator_class)
    return network, resolve_architecture(params, network, where)


def source_network(init: Any, estimator_class: type) -> tuple[Any, str]:
    """The Keras network that ``init`` stands for, and the words naming it in errors.

    ``estimator_class`` is :class:`~skinlesion.LesionClassifier`, passed in so that
    this module does not import the estimator's (which imports this one).
    """
    if isinstance(init, str) and init == "imagenet":
        raise ValueError(
            "init='imagenet': ImageNet weights belong to a Keras application's trunk; pass "
            "backbone= (e.g. 'EfficientNetV2B0') with backbone_weights='imagenet' instead."
        )
    if isinstance(init, (str, os.PathLike)):
        path = Path(init)
        return _network_from_file(path, estimator_class), f"init={os.fspath(init)!r}"
    estimator = init
    frozen = _frozen_estimator_type()
    if frozen is not None and isinstance(estimator, frozen):
        estimator = estimator.estimator
    if hasattr(estimator, "steps"):  # a pipeline: its classifier is its last step
        estimator = estimator.steps[-1][1]
    if isinstance(estimator, estimator_class):
        if not hasattr(estimator, "model_"):
            raise ValueError(_UNFITTED)
        return estimator.model_, "init (a fitted LesionClassifier)"
    import keras

    if isinstance(init, keras.Model):
        return init, f"init (the Keras model {init.name!r})"
    raise ValueError(
        f"init must be None, a fitted LesionClassifier (wrapped in FrozenEstimator to "
        f"survive clone), the path of a model file (.skl) or of a Keras model file "
        f"(.keras), or a Keras model; got {type(init).__name__}."
    )


def _frozen_estimator_type() -> type | None:
    try:
        from sklearn.frozen import FrozenEstimator
    except ImportError:  # scikit-learn < 1.6
        return None
    return FrozenEstimator


def _network_from_file(path: Path, estimator_class: type) -> Any:
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"init file {str(path)!r} {what}; pass a model file written by "
            "LesionClassifier.save or `skinlesion train` (.skl), or a Keras model file "
            "(.keras)."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        names = set()
    if "skinlesion.json" in names:
        return read_model(path, estimator_class).model_
    if "config.json" in names:  # a Keras v3 model file
        try:
            return _model_from_bytes(path.read_bytes())
        except Exception as err:
            raise ValueError(
                f"init {str(path)!r} cannot be read as a Keras model file ({type(err).__name__}:"
                f" {' '.join(str(err).split())[:300]})."
            ) from None
    raise ValueError(
        f"init {str(path)!r} is neither a skinlesion model file (.skl, written by "
        "LesionClassifier.save) nor a Keras model file (.keras). A weights file of a Keras "
        "application goes to "
        + fix("backbone_weights= (with backbone=)", cli="--backbone-weights (with --backbone)")
        + " instead."
    )


def resolve_architecture(params: dict[str, Any], network: Any, where: str) -> dict[str, Any]:
    """The trunk architecture to build, checked against ``network``'s trunk.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params(deep=False)``).
    network : keras.Model
        The network ``init`` stands for.
    where : str
        How to name ``init`` in errors.

    Returns
    -------
    architecture : dict
        ``backbone``, ``filters``, ``kernel_size``, ``convs_per_block``,
        ``batch_norm`` and ``block`` for :func:`skinlesion.build_cnn`: those of
        ``network``'s trunk.
    """
    spec = trunk_spec(network)
    if spec["channels"] != 3:
        raise ValueError(
            f"{where} takes {spec['channels']}-channel images, but LesionClassifier feeds its "
            "network RGB images (3 channels; grayscale and RGBA images are converted when "
            "read), so its trunk cannot be reused: pretrain it on RGB images."
        )
    differences = []
    if params["backbone"] is not None and params["backbone"] != spec["backbone"]:
        theirs = "the custom CNN" if spec["backbone"] is None else repr(spec["backbone"])
        differences.append(f"backbone={params['backbone']!r}, but init's trunk is {theirs}")
    if spec["backbone"] is None and params["backbone"] is None:
        for key in TRUNK_PARAMS[1:]:
            mine = params[key]
            if _same(key, mine, _DEFAULTS[key], spec):
                continue  # left at its default: follows init
            if not _same(key, mine, spec[key], spec):
                differences.append(f"{key}={_show(mine)}, but init's trunk has {_show(spec[key])}")
    if differences:
        raise ValueError(
            f"the trunk of {where} does not match this LesionClassifier: "
            f"{'; '.join(differences)}. "
            + fix(
                "Leave these parameters at their defaults (the trunk's architecture then comes "
                "from init) or set them to init's values.",
                cli="Leave out --filters and --backbone (the trunk's architecture then comes "
                "from --init) or give --init's values.",
            )
        )
    architecture = {key: params[key] for key in TRUNK_PARAMS}
    architecture["backbone"] = spec["backbone"]
    if spec["backbone"] is None:
        for key in TRUNK_PARAMS[1:]:
            architecture[key] = spec[key]
    return architecture


def _same(key: str, value: Any, other: Any, spec: dict[str, Any]) -> bool:
    if key == "filters":
        try:
            return tuple(int(v) for v in value) == tuple(int(v) for v in other)
        except (TypeError, ValueError):
            return False
    if key == "convs_per_block":
        n_blocks = len(spec["filters"])
        try:
            return resolve_convs_per_block(value, n_blocks) == resolve_convs_per_block(
                other, n_blocks
            )
        except ValueError:
            return value == other
    return bool(value == other)


def _show(value: Any) -> str:
    return repr(tuple(value) if isinstance(value, list) else value)


_HOOKS = (
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_begin",
    "on_train_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


def phase_callbacks(callbacks: list[Any], *, skip: str) -> list[Any]:
    """Wrap Keras ``callbacks`` so that they do not hear the hook ``skip``.

    A warmup trains in two ``model.fit`` calls; the user's callbacks (such as a
    progress display) should see one run: the first call's ``on_train_end`` and
    the second call's ``on_train_begin`` are kept from them.
    """
    import keras

    class _Phase(keras.callbacks.Callback):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def set_params(self, params: Any) -> None:
            super().set_params(params)
            self.inner.set_params(params)

        def set_model(self, model: Any) -> None:
            super().set_model(model)
            self.inner.set_model(model)

    def forward(hook: str) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return getattr(self.inner, hook)(*args, **kwargs)

        return method

    for hook in _HOOKS:
        if hook != skip:
            setattr(_Phase, hook, forward(hook))
    setattr(_Phase, skip, lambda self, *args, **kwargs: None)
    return [_Phase(callback) for callback in callbacks]
