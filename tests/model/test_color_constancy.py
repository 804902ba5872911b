"""Shades-of-grey colour constancy: the layer and the network. The classifier's
``color_constancy`` parameter is tested in test_classifier.py."""

from __future__ import annotations

import numpy as np
import pytest

from skinlesion import build_cnn


def shades_of_gray(images, power=6.0):
    from skinlesion.model._layers import ShadesOfGray

    return np.asarray(ShadesOfGray(power)(np.asarray(images, dtype="float32")))


@pytest.fixture(scope="module")
def neutral():
    """Four grey-ish images (channels differ per pixel, not on average), in [0.05, 0.55]."""
    rng = np.random.default_rng(0)
    grey = rng.uniform(0.1, 0.5, size=(4, 12, 12, 1))
    wiggle = rng.uniform(-0.05, 0.05, size=(4, 12, 12, 3))
    return np.clip(grey + wiggle, 0.0, 1.0).astype("float32")


def test_a_grey_image_is_left_unchanged():
    grey = np.repeat(np.linspace(0.0, 0.8, 64, dtype="float32").reshape(1, 8, 8, 1), 3, axis=-1)
    np.testing.assert_allclose(shades_of_gray(grey), grey, atol=1e-5)


@pytest.mark.parametrize("power", [1.0, 6.0])
def test_a_colour_cast_is_divided_out(neutral, power):
    cast = neutral * np.array([1.0, 0.75, 0.5], dtype="float32")  # a yellowish light
    before = cast.mean(axis=(1, 2))
    out = shades_of_gray(cast, power)
    after = out.mean(axis=(1, 2))
    # the cast image's channel means differ by a factor of about 2; corrected, by < 10 %
    assert (before.max(axis=1) / before.min(axis=1)).min() > 1.9
    assert (after.max(axis=1) / after.min(axis=1)).max() < 1.1
    # and the corrected cast image is the corrected neutral one, up to one brightness
    # factor per image: the cast changed the colours, not the lesion
    ratio = out / shades_of_gray(neutral, power)
    per_image = np.broadcast_to(ratio.mean(axis=(1, 2, 3), keepdims=True), ratio.shape)
    np.testing.assert_allclose(ratio, per_image, rtol=1e-4)


def test_black_images_and_empty_channels_stay_finite():
    black = np.zeros((1, 4, 4, 3), dtype="float32")
    red = np.zeros((1, 4, 4, 3), dtype="float32")
    red[..., 0] = 0.6
    out = shades_of_gray(np.concatenate([black, red]))
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(out[0], 0.0)
    np.testing.assert_array_equal(out[1, ..., 1:], 0.0)


def test_the_network_corrects_colours_first_only_when_asked():
    plain = build_cnn((16, 16, 3), 3, filters=(4,), seed=0)
    corrected = build_cnn((16, 16, 3), 3, filters=(4,), color_constancy=6, seed=0)
    names = [layer.name for layer in corrected.layers]
    assert "color_constancy" not in [layer.name for layer in plain.layers]
    assert names.index("color_constancy") == names.index("rescale") + 1
    assert corrected.get_layer("color_constancy").power == 6.0
    with pytest.raises(ValueError, match=r"color_constancy must be a Minkowski power >= 1"):
        build_cnn((16, 16, 3), 3, filters=(4,), color_constancy=0.5)
