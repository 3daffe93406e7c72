"""One reader for every entry point: CSV rules, `.npy` headers, literal paths before globs."""

import argparse
import warnings

import numpy as np
import pytest

from keras_dec.cli.inputs import load_data
from keras_dec.datasets import load_array, read_shard
from keras_dec.datasets.readers import npy_header, read_csv
from keras_dec.datasets.shards import is_shard_source, list_shards

ROWS = np.round(np.random.default_rng(0).random((300, 6)), 4)


def csv_text(x, header=None, index=False, bom=False):
    lines = [] if header is None else [header]
    for i, row in enumerate(x):
        cells = [repr(float(v)) if x.dtype.kind == "f" else str(v) for v in row]
        lines.append(",".join(([str(i)] if index else []) + cells))
    return ("\ufeff" if bom else "") + "\n".join(lines) + "\n"


@pytest.mark.parametrize("header, index, bom", [
    (None, False, False),
    ("0,1,2,3,4,5", False, False),  # pandas.DataFrame(a).to_csv(f, index=False)
    (",0,1,2,3,4,5", True, False),  # pandas.DataFrame(a).to_csv(f): the index column too
    ("Unnamed: 0,a,b,c,d,e,f", True, False),
    ("a,b,c,d,e,f", False, True),  # Excel's "CSV UTF-8"
    (None, False, True),
])
def test_csv_dialects_give_the_same_rows(tmp_path, header, index, bom):
    path = tmp_path / "x.csv"
    path.write_text(csv_text(ROWS, header, index, bom), encoding="utf-8")
    x, _ = load_array(path)
    np.testing.assert_allclose(x, ROWS.astype("float32"))
    np.testing.assert_allclose(read_shard(path), ROWS.astype("float32"))


def test_a_data_row_that_looks_like_column_names_is_kept_when_written_as_floats():
    x = np.arange(12, dtype="float64").reshape(4, 3)
    np.testing.assert_array_equal(read_csv("0.0,1.0,2.0\n3.0,4.0,5.0\n6.5,7,8\n"),
                                  [[0, 1, 2], [3, 4, 5], [6.5, 7, 8]])
    text = "\n".join(",".join(f"{v:.18e}" for v in row) for row in x)  # numpy.savetxt
    np.testing.assert_array_equal(read_csv(text + "\n"), x)


def test_integer_column_names_over_integer_rows_warn_that_they_are_taken_as_a_header():
    with pytest.warns(UserWarning, match=r"first line of the CSV data \(0,1,2\) is taken as"):
        x = read_csv("0,1,2\n5,6,7\n8,9,10\n")
    assert x.tolist() == [[5, 6, 7], [8, 9, 10]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_csv("0,1,2\n0.5,6,7\n")  # a float below: certainly a header


def test_whole_numbers_in_a_csv_are_integers_and_meet_the_scaling_rule(tmp_path):
    counts = np.random.default_rng(1).integers(0, 100, (50, 4))
    (tmp_path / "c.csv").write_text(csv_text(counts))
    x, _ = load_array(tmp_path / "c.csv")
    assert x.dtype == np.int64 and np.array_equal(x, counts)
    assert read_shard(tmp_path / "c.csv").dtype == np.int64
    from keras_dec import Recipe, train_dec

    with pytest.raises(ValueError, match="`x` holds integers from 0 to 99: unscaled"):
        train_dec(x, 3, Recipe(dims=(4, 2), pretrain_epochs=1, max_iter=2), verbose=0)


def test_integer_shards_stay_integers_for_assign(tmp_path):
    np.save(tmp_path / "part-0.npy", np.arange(40).reshape(10, 4))
    from keras_dec.beam.assign import ReadShardRows

    with pytest.raises(ValueError, match=r"shard .*part-0.npy'` holds integers from 0 to 39"):
        list(ReadShardRows(4, scaled_by_model=False).process(str(tmp_path / "part-0.npy")))
    assert len(list(ReadShardRows(4, scaled_by_model=True).process(
        str(tmp_path / "part-0.npy")))) == 10


def test_a_header_claiming_more_than_the_file_holds_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.npy"
    np.save(path, np.zeros((2, 6), "float32"))
    data = path.read_bytes().replace(b"(2, 6)", b"(100000000000, 6)")
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"huge.npy' claims shape \(100000000000, 6\) of float32 "
                       r"\(2,400,000,000,000 bytes\) but holds \d+ bytes"):
        npy_header(path)
    with pytest.raises(ValueError, match="claims shape"):
        load_array(path)
    with pytest.raises(ValueError, match=r"Shard .*huge.npy' could not be read: .* claims shape"):
        read_shard(path)


def test_an_existing_file_is_that_file_even_with_glob_characters(tmp_path):
    (tmp_path / "gl").mkdir()
    np.save(tmp_path / "gl" / "data[1].npy", np.zeros((300, 3), "float32"))
    np.save(tmp_path / "gl" / "data1.npy", np.ones((500, 3), "float32"))
    literal = str(tmp_path / "gl" / "data[1].npy")
    assert not is_shard_source(literal) and list_shards(literal) == [literal]
    args = argparse.Namespace(data=literal, dataset=None, data_dir=None)
    name, x, _ = load_data(args)
    assert name == literal and x.shape == (300, 3) and not x.any()
    # A pattern that names no file is still a glob.
    assert is_shard_source(str(tmp_path / "gl" / "data[1-9].npy"))
    assert list_shards(str(tmp_path / "gl" / "data[1-9].npy")) == [str(tmp_path / "gl" / "data1.npy")]
    np.save(tmp_path / "feat[v2].npy", np.zeros((3, 3), "float32"))
    assert list_shards(str(tmp_path / "feat[v2].npy")) == [str(tmp_path / "feat[v2].npy")]


def test_bom_csv_shards_stream_every_row(tmp_path):
    from keras_dec.datasets import ShardStream

    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.csv").write_text(csv_text(ROWS, "a,b,c,d,e,f", bom=True))
    assert ShardStream(tmp_path / "s").shape == (300, 6)
