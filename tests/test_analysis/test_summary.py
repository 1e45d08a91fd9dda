"""The model summary table."""
import pytest

from mnext_det.analysis import summary_table


def test_summary_table_matches_official_params():
    rows = summary_table(input_size=64)
    body = rows[2:]
    assert len(body) == 5
    assert all('| yes |' in r for r in body), rows
    assert '| MAdds (conv+FC) at 64 |' in rows[0] and '| paper MAdds at 224 |' in rows[0]


def test_summary_table_refuses_empty_input():
    with pytest.raises(ValueError, match='input_size must be >= 1, got 0'):
        summary_table(input_size=0)
