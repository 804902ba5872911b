"""Model files: what ``LesionClassifier.save`` writes and ``load_model`` reads.

A model file is a ZIP archive of ``skinlesion.json`` (format, parameters, fitted
attributes) and ``model.keras`` (the network in Keras' own format). This module
writes and checks it; it does not know the estimator class, which the caller
passes in, so that it sits below :mod:`skinlesion.model._classifier` (no import
cycle). :class:`PersistenceMixin` gives the estimator ``save``, and pickling,
which holds the network as the same bytes.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skinlesion._files import TMP_PREFIX, TMP_SUFFIX, check_writable, remove_stale_temporaries
from skinlesion._tf import import_tf
from skinlesion._version import __version__

__all__ = ["MODEL_FORMAT", "PersistenceMixin", "read_model", "write_model"]

#: Name written into every model file, checked when loading one.
MODEL_FORMAT = "skinlesion-model"
_FORMAT_VERSION = 1


class PersistenceMixin:
    """Model files, pickling and cloning of :class:`~skinlesion.LesionClassifier`.

    ``save`` writes a model file (:func:`write_model`); pickles hold the network
    as the same bytes. A ``tf.distribute.Strategy`` given as ``distribute`` is
    shared by a clone and refused by pickle.
    """

    def __sklearn_clone__(self) -> Any:
        """An unfitted copy with the same parameters; a strategy object is shared, not copied.

        A ``tf.distribute.Strategy`` stands for devices of this process (and
        TensorFlow allows one multi-worker strategy per process), so the clone
        gets the same object, as the clones of ``GridSearchCV`` should.
        """
        strategy = self.distribute
        if not is_strategy_object(strategy):
            return super().__sklearn_clone__()
        view = object.__new__(type(self))  # self without the strategy, nothing copied
        view.__dict__.update(self.__dict__)
        view.distribute = None
        new = super(PersistenceMixin, view).__sklearn_clone__()
        new.distribute = strategy
        return new

    def __getstate__(self) -> dict[str, Any]:
        if is_strategy_object(self.distribute):
            raise TypeError(
                f"a LesionClassifier with distribute={type(self.distribute).__name__}(...) "
                "cannot be pickled: a tf.distribute.Strategy belongs to the devices of the "
                "process that made it. Pass distribute='mirrored', a list of devices or "
                "'multi_worker' instead (those pickle, and make their strategy in the process "
                "that fits), or call set_params(distribute=None) before pickling (a fitted "
                "classifier predicts without it); save() stores distribute=None by itself."
            )
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            state["model_"] = _model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("model_"), bytes):
            state = dict(state)
            state["model_"] = _model_from_bytes(state["model_"])
        super().__setstate__(state)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted classifier to one file (see :func:`load_model`).

        The file is a ZIP archive holding ``skinlesion.json`` (format name and
        version, the skinlesion version, the parameters, ``classes_``,
        ``history_``, ``validation_indices_``, ``class_counts_``, ``fit_time_``)
        and ``model.keras`` (the network in Keras' own format). It is written to
        a temporary name and renamed, so an interrupted save never leaves a
        half-written file under ``path``; the
        hidden temporary file a killed save leaves behind
        (``.skinlesion-XXXXXXXX.tmp``) is removed by the next save into the same
        folder, once it is 15 minutes old.

        ``init`` is kept in the file when it is a path (as given, so a relative
        path is read from the current directory when the loaded classifier is
        fitted again). A fitted estimator or Keras model given as ``init`` is not
        written (the file holds no Python objects; the fitted network already
        holds the trunk it gave): the loaded classifier has ``init=None``, and
        ``skinlesion.json`` names what it was under ``init_source``.

        Parameters
        ----------
        path : str or path-like
            Destination file (conventionally ending in ``.skl``).

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        OSError
            Before anything is written, when ``path`` is a folder, its folder
            does not exist or does not accept new files.

        Examples
        --------
        >>> import os, tempfile
        >>> from skinlesion import LesionClassifier, load_model
        >>> from skinlesion.datasets import make_lesions
        >>> X, y = make_lesions(n_samples=40, image_size=16, random_state=0)
        >>> clf = LesionClassifier(image_size=16, filters=(4,), epochs=1, random_state=0).fit(X, y)
        >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "model.skl"))
        >>> (load_model(path).predict(X) == clf.predict(X)).all()
        np.True_
        """
        check_is_fitted(self, "model_")
        return write_model(self, path)


