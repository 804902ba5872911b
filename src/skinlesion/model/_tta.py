"""Test-time augmentation: the flipped and transposed views ``predict_proba`` averages."""

from __future__ import annotations

from typing import Any

from skinlesion._hints import fix

__all__ = ["check_tta", "tta_model"]


def check_tta(tta: Any, size: tuple[int, int]) -> None:
    if tta not in (1, 2, 4, 8) or isinstance(tta, bool):
        raise ValueError(f"tta must be 1, 2, 4 or 8 views, got {tta!r}.")
    if tta == 8 and size[0] != size[1]:
        raise ValueError(
            f"tta=8 needs square images (its last four views are transposed), but the network "
            f"takes {size[0]}x{size[1]} images: "
            + fix("use tta=4, or a square image_size.", cli="use --tta 4.")
        )


def tta_model(model: Any, n_views: int) -> Any:
    """``model`` averaged over ``n_views`` flips/transposes of its input (shared weights)."""
    import keras
    from keras import ops

    inputs = keras.Input(shape=model.input_shape[1:], dtype=model.inputs[0].dtype)
    views = [inputs, ops.flip(inputs, axis=2), ops.flip(inputs, axis=1)]
    views.append(ops.flip(views[1], axis=1))
    transposed = ops.transpose(inputs, (0, 2, 1, 3))
    views += [transposed, ops.flip(transposed, axis=1), ops.flip(transposed, axis=2)]
    views.append(ops.flip(views[-2], axis=2))
    outputs = keras.layers.Average(dtype="float32")([model(v) for v in views[:n_views]])
    return keras.Model(inputs, outputs, name=f"{model.name}_tta{n_views}")
