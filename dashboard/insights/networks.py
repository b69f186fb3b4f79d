"""Engagement on each network (X, Mastodon, Bluesky), as the board page's chart and table show
it."""

from __future__ import annotations

import pandas as pd

from dashboard.queries import SANDBOX_LABEL

NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
#: Networks that count no impressions, or count them only for the author: their impressions are
#: not published, which is not the same as none.
NO_IMPRESSIONS = frozenset({"mastodon", "bluesky"})
NOT_PUBLISHED = "not published"


def network_reach(reach: pd.DataFrame) -> pd.DataFrame:
    """`by_network` as the board reads it: real first, busiest first, sandbox labelled, and the
    impressions of networks that publish none written "not published" (never 0), so the
    column is text: the others written out in full ("1,200"), as a spreadsheet reads them."""
    frame = reach.assign(
        impressions=pd.Series(
            [NOT_PUBLISHED if n in NO_IMPRESSIONS else f"{int(i):,}"
             for n, i in zip(reach["network"], reach["impressions"], strict=True)],
            index=reach.index, dtype=object),
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