def write_model(estimator: Any, path: str | os.PathLike[str]) -> Path:
    """Write the fitted ``estimator`` to ``path`` (see ``LesionClassifier.save``)."""

    path = check_writable(path, "path")
    remove_stale_temporaries(path.parent)  # left by saves that were killed
    params, init_source = _params_for_file(estimator.get_params(deep=False))
    meta = {
        "format": MODEL_FORMAT,
        "format_version": _FORMAT_VERSION,
        "skinlesion_version": __version__,
        "params": _jsonable_params(params),
        "classes": _encode_classes(estimator.classes_),
        "history": estimator.history_,
        "n_epochs": estimator.n_epochs_,
        "best_epoch": estimator.best_epoch_,
        "input_shape": list(estimator.input_shape_),
        "validation_indices": estimator.validation_indices_.tolist(),
        "fit_time": getattr(estimator, "fit_time_", None),
    }
    counts = getattr(estimator, "class_counts_", None)
    if counts is not None:  # in the order of classes_, so any class name fits JSON
        meta["class_counts"] = [int(counts[c]) for c in estimator.classes_.tolist()]
    if init_source is not None:
        meta["init_source"] = init_source
    model_bytes = _model_to_bytes(estimator.model_)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("skinlesion.json", json.dumps(meta, indent=2))
            archive.writestr("model.keras", model_bytes)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_model(path: str | os.PathLike[str], estimator_class: type) -> Any:
    """The fitted ``estimator_class`` instance in model file ``path`` (see ``load_model``)."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {name!r} does not exist; check the path.")
    if path.is_dir():
        raise IsADirectoryError(
            f"model file {name!r} is a folder; give the file written by LesionClassifier.save "
            "or `skinlesion train` (such as model.skl)."
        )
    not_ours = (
        f"{name!r} is not a skinlesion model file (expected a file written by "
        "LesionClassifier.save or `skinlesion train`)."
    )

    def damaged(problem: str) -> ValueError:
        return ValueError(
            f"model file {name!r} is damaged or was edited: {problem}. Load a copy of the "
            "file as LesionClassifier.save wrote it, or train and save the model again."
        )

    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if "skinlesion.json" not in members:
                raise ValueError(not_ours)
            try:
                meta = json.loads(archive.read("skinlesion.json"))
            except (zipfile.BadZipFile, ValueError, zlib.error, EOFError) as err:
                raise damaged(f"its skinlesion.json cannot be read ({err})") from None
            model_bytes = None
            if "model.keras" in members:
                try:
                    model_bytes = archive.read("model.keras")
                except (zipfile.BadZipFile, ValueError, zlib.error, EOFError) as err:
                    raise damaged(f"its network (model.keras) cannot be read ({err})") from None
    except (zipfile.BadZipFile, EOFError):
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":  # a ZIP archive, cut short or corrupt
                raise ValueError(
                    f"{name!r} is not a skinlesion model file that can be read: it starts "
                    "like a ZIP archive but is truncated or corrupt (a copy cut short?). Copy "
                    "the file again, or train and save the model again."
                ) from None
        raise ValueError(not_ours) from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ValueError(not_ours)
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise damaged(f"its format_version is {version!r}, not a whole number from 1")
    if version > _FORMAT_VERSION:
        raise ValueError(
            f"{name!r} was written by a newer skinlesion "
            f"({meta.get('skinlesion_version')}) in model format {version}; this one reads "
            f"format {_FORMAT_VERSION}: upgrade skinlesion to load it."
        )
    clf = _classifier_from_meta(meta, damaged, name, estimator_class)
    if model_bytes is None:
        raise damaged("it holds no network (model.keras)")
    if not zipfile.is_zipfile(io.BytesIO(model_bytes)):
        raise damaged("its network (model.keras) is not a Keras archive (truncated or overwritten)")
    try:
        clf.model_ = _model_from_bytes(model_bytes)
    except Exception as err:  # Keras raises many kinds for a damaged archive
        reason = " ".join(str(err).split()) or type(err).__name__
        if "safe_mode" in reason:
            raise ValueError(
                f"model file {name!r} holds Python code in its network (a Lambda layer or "
                "a function), which skinlesion never loads: it was not written by "
                "LesionClassifier.save. Do not use a model file from an untrusted source."
            ) from None
        reason = re.sub(r"\S*model\.keras", "model.keras", reason)  # no temporary paths
        raise damaged(f"its network (model.keras) cannot be loaded ({reason[:300]})") from None
    n_outputs = clf.model_.output_shape[-1]
    if n_outputs != len(clf.classes_):
        raise damaged(
            f"its network predicts {n_outputs} classes but it lists {len(clf.classes_)} "
            f"class names ({clf.classes_.tolist()})"
        )
    counts = clf.class_counts_
    if counts is not None:
        if len(counts) != len(clf.classes_):
            raise damaged(
                f"its class_counts hold {len(counts)} numbers for {len(clf.classes_)} classes"
            )
        clf.class_counts_ = dict(zip(clf.classes_.tolist(), counts, strict=True))
    if tuple(clf.model_.input_shape[1:]) != clf.input_shape_:
        raise damaged(
            f"its network takes images of shape {tuple(clf.model_.input_shape[1:])} but it "
            f"records input_shape {clf.input_shape_}"
        )
    return clf


def _classifier_from_meta(
    meta: dict[str, Any], damaged: Any, name: str, estimator_class: type
) -> Any:
    """The unfitted-network part of a model file: parameters and fitted attributes."""
    for key in ("params", "classes", "history", "n_epochs", "best_epoch", "input_shape"):
        if key not in meta:
            raise damaged(f"it has no {key!r} entry")
    params = meta["params"]
    if not isinstance(params, dict):
        raise damaged(f"its 'params' entry is a {type(params).__name__}, not a mapping")
    known = set(estimator_class().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        written_by = meta.get("skinlesion_version")
        fix = (
            "the file was edited: remove them, or load an unedited copy"
            if written_by == __version__
            else f"it was written by skinlesion {written_by}: upgrade skinlesion to load it"
        )
        raise ValueError(
            f"model file {name!r} sets parameter(s) {unknown} that this skinlesion "
            f"({__version__}) does not know; {fix}."
        )
    params = dict(params)
    for key in ("filters", "convs_per_block", "dense_units", "image_size"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    clf = estimator_class(**params)
    try:
        clf._validate_params()
        clf._check_architecture()
    except ValueError as err:
        raise damaged(f"its parameters are invalid ({' '.join(str(err).split())})") from None
    try:
        classes = _decode_classes(meta["classes"])
    except (TypeError, ValueError, KeyError) as err:
        raise damaged(f"its class names cannot be read ({err!r})") from None
    if classes.ndim != 1 or len(classes) < 2 or len(set(classes.tolist())) != len(classes):
        raise damaged(f"its class names {meta['classes'].get('values')!r} are not 2 or more names")
    history = meta["history"]
    if not isinstance(history, dict) or not all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
        for v in history.values()
    ):
        raise damaged("its training history is not a mapping of lists of numbers")
    shape = meta["input_shape"]
    if (
        not isinstance(shape, list)
        or len(shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
        or shape[2] != 3
    ):
        raise damaged(f"its input_shape {shape!r} is not [height, width, 3]")
    for key in ("n_epochs", "best_epoch"):
        value = meta[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise damaged(f"its {key} is {value!r}, not a whole number")
    clf.classes_ = classes
    clf.history_ = history
    clf.n_epochs_ = int(meta["n_epochs"])
    clf.best_epoch_ = int(meta["best_epoch"])
    clf.input_shape_ = tuple(shape)
    if "validation_indices" in meta:  # absent from files saved by earlier versions
        rows = meta["validation_indices"]
        if not isinstance(rows, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in rows
        ):
            raise damaged("its validation_indices are not a list of row numbers")
        clf.validation_indices_ = np.asarray(rows, dtype=np.intp)
    # fit_time and class_counts are absent from files saved by earlier versions: None
    fit_time = meta.get("fit_time")
    if fit_time is not None and (
        not isinstance(fit_time, (int, float)) or isinstance(fit_time, bool) or fit_time < 0
    ):
        raise damaged(f"its fit_time is {fit_time!r}, not a number of seconds")
    clf.fit_time_ = None if fit_time is None else float(fit_time)
    counts = meta.get("class_counts")
    if counts is not None and (
        not isinstance(counts, list)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counts)
    ):
        raise damaged("its class_counts are not whole numbers of images")
    # a list until the reader has checked the class names against the network's outputs
    clf.class_counts_ = counts
    return clf


def _params_for_file(params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``params`` with paths as strings and an in-memory ``init`` replaced by None.

    Returns the parameters and, when ``init`` was dropped, a description of it.
    """
    params = dict(params)
    for key in ("init", "backbone_weights"):
        if isinstance(params.get(key), os.PathLike):
            params[key] = os.fspath(params[key])
    if is_strategy_object(params.get("distribute")):
        params["distribute"] = None  # a strategy object: hardware of the fit, not of the model
    init = params.get("init")
    if init is None or isinstance(init, str):
        return params, None
    params["init"] = None
    inner = getattr(init, "estimator", None)
    name = type(init).__name__
    if inner is not None:
        name = f"{name}({type(inner).__name__})"
    return params, f"{name}, not stored (the fitted network holds its trunk)"


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, np.random.RandomState):
            value = None
        elif isinstance(value, Mapping):
            value = dict(value)
        try:
            json.dumps(value)
        except TypeError:
            raise ValueError(
                f"parameter {key}={value!r} cannot be saved in a model file; use plain "
                "ints, floats, strings, tuples and dicts, or pickle the estimator instead."
            ) from None
        out[key] = value
    return out


