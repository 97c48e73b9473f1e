"""DataFrame → Plotly figure: the charts shared by the dashboard and the weekly report.

Pure functions with one look (`base.TEMPLATE`), one module per metric family; a NULL in a
ratio column means "no data" and is drawn as a gap, never as 0 or 100%.
"""

from analytics.figures.base import (
    COLORWAY,
    TEMPLATE,
    YFormat,
    rate_over_time,
    volume_over_time,
)
from analytics.figures.mix import requests_by_model, roles_by_model, tier_share_over_time
from analytics.figures.traffic import (
    hour_weekday_heatmap,
    hourly_requests_with_windows,
    latency_over_time,
    peak_to_mean_by_day,
    rate_vs_load,
    speed_over_time,
)

__all__ = ["COLORWAY", "TEMPLATE", "YFormat", "rate_over_time", "volume_over_time"]
__all__ += ["requests_by_model", "roles_by_model", "tier_share_over_time"]
__all__ += [
    "hour_weekday_heatmap",
    "hourly_requests_with_windows",
    "latency_over_time",
    "peak_to_mean_by_day",
    "rate_vs_load",
    "speed_over_time",
]
