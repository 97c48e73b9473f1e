"""Chart clicks to explorer links: which point a click meant, and the link it gives."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs

from dashboard.data import Filters
from dashboard.drilldown import Point, clicked, explorer_href, in_bucket, on_day, only

_HOUR = timedelta(hours=1)
FIGURE = {"data": [{"type": "bar", "name": n} for n in ("bedrock", "anthropic", "openai")]}


def _point(curve: int, top: float, value: int) -> dict:
    box = {"x0": 100.0, "x1": 200.0, "y0": top, "y1": top}
    return {"curveNumber": curve, "x": "2026-02-04", "y": value, "bbox": box}


# A unified hover reports every series at the clicked x, in no useful order: a stacked
# column of bedrock 4 (bottom, top at 938), anthropic 10 (top at 815) and openai 0 (empty).
COLUMN = {"points": [_point(0, 938.8, 4), _point(2, 815.8, 0), _point(1, 815.8, 10)]}


def test_a_click_on_a_stacked_segment_names_its_series() -> None:
    def at(y: float) -> str:
        point = clicked(COLUMN, FIGURE, {"x": 150.0, "y": y})
        assert point is not None
        return point.series

    assert at(877.0) == "anthropic"  # inside anthropic's segment, not the empty openai one
    assert at(900.0) == "anthropic"
    assert at(950.0) == "bedrock"
    assert at(800.0) == "anthropic"  # above the column: its top segment with requests


def test_a_click_on_lines_names_the_nearest_point_and_without_a_pointer_the_first() -> None:
    lines = {"data": [{"type": "scatter", "name": n} for n in ("a", "b")]}
    data = {"points": [_point(1, 400.0, 1), _point(0, 650.0, 1)]}
    assert clicked(data, lines, {"x": 150.0, "y": 640.0}) == Point("a", "2026-02-04", 1)
    assert clicked(data, lines, None) == Point("b", "2026-02-04", 1)
    assert clicked(None, lines, None) is None
    assert clicked({"points": []}, lines, None) is None


def test_links_carry_the_narrowed_filters() -> None:
    filters = Filters(start=date(2026, 2, 1), end=date(2026, 2, 28), apps=("chat",))
    href = explorer_href(only(on_day(filters, "2026-02-04"), provider="openai"), status="ok")
    path, query = href.split("?")
    assert path == "/requests"
    assert parse_qs(query) == {
        "range": ["custom"],
        "start": ["2026-02-04"],
        "end": ["2026-02-04"],
        "provider": ["openai"],
        "app": ["chat"],
        "status": ["ok"],
    }
    hour = parse_qs(explorer_href(in_bucket(filters, "2026-02-04 09:00", _HOUR)).split("?")[1])
    assert (hour["from"], hour["to"]) == (["2026-02-04T09:00:00Z"], ["2026-02-04T10:00:00Z"])