def _encode_classes(classes: np.ndarray) -> dict[str, Any]:
    values = classes.tolist()
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise ValueError(
            "class labels other than strings and numbers cannot be saved in a model file; "
            "pickle the estimator instead (joblib.dump)."
        )
    return {"dtype": classes.dtype.str, "values": values}


def _decode_classes(encoded: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(encoded["dtype"])
    if dtype.kind == "O":
        out = np.empty(len(encoded["values"]), dtype=object)
        out[:] = encoded["values"]
        return out
    return np.asarray(encoded["values"], dtype=dtype)


def is_strategy_object(distribute: Any) -> bool:
    """Whether ``distribute`` is a strategy object rather than None, a name or devices."""
    return distribute is not None and not isinstance(distribute, (str, list, tuple))


def _model_to_bytes(model: Any) -> bytes:
    import_tf()
    with tempfile.TemporaryDirectory() as folder:
        file = os.path.join(folder, "model.keras")
        model.save(file)
        return Path(file).read_bytes()


def _model_from_bytes(data: bytes) -> Any:
    import_tf()
    import keras

    import skinlesion.model._layers  # noqa: F401  (registers the network's own layers)

    # Keras' safe mode refuses Python code (Lambda layers) in a model file, even
    # after a process-wide keras.config.enable_unsafe_deserialization().
    from skinlesion._compat import keras_safe_mode

    with tempfile.TemporaryDirectory() as folder:
        file = os.path.join(folder, "model.keras")
        with open(file, "wb") as handle:
            handle.write(data)
        with keras_safe_mode():
            return keras.saving.load_model(file, compile=False, safe_mode=True)
