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
from analytics.figures.divergence import finish_mix_bars, provider_comparison_bars
from analytics.figures.mix import requests_by_model, roles_by_model, tier_share_over_time
from analytics.figures.reliability import error_budget_bars, uptime_with_incidents
from analytics.figures.traffic import (
    hour_weekday_heatmap,
    hourly_requests_with_windows,
    latency_over_time,
    peak_to_mean_by_day,
    rate_vs_load,
    speed_over_time,
)

__all__ = [
    "COLORWAY",
    "TEMPLATE",
    "YFormat",
    "error_budget_bars",
    "finish_mix_bars",
    "hour_weekday_heatmap",
    "hourly_requests_with_windows",
    "latency_over_time",
    "peak_to_mean_by_day",
    "provider_comparison_bars",
    "rate_over_time",
    "rate_vs_load",
    "requests_by_model",
    "roles_by_model",
    "speed_over_time",
    "tier_share_over_time",
    "uptime_with_incidents",
    "volume_over_time",
]
