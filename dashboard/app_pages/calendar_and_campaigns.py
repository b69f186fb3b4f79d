"""Calendar and campaigns: the year's awareness events, each campaign's plan, sign-off (for
officers and approvers: approve or send back), pause, and a preview of every variant as each
network will count it."""

import streamlit as st

from campaigns.core.clock import utcnow
from campaigns.storage.approval import ApprovalError
from campaigns.storage.control import ControlError
from dashboard import auth, components, data, queries
from dashboard.components import plain
from dashboard.queries import DeliveryFilter

viewer = auth.page_viewer("campaigns")
st.title("Calendar and campaigns")
if viewer.may_sign_off and not viewer.may_change:
    st.caption("You sign off campaigns here (approve, or send back with a reason); you "
               "cannot change them.")
elif not viewer.may_change:
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
st.write(plain(info.sign_off_state()))
if info.sent_back:
    st.warning(plain(info.sent_back[0].upper() + info.sent_back[1:] + ". Change the campaign in "
                     "Compose, then check and plan and send it for sign-off again."),
               icon=":material/undo:")
if info.paused:
    st.warning("This campaign is paused: none of its posts will be sent until it is resumed.",
               icon=":material/pause_circle:")

#: Per campaign: whether its planned schedule is shown, and what the last Send for sign-off said.
SHOWN, SAID = "plan-shown:", "plan-said:"


@st.fragment
def check_and_plan(campaign_key: str) -> None:
    """Check and plan, then Send for sign-off: only this part reruns for a check."""
    st.markdown("**Plan and send for sign-off**")
    st.caption("Check and plan applies the planner's rules (wording on X, quiet hours, daily "
               "limits, partners after the lead, clock changes, consent) and shows what each "
               "account would post and when. Nothing is stored until you send it for sign-off.")
    said = st.session_state.pop(SAID + campaign_key, None)
    if st.button("Check and plan", key=f"check-{campaign_key}"):
        st.session_state[SHOWN + campaign_key] = True
    if said:
        st.success(plain(said), icon=":material/check_circle:")
    if not st.session_state.get(SHOWN + campaign_key):
        return
    preview = data.plan_preview(viewer, campaign_key)
    if preview is None:
        st.error("This campaign can no longer be planned.")
        return
    refused = [f for f in preview.findings if f.severity == "error"]
    for finding in refused:
        st.error(plain(f"Post {finding.post_key}: {finding.message}"))
    if refused:
        st.write("Nothing can be sent for sign-off until this is fixed: change the wording in "
                 "Compose, then check and plan again.")
        return
    if not preview.schedule:
        st.info("No posts would be planned: the campaign has no posts, or no account posts "
                "them.")
        return
    st.write(plain(f"{len(preview.schedule)} posts would be planned, shown in local time:"))
    components.plan_schedule(preview.schedule, name=f"Planned schedule of {campaign_key}")
    if st.button("Send for sign-off", type="primary", key=f"send-{campaign_key}"):
        send_for_sign_off(campaign_key)


def send_for_sign_off(campaign_key: str) -> None:
    result = data.send_for_sign_off(viewer, campaign_key)
    if not result.ok:
        st.error(plain("Not sent: " + "; ".join(
            f.message for f in result.findings if f.severity == "error")))
        return
    waiting = result.created + result.updated
    said = (f"Sent for sign-off: {waiting} posts now await sign-off; someone other than the "
            "campaign's author approves them here." if waiting
            else "Nothing to send: the stored plan is already this one.")
    if waiting and result.unchanged:
        said += f" {result.unchanged} posts were already planned as shown."
    if result.cancelled:
        said += f" {result.cancelled} posts no longer in the plan were cancelled."
    st.session_state[SAID + campaign_key] = said
    st.session_state[SHOWN + campaign_key] = False
    st.rerun()  # the whole page: the deliveries and the approve button change


def sign_off(campaign: queries.CampaignInfo) -> None:
    """Approve or send back, offered only to someone whose sign-off will be accepted."""
    if not campaign.awaiting_sign_off:
        return
    if not campaign.may_sign_off:
        st.info(plain(campaign.who_signs_off()), icon=":material/how_to_reg:")
        return
    st.markdown("**Sign off**")
    if st.button(f"Approve {campaign.awaiting_sign_off} posts as {plain(viewer.name)}",
                 type="primary"):
        try:
            result = data.approve(viewer, campaign.key)
        except ApprovalError as refused:
            st.error(plain(refused))
        else:
            components.flash_and_rerun(
                f"{result.approved} posts of {campaign.key} approved by {result.approver}.")
    with st.form("send-back"):
        reason = st.text_input("Or send it back: what should change? (shown to its author)")
        if st.form_submit_button("Send back"):
            try:
                result = data.send_back_posts(viewer, campaign.key, reason)
            except ApprovalError as refused:
                st.error(plain(refused))
            else:
                components.flash_and_rerun(
                    f"{result.approved} posts of {campaign.key} sent back by {result.approver}; "
                    "they stay unsent until changed and signed off.")


def pause_or_resume(campaign: queries.CampaignInfo) -> None:
    if campaign.paused:
        if st.button("Resume this campaign"):
            try:
                released = data.resume_posting(viewer, campaign.key)
            except ControlError as refused:
                st.error(plain(refused))
            else:
                still = data.posting_pause().get("active")
                note = " (all posting is still paused)" if still else ""
                components.flash_and_rerun(
                    f"Resumed {campaign.key}: {released.deliveries} posts released{note}.")
        return
    with st.form("pause-campaign"):
        reason = st.text_input("Why pause? (shown on every held post)")
        if st.form_submit_button("Pause this campaign"):
            if not reason.strip():
                st.error("Say why the campaign is paused.")
            else:
                held = data.pause_posting(viewer, reason.strip(), campaign.key)
                components.flash_and_rerun(
                    f"Paused {campaign.key}: {held.deliveries} waiting posts held.")


if viewer.may_change:
    check_and_plan(info.key)
if viewer.may_sign_off:
    sign_off(info)
if viewer.may_change:
    pause_or_resume(info)

st.markdown("**Its deliveries**")
components.table(data.deliveries(viewer, DeliveryFilter(campaign_key=info.key)),
                 name=f"Deliveries of {info.key}")

with st.expander("Preview each variant as it will be posted", expanded=False):
    components.previews(data.variant_previews(viewer, info.key))
