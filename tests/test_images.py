"""skinlesion.images: the one place where images enter the library."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from skinlesion.images import (
    ImageReadError,
    as_size,
    check_images,
    is_path_array,
    list_image_files,
    read_image,
    read_images,
    resize_images,
    to_rgb_uint8,
)


def test_exif_orientation_is_honoured(tmp_path):
    pixels = np.zeros((10, 30, 3), np.uint8)
    pixels[:, :5] = 255  # a white band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    image = read_image(path)
    assert image.shape == (30, 10, 3)  # displayed upright: tall, not wide
    assert image[:5].mean() > 200  # the band is now on top


@pytest.mark.parametrize(
    ("mode", "array"),
    [
        ("L", np.full((6, 8), 128, np.uint8)),
        ("I;16", np.full((6, 8), 128 * 257, np.uint16)),
        ("RGBA", np.full((6, 8, 4), 128, np.uint8)),
        ("P", None),
    ],
)
def test_any_mode_becomes_8_bit_rgb(tmp_path, mode, array):
    path = tmp_path / "image.png"
    if mode == "P":
        Image.new("P", (8, 6), color=3).save(path)
    else:
        Image.fromarray(array).save(path)
    image = read_image(path)
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8
    if array is not None:
        assert np.all(image == 128)


def test_jpeg_draft_mode_gives_the_requested_size(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (400, 600, 3), np.uint8)).save(path)
    assert read_image(path, size=(50, 75)).shape == (50, 75, 3)
    assert read_image(path, size=64).shape == (64, 64, 3)


def test_unreadable_files_are_named(tmp_path):
    (tmp_path / "text.jpg").write_text("not an image")
    good = tmp_path / "good.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    for name in ["text.jpg", "truncated.png", "missing.png"]:
        with pytest.raises(ImageReadError, match=name):
            read_image(tmp_path / name)


def test_read_images_in_threads_keeps_order(tmp_path):
    paths = []
    for i in range(12):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (5 + i, 7), color=(i * 10, 0, 0)).save(path)
        paths.append(path)
    images = read_images(paths, size=4, n_jobs=4)
    assert images.shape == (12, 4, 4, 3)
    np.testing.assert_array_equal(images[:, 0, 0, 0], np.arange(12) * 10)
    with pytest.raises(ValueError, match="different sizes"):
        read_images(paths)


def test_to_rgb_uint8_converts_without_modifying():
    X = np.linspace(0, 1, 2 * 3 * 3).reshape(2, 3, 3, 1)
    before = X.copy()
    out = to_rgb_uint8(X)
    assert out.shape == (2, 3, 3, 3) and out.dtype == np.uint8
    assert out[1, 2, 2, 0] == 255 and out[0, 0, 0, 0] == 0
    np.testing.assert_array_equal(X, before)
    rgb = np.zeros((1, 2, 2, 3), np.uint8)
    assert to_rgb_uint8(rgb) is rgb  # no copy when nothing changes


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.zeros((2, 3, 3, 3), np.complex64), ValueError, "Complex"),
        (np.full((1, 2, 2, 3), -1, np.int32), ValueError, r"Negative values in data.*\[0, 255\]"),
        (np.full((1, 2, 2, 3), -0.5), ValueError, r"Negative values in data.*\[0, 1\]"),
        (np.full((1, 2, 2, 3), 2.0), ValueError, r"^float images \(\w+\) must lie in \[0, 1\]"),
        (np.full((1, 2, 2, 3), np.inf), ValueError, "infinite"),
        (np.zeros((2, 3, 3)), ValueError, "X\\[np.newaxis\\]"),
        (np.zeros((1, 3, 8, 8)), ValueError, "channels-first"),
    ],
)
def test_bad_arrays(X, error, match):
    with pytest.raises(error, match=match):
        to_rgb_uint8(X)


def test_check_images_recognises_paths_and_rejects_mixtures(tmp_path):
    assert is_path_array([tmp_path / "a.jpg"])
    assert check_images([tmp_path / "a.jpg"]).dtype == object
    with pytest.raises(ValueError, match="mixes file paths"):
        check_images(["a.jpg", 3])
    import scipy.sparse

    with pytest.raises(TypeError, match="sparse"):
        check_images(scipy.sparse.csr_matrix(np.eye(3)))


def test_a_table_is_not_a_list_of_paths():
    pd = pytest.importorskip("pandas")
    # iterating over a DataFrame gives its column names, which are strings
    table = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "label": ["nevus", "melanoma"]})
    with pytest.raises(ValueError, match="DataFrame with 2 columns.*df\\['path'\\]"):
        check_images(table)
    assert is_path_array(table["path"])


def test_images_without_pixels_are_not_called_empty():
    with pytest.raises(ValueError, match="at least 1x1 pixels"):
        check_images(np.zeros((3, 0, 4, 3)))
    with pytest.raises(ValueError, match="empty"):
        check_images(np.zeros((0, 4, 4, 3)))


def test_resize_and_sizes():
    X = np.zeros((2, 10, 20, 3), np.uint8)
    assert resize_images(X, (5, 6)).shape == (2, 5, 6, 3)
    assert resize_images(X, (10, 20)) is X
    with pytest.raises(ValueError, match="image_size"):
        as_size((1, 2, 3))
    with pytest.raises(ValueError, match="positive"):
        as_size(0)


def test_list_image_files_is_case_insensitive(tmp_path):
    for name in ["a.JPEG", "b.Png", "c.tiff", "d.txt", ".e.jpg"]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.jpg").mkdir()
    assert [p.name for p in list_image_files(tmp_path)] == ["a.JPEG", "b.Png", "c.tiff"]
