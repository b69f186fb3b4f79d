"""Partners' contribution (reach by organisation, with each one's share) and the reach of each
campaign, as the board page's tables show them."""

from __future__ import annotations

import pandas as pd

from dashboard.queries import SANDBOX_LABEL


def contribution(reach: pd.DataFrame) -> pd.DataFrame:
    """Reach by organisation: real first, the largest first, each with its share."""
    real_total = int(reach.loc[~reach["is_sandbox"], "impressions"].sum())
    frame = reach.assign(
        partner=[f"{o} (sandbox)" if s else o
                 for o, s in zip(reach["organisation"], reach["is_sandbox"], strict=True)],
        share=[f"{i / real_total:.0%}" if real_total and not s else ""
               for i, s in zip(reach["impressions"], reach["is_sandbox"], strict=True)],
        sandbox=[SANDBOX_LABEL if s else "" for s in reach["is_sandbox"]])
    frame = frame.sort_values(["is_sandbox", "impressions", "partner"],
                              ascending=[True, False, True], ignore_index=True)
    return frame[["partner", "posts", "impressions", "engagements", "share", "sandbox"]].rename(
        columns={"share": "share of real impressions"})


def contribution_summary(partners: pd.DataFrame) -> str:
    real = partners[partners["sandbox"] == ""]
    if real.empty or not real["impressions"].sum():
        return "No real account gained impressions in these weeks."
    top = real.iloc[0]
    return (f"{len(real)} organisations' real accounts gained "
            f"{int(real['impressions'].sum()):,} impressions in these weeks; "
            f"{top['partner']} gained the most ({int(top['impressions']):,}, "
            f"{top['share of real impressions']}).")


def campaign_reach(reach: pd.DataFrame) -> pd.DataFrame:
    frame = reach.assign(sandbox=[SANDBOX_LABEL if s else "" for s in reach["is_sandbox"]])
    frame = frame.sort_values(["is_sandbox", "impressions"], ascending=[True, False],
                              ignore_index=True)
    return frame[["campaign", "campaign name", "posts", "impressions", "engagements", "sandbox"]]
