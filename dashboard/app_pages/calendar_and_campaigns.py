"""Calendar and campaigns: the year's awareness events, each campaign's plan, sign-off,
pause, and a preview of every variant as each network will count it."""

import streamlit as st

from campaigns.core.clock import utcnow
from campaigns.storage.approval import ApprovalError
from campaigns.storage.control import ControlError
from dashboard import auth, components, data, queries
from dashboard.components import plain
from dashboard.queries import DeliveryFilter

viewer = auth.page_viewer("campaigns")
st.title("Calendar and campaigns")
if not viewer.may_change:
    components.read_only_note()

this_year = utcnow().year
years = sorted({*data.campaign_years(viewer), this_year})
year = st.selectbox("Year", years, index=years.index(this_year))
events = data.events_for_year(viewer, year)
components.chart_with_table(
    components.timeline_chart(events, label="event", start="start", end="end", group="plan"),
    title=f"Awareness events in {year}",
    description=f"Timeline of the awareness events of {year}; each bar runs from the event's "
                "first to its last day and is labelled with whether a campaign is planned.",
    summary=queries.events_summary(events, year),
    frame=events,
    beside=False,
)

st.header("Campaigns")
campaign_list = data.campaigns(viewer)
components.table(campaign_list, name="Campaigns with their posts by state")
if campaign_list.empty:
    st.info("No campaigns yet: load content and plan (chorus content load; chorus plan).")
    st.stop()

key = st.selectbox("Campaign", campaign_list["key"].tolist())
info = data.campaign_info(viewer, key)
if info is None:
    st.stop()
st.subheader(plain(info.name))
if info.summary:
    st.write(plain(info.summary, inline=False))
st.write(plain(f"Written by {info.author}. Times are planned in {info.timezone}."))
if info.editors:
    st.write(plain(f"Edited in the dashboard by {', '.join(info.editors)}."))
if info.approved_by:
    st.write(plain(f"Approved by {info.approved_by} on {info.approved_at}."))
if info.paused:
    st.warning("This campaign is paused: none of its posts will be sent until it is resumed.",
               icon=":material/pause_circle:")

if viewer.may_change:
    approve_column, pause_column = st.columns(2)
    with approve_column:
        if info.awaiting_sign_off and st.button(
                f"Approve {info.awaiting_sign_off} posts as {plain(viewer.name)}",
                type="primary"):
            try:
                result = data.approve(viewer, info.key)
            except ApprovalError as refused:
                st.error(plain(refused))
            else:
                components.flash_and_rerun(
                    f"{result.approved} posts of {info.key} approved by {result.approver}.")
    with pause_column:
        if info.paused:
            if st.button("Resume this campaign"):
                try:
                    released = data.resume_posting(viewer, info.key)
                except ControlError as refused:
                    st.error(plain(refused))
                else:
                    still = data.posting_pause().get("active")
                    note = " (all posting is still paused)" if still else ""
                    components.flash_and_rerun(
                        f"Resumed {info.key}: {released.deliveries} posts released{note}.")
        else:
            with st.form("pause-campaign"):
                reason = st.text_input("Why pause? (shown on every held post)")
                if st.form_submit_button("Pause this campaign"):
                    if not reason.strip():
                        st.error("Say why the campaign is paused.")
                    else:
                        held = data.pause_posting(viewer, reason.strip(), info.key)
                        components.flash_and_rerun(
                            f"Paused {info.key}: {held.deliveries} waiting posts held.")

st.markdown("**Its deliveries**")
components.table(data.deliveries(viewer, DeliveryFilter(campaign_key=info.key)),
                 name=f"Deliveries of {info.key}")

with st.expander("Preview each variant as it will be posted", expanded=False):
    components.previews(data.variant_previews(viewer, info.key))
