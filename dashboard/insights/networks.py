"""Engagement on each network (X, Mastodon, Bluesky), as the board page's chart and table show
it."""

from __future__ import annotations

import pandas as pd

from dashboard.queries import SANDBOX_LABEL

NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}


def network_reach(reach: pd.DataFrame) -> pd.DataFrame:
    """`by_network` as the board reads it: real first, busiest first, sandbox labelled."""
    frame = reach.assign(
        network=[NETWORK_NAMES.get(n, n) + (" (sandbox)" if s else "")
                 for n, s in zip(reach["network"], reach["is_sandbox"], strict=True)],
        sandbox=[SANDBOX_LABEL if s else "" for s in reach["is_sandbox"]])
    frame = frame.sort_values(["is_sandbox", "engagements", "network"],
                              ascending=[True, False, True], ignore_index=True)
    return frame[["network", "posts", "impressions", "engagements", "sandbox"]]


def network_summary(networks: pd.DataFrame) -> str:
    if networks.empty:
        return "No posts were sent or gained engagement on any network in these weeks."
    parts = [f"{row.network}: {row.posts:,} posts, {row.engagements:,} engagements"
             for row in networks.itertuples()]
    return ("Posts and engagement on each network in the period. " + "; ".join(parts) + ". "
            "Mastodon and Bluesky do not publish impressions, so compare networks by "
            "engagement.")
