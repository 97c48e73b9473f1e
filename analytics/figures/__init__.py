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

__all__ = ["COLORWAY", "TEMPLATE", "YFormat", "rate_over_time", "volume_over_time"]
from analytics.figures.divergence import finish_mix_bars, provider_comparison_bars
from analytics.figures.reliability import error_budget_bars, uptime_with_incidents

__all__ += [
    "error_budget_bars",
    "finish_mix_bars",
    "provider_comparison_bars",
    "uptime_with_incidents",
]
