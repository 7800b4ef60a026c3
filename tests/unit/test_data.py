"""The shipped data module: digits splits, preprocessing, and the CIFAR-10 loader on files in the real format."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from fake_cifar import CLASSES, images_to_rows, py2_pickle, write_batch, write_cifar10, write_meta

from linclass.assignments.linear_classifiers.shipped.data import (
    DataError,
    append_bias,
    cifar10_available,
    get_data,
    load_cifar10,
    load_cifar10_batch,
    load_digits_images,
    preprocess,
    split_indices,
)

CIFAR_DIR = "cifar-10-batches-py"


# ------------------------------------------------------------------------------- splits
@pytest.mark.parametrize(("n", "val", "test", "dev"), [(1797, 250, 250, 100), (10, 2, 3, 4), (7, 0, 0, 7)])
def test_split_indices_are_disjoint_and_cover_everything(n, val, test, dev):
    idx = split_indices(n, val, test, dev, seed=3)
    parts = [idx["train"], idx["val"], idx["test"]]
    assert [len(p) for p in parts] == [n - val - test, val, test]
    assert sorted(np.concatenate(parts).tolist()) == list(range(n))
    assert len(set(idx["dev"].tolist())) == len(idx["dev"]) == min(dev, n - val - test)
    assert set(idx["dev"].tolist()) <= set(idx["train"].tolist())


def test_split_indices_are_seeded():
    a, b, c = (split_indices(100, 10, 10, 5, seed=s) for s in (0, 0, 1))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["val"], c["val"])


def test_split_indices_refuse_impossible_sizes():
    with pytest.raises(ValueError, match="cannot hold"):
        split_indices(10, 5, 5, 1)


# ------------------------------------------------------------------------------- digits
def test_digits_shapes_and_bias_column(digits):
    """Defaults: train 1297, val 250, test 250, dev 100; D = 8 * 8 + 1 = 65; C = 10."""
    shapes = {name: getattr(digits, f"X_{name}").shape for name in ("train", "val", "test", "dev")}
    assert shapes == {"train": (1297, 65), "val": (250, 65), "test": (250, 65), "dev": (100, 65)}
    for name in ("train", "val", "test", "dev"):
        X, y = getattr(digits, f"X_{name}"), getattr(digits, f"y_{name}")
        assert y.shape == (len(X),) and np.issubdtype(y.dtype, np.integer) and set(y.tolist()) <= set(range(10))
        np.testing.assert_array_equal(X[:, -1], 1.0)
    assert digits.num_classes == 10 and digits.image_shape == (8, 8, 1) and digits.source == "digits"
    assert digits.mean_image.shape == (8, 8, 1)


def test_digits_mean_comes_from_train_only(digits):
    images, labels = load_digits_images()
    idx = split_indices(len(labels), 250, 250, 100, seed=0)
    np.testing.assert_allclose(digits.mean_image, images[idx["train"]].mean(axis=0))
    np.testing.assert_allclose(digits.X_train[:, :-1].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(digits.X_val, append_bias(images[idx["val"]].reshape(250, -1)
                                                         - digits.mean_image.reshape(-1)))
    np.testing.assert_array_equal(digits.y_test, labels[idx["test"]])


def test_digits_splits_are_seeded_and_cover_all_examples(digits):
    again, other = get_data("digits", seed=0), get_data("digits", seed=1)
    np.testing.assert_array_equal(again.X_train, digits.X_train)
    assert not np.array_equal(other.y_val, digits.y_val)
    assert len(digits.y_train) + len(digits.y_val) + len(digits.y_test) == 1797


def test_explicit_zero_split_sizes_are_respected(tmp_path):
    """num_val=0 / num_dev=0 mean empty splits (they used to fall back to the defaults)."""
    data = get_data("digits", num_val=0, num_dev=0)
    assert data.X_val.shape == (0, 65) and data.X_dev.shape == (0, 65) and data.X_train.shape == (1547, 65)
    write_cifar10(tmp_path / CIFAR_DIR, n_per_batch=2)
    data = get_data("cifar10", datasets_dir=tmp_path, num_val=2, num_test=0, num_dev=0)
    assert data.X_test.shape == (0, 3073) and data.X_dev.shape == (0, 3073) and data.X_train.shape == (8, 3073)


def test_preprocess_uses_the_training_mean_and_flattens_rows():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 10, (6, 2, 3, 2)).astype(np.float64)
    val = np.full((3, 2, 3, 2), 100.0)  # would move the mean a lot if it were used
    rows, mean = preprocess({"train": train, "val": val})
    np.testing.assert_allclose(mean, train.mean(axis=0))
    assert rows["train"].shape == (6, 13) and rows["val"].shape == (3, 13)
    np.testing.assert_allclose(rows["val"][0, :-1], (val[0] - mean).reshape(-1))  # row = image.reshape(-1)
    np.testing.assert_array_equal(rows["val"][:, -1], 1.0)


def test_append_bias_keeps_dtype():
    X = np.zeros((2, 3), dtype=np.float32)
    out = append_bias(X)
    assert out.shape == (2, 4) and out.dtype == np.float32 and np.all(out[:, -1] == 1) and np.all(X == 0)


def test_auto_uses_digits_without_cifar_and_cifar_when_present(tmp_path):
    assert get_data("auto", datasets_dir=tmp_path).source == "digits"
    write_cifar10(tmp_path / CIFAR_DIR, n_per_batch=4)
    assert cifar10_available(tmp_path)
    assert get_data("auto", datasets_dir=tmp_path, num_val=4, num_test=2, num_dev=2).source == "cifar10"


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown data source"):
        get_data("mnist")


# ------------------------------------------------------------------------------ CIFAR-10
def test_fake_batch_is_in_the_real_format(tmp_path):
    """The test files match the official ones: a protocol-2 Python 2 pickle of a dict with
    bytes keys b'batch_label', b'labels' (list), b'data' (uint8 (n, 3072)), b'filenames'."""
    path = write_batch(tmp_path / "data_batch_1", np.zeros((2, 32, 32, 3), np.uint8), [3, 4])
    raw = path.read_bytes()
    assert raw[:2] == b"\x80\x02" and b"cnumpy.core.multiarray\n_reconstruct" in raw and b"_codecs" not in raw
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")  # the official loading recipe
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (2, 3072)
    assert batch[b"labels"] == [3, 4] and isinstance(batch[b"filenames"][0], bytes)
    with open(write_meta(tmp_path / "batches.meta", 10000), "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert meta[b"label_names"][0] == b"airplane" and meta[b"num_cases_per_batch"] == 10000
    assert meta[b"num_vis"] == 3072


def test_batch_rows_are_channel_major_and_become_32x32x3(tmp_path):
    """Each stored row is 1024 red, 1024 green, 1024 blue values; the loader gives (n, 32, 32, 3)."""
    images = np.zeros((1, 32, 32, 3), np.uint8)
    images[0, 1, 2] = (10, 20, 30)  # pixel at row 1, column 2
    row = images_to_rows(images)[0]
    assert (row[0 * 1024 + 32 + 2], row[1 * 1024 + 32 + 2], row[2 * 1024 + 32 + 2]) == (10, 20, 30)
    loaded, labels = load_cifar10_batch(write_batch(tmp_path / "b", images, [7]))
    assert loaded.shape == (1, 32, 32, 3) and loaded.dtype == np.uint8
    assert tuple(loaded[0, 1, 2]) == (10, 20, 30) and labels.tolist() == [7] and labels.dtype == np.int64


def test_load_cifar10_concatenates_the_five_batches(tmp_path):
    written = write_cifar10(tmp_path / CIFAR_DIR, n_per_batch=3)
    X_train, y_train, X_test, y_test = load_cifar10(tmp_path / CIFAR_DIR)
    assert X_train.shape == (15, 32, 32, 3) and X_test.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(X_train, np.concatenate([written[f"data_batch_{b}"][0] for b in range(1, 6)]))
    np.testing.assert_array_equal(y_test, written["test_batch"][1])


def test_get_data_cifar10_flattens_to_3073_columns(tmp_path):
    """32 x 32 x 3 = 3072 pixels per row (image.reshape(-1) order) + 1 bias = 3073."""
    written = write_cifar10(tmp_path / CIFAR_DIR, n_per_batch=4)
    data = get_data("cifar10", datasets_dir=tmp_path, num_val=4, num_test=3, num_dev=2)
    assert data.X_train.shape == (16, 3073) and data.X_val.shape == (4, 3073)
    assert data.X_test.shape == (3, 3073) and data.X_dev.shape == (2, 3073)
    assert data.image_shape == (32, 32, 3) and data.class_names == CLASSES and data.source == "cifar10"
    test_images = written["test_batch"][0]
    expected = append_bias(test_images[:3].reshape(3, -1).astype(np.float64) - data.mean_image.reshape(-1))
    np.testing.assert_allclose(data.X_test, expected)
    np.testing.assert_allclose(data.X_train[:, :-1].mean(axis=0), 0.0, atol=1e-9)


# ----------------------------------------------------------------------- CIFAR-10 errors
def test_missing_directory_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nowhere.*not found.*linclass data fetch cifar10"):
        load_cifar10(tmp_path / "nowhere")
    with pytest.raises(DataError, match="not found"):
        get_data("cifar10", datasets_dir=tmp_path)


def test_missing_batch_file_is_named(tmp_path):
    write_cifar10(tmp_path / CIFAR_DIR)
    (tmp_path / CIFAR_DIR / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"data_batch_3: file is missing"):
        load_cifar10(tmp_path / CIFAR_DIR)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "empty"])
def test_truncated_or_corrupt_batch_is_named(tmp_path, damage):
    write_cifar10(tmp_path / CIFAR_DIR)
    path = tmp_path / CIFAR_DIR / "data_batch_2"
    raw = path.read_bytes()
    path.write_bytes({"truncated": raw[: len(raw) // 2], "corrupt": bytes(range(256)) * 4, "empty": b""}[damage])
    with pytest.raises(DataError, match=r"data_batch_2: not a readable CIFAR-10 batch"):
        load_cifar10(tmp_path / CIFAR_DIR)


def _batch_with(tmp_path, **changes):
    batch = {"batch_label": "training batch 1 of 5", "labels": [1, 2],
             "data": np.zeros((2, 3072), np.uint8), "filenames": ["a.png", "b.png"]}
    batch.update(changes)
    path = tmp_path / "data_batch_1"
    path.write_bytes(py2_pickle({k: v for k, v in batch.items() if v is not None}))
    return path


@pytest.mark.parametrize(("changes", "message"), [
    ({"data": np.zeros((2, 3000), np.uint8)}, r"'data' has shape \(2, 3000\), expected \(n, 3072\)"),
    ({"data": np.zeros((2, 32, 32, 3), np.uint8)}, r"'data' has shape \(2, 32, 32, 3\)"),
    ({"labels": [1, 2, 3]}, "3 labels for 2 images"),
    ({"labels": [1, 10]}, r"labels outside 0..9"),
    ({"labels": [-1, 0]}, r"labels outside 0..9"),
    ({"labels": None}, "missing the 'labels' entry"),
    ({"data": None}, "missing the 'data' entry"),
])
def test_malformed_batch_is_named(tmp_path, changes, message):
    path = _batch_with(tmp_path, **changes)
    with pytest.raises(DataError, match=message) as info:
        load_cifar10_batch(path)
    assert str(path) in str(info.value)


def test_batch_that_is_not_a_dict(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(py2_pickle([1, 2, 3]))
    with pytest.raises(DataError, match=r"data_batch_1: expected a dict, found list"):
        load_cifar10_batch(path)


def test_wrong_class_names_in_meta(tmp_path):
    write_cifar10(tmp_path / CIFAR_DIR)
    (tmp_path / CIFAR_DIR / "batches.meta").write_bytes(py2_pickle({"label_names": ["cat", "dog"]}))
    with pytest.raises(DataError, match=r"batches.meta: unexpected class names"):
        load_cifar10(tmp_path / CIFAR_DIR)


class _Payload:
    """Unpickling this would call os.mkdir(target): a stand-in for arbitrary code."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (os.mkdir, (self.target,))


@pytest.mark.parametrize("where", ["batch", "meta"])
def test_restricted_unpickler_refuses_code(tmp_path, where):
    """A substituted batch whose pickle would call a function is refused before anything runs."""
    write_cifar10(tmp_path / CIFAR_DIR)
    marker = tmp_path / "pwned"
    name = "data_batch_1" if where == "batch" else "batches.meta"
    (tmp_path / CIFAR_DIR / name).write_bytes(pickle.dumps({b"data": _Payload(marker)}, protocol=2))
    with pytest.raises(DataError, match=rf"{name}: not a readable CIFAR-10 batch .*forbidden global"):
        load_cifar10(tmp_path / CIFAR_DIR)
    assert not marker.exists()
