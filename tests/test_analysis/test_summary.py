"""The model summary table."""
from mnext_det.analysis import summary_table


def test_summary_table_matches_official_params():
    rows = summary_table(input_size=64)
    body = rows[2:]
    assert len(body) == 5
    assert all('| yes |' in r for r in body), rows
