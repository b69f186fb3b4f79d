"""Board overview: the partnership's posts at a glance (read-only for everyone)."""

import streamlit as st

from dashboard import auth, components, data, queries

viewer = auth.page_viewer("board")
st.title("Board overview")

counts = data.status_counts(viewer)
figures = queries.headline(counts)
posted, waiting, sign_off, attention = st.columns(4)
posted.metric("Posted", f"{figures.posted:,}", border=True)
waiting.metric("Waiting to send", f"{figures.waiting:,}", border=True)
sign_off.metric("Awaiting sign-off", f"{figures.awaiting_sign_off:,}", border=True)
attention.metric("Need attention", f"{figures.needs_attention:,}", border=True,
                 help="Failed, unconfirmed or missed: see the Deliveries page.")
components.sandbox_count_notice(figures.sandbox)

components.chart_with_table(
    components.bar_chart(counts, category="status", value="posts"),
    title="Posts by status",
    description="Bar chart of the number of posts in each delivery state, from draft to "
                "cancelled.",
    summary=queries.status_summary(counts),
    frame=counts,
)

st.subheader("Campaigns")
components.table(data.campaigns(viewer), name="Campaigns with their posts by state")

st.info("Reach and engagement of each campaign, set against hate-crime reporting trends with "
        "their caveats, are not on this page yet: they come once the engagement collector's "
        "and the reporting-data import's figures are wired in. Until then it counts posts only.",
        icon=":material/info:")
