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


def _cell(M, d, best):
    return {"params": {"M": M, "d": d}, "verdict_nonneg": "PROVEN", "verdict_signed": "SUPPORTED", "C_target": 0.5,
            "search_signed": {"best_value": best}}


def test_value_figure_is_drawn_against_M_when_each_M_has_one_d():
    from conjecture.report import _figures

    diagonal = _figures([_cell(M, M - 1, 0.001 * M) for M in range(2, 17)])
    assert [f.name for f in diagonal] == ["verdicts.png", "values.png"]
    assert "against M" in diagonal[1].caption
    grid = _figures([_cell(M, d, 0.001 * M * d) for M in (2, 3) for d in (1, 2, 3)])
    assert "against d, one line per M" in grid[1].caption


def test_verdict_map_bottom_margin_does_not_grow_with_the_grid():
    rows = [{"M": M, "d": M - 1, "nn": "PROVEN"} for M in range(2, 17)]
    tall = verdict_map_figure(rows, "M", "d", [("beta >= 0", "nn")])
    margin_inches = tall.subplotpars.bottom * tall.get_figheight()
    assert margin_inches <= 0.81
