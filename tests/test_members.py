"""``text_isin`` answers as pandas' ``Series.isin`` on text, missing values included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from popsync.core.members import text_isin


@pytest.mark.parametrize("among", [["b", "d", None], ["b", "d"], [], pd.Index(["a", "e"])])
def test_text_isin_answers_as_pandas(among):
    values = pd.Series(["a", "b", None, "c", "d", "b"], dtype="str")
    expected = values.isin(among).to_numpy()
    found = text_isin(values, among)
    assert found.dtype == np.bool_
    assert found.tolist() == expected.tolist()


def test_text_isin_of_an_empty_column():
    assert text_isin(pd.Series([], dtype="str"), ["a"]).tolist() == []
