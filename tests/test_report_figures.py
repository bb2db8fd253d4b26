"""Report figures: the verdict map shows every verdict column as its own panel and names every verdict in a legend."""

from numerics.evidence.reports.figures import verdict_map_figure


def test_verdict_map_has_one_panel_per_column_and_a_legend_of_every_verdict():
    rows = [{"M": 2, "d": 1, "nn": "PROVEN", "s": "PROVEN"}, {"M": 3, "d": 1, "nn": "NOT_APPLICABLE", "s": "NOT_APPLICABLE"},
            {"M": 3, "d": 2, "nn": "PROVEN", "s": "SUPPORTED"}]
    fig = verdict_map_figure(rows, "M", "d", [("beta >= 0", "nn"), ("signed beta", "s")])
    assert [ax.get_title() for ax in fig.axes] == ["beta >= 0", "signed beta"]
    assert len(fig.legends) == 1
    assert sorted(t.get_text() for t in fig.legends[0].get_texts()) == ["NOT_APPLICABLE", "PROVEN", "SUPPORTED"]
    tiles = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert sorted(tiles[0]) == ["PROVEN", "PROVEN", "n/a"] and sorted(tiles[1]) == ["PROVEN", "SUPP.", "n/a"]
    assert all("None" not in t for panel in tiles for t in panel)
