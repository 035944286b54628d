"""The weekly summary's chart: eNPS trend and pipeline funnel as one PNG, drawn with matplotlib."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING

from bot.i18n import Texts
from bot.summary import EnpsPoint, WeeklySummary
from bot.views.deals import stage_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# pyplot keeps global state; two summaries drawn at once (job and preview) take turns.
_drawing = threading.Lock()


def summary_chart(texts: Texts, summary: WeeklySummary) -> bytes:
    """A PNG of two panels: eNPS over the latest runs and open deals per stage."""
    # Imported here: only drawing a chart pays for matplotlib, and never with a GUI backend.
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    trend = summary.enps_trend
    funnel = summary.pipeline.funnel
    with _drawing:
        figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4), dpi=100)
        try:
            shown = [(i, p.score) for i, p in enumerate(trend) if p.score is not None]
            labels = [f"{p.survey_name} #{p.run_number}\n{p.closed_on:%d/%m}" for p in trend]
            if shown:
                left.plot([i for i, _ in shown], [s for _, s in shown], marker="o", color="#2e7d32")
                _draw_uncertainty(left, texts, trend)
                for i, score in shown:
                    left.annotate(f"{score:+d}", (i, score), textcoords="offset points",
                                  xytext=(0, 6), ha="center", fontsize=8)  # fmt: skip
            else:
                # Above the zero line, not struck through by it.
                left.text(0.5, 0.75, texts("summary.chart_no_enps"), ha="center", va="center",
                          transform=left.transAxes, color="#555555")  # fmt: skip
            left.set_xticks(range(len(trend)), labels, fontsize=7)
            left.set_ylim(-100, 100)
            left.axhline(0, color="#999999", linewidth=0.8)
            left.set_title(texts("summary.chart_enps_title"))

            names = [stage_label(texts, s.stage) for s in funnel][::-1]
            counts = [s.open_count for s in funnel][::-1]
            bars = right.barh(names, counts, color="#1565c0")
            right.bar_label(bars, labels=[str(c) for c in counts], padding=3, fontsize=8)
            right.set_title(texts("summary.chart_funnel_title"))
            right.set_xlabel(texts("summary.chart_funnel_axis"))
            # Deals are counted whole: no tick at 0.25 of a deal.
            right.xaxis.set_major_locator(MaxNLocator(integer=True))
            figure.suptitle(
                texts("summary.chart_title", week=texts.week_of(summary.week.first_day))
            )
            figure.tight_layout()
            out = io.BytesIO()
            figure.savefig(out, format="png")
        finally:
            pyplot.close(figure)
    return out.getvalue()


def _draw_uncertainty(axes: Axes, texts: Texts, trend: list[EnpsPoint]) -> None:
    """Each score's interval as an error bar around the adjusted estimate, and a ring on each
    point whose change from the point before is beyond noise."""
    ranged = [
        (i, p.interval)
        for i, p in enumerate(trend)
        if p.score is not None and p.interval is not None and p.interval.high > p.interval.low
    ]
    if ranged:
        confidence = ranged[0][1].confidence
        axes.errorbar(
            [i for i, _ in ranged],
            [r.estimate for _, r in ranged],
            yerr=[
                [r.estimate - r.low for _, r in ranged],
                [r.high - r.estimate for _, r in ranged],
            ],
            fmt="none",
            ecolor="#81c784",
            elinewidth=6,
            alpha=0.6,
            label=texts("stats.chart_interval", confidence=confidence),
        )
    real = [
        (i, p.score)
        for i, p in enumerate(trend)
        if p.score is not None and p.interval is not None and p.interval.real
    ]
    if real:
        axes.scatter(
            [i for i, _ in real],
            [s for _, s in real],
            s=160,
            facecolors="none",
            edgecolors="#c62828",
            linewidths=2,
            zorder=5,
            label=texts("stats.chart_real"),
        )
    if ranged or real:
        axes.legend(loc="lower left", fontsize=7)
