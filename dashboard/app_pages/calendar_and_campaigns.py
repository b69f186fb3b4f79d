"""Calendar and campaigns: the year's awareness events, each campaign's plan, sign-off (for
officers and approvers: approve or send back), pause, and a preview of every variant as each
network will count it."""

import streamlit as st

from campaigns.core.clock import utcnow
from campaigns.storage.approval import ApprovalError
from campaigns.storage.control import ControlError
from dashboard import auth, components, data, queries, sign_off_data
from dashboard.components import plain
from dashboard.queries import DeliveryFilter

viewer = auth.page_viewer("campaigns")
st.title("Calendar and campaigns")
if viewer.may_sign_off and not viewer.may_change:
    st.caption("You sign off campaigns here (approve, or send back with a reason); you "
               "cannot change them.")
elif not viewer.may_change:
    components.read_only_note()


@st.fragment
def events_section() -> None:
    """The year's awareness events: choosing a year reruns this alone."""
    this_year = utcnow().year
    years = sorted({*data.campaign_years(viewer), this_year})
    year = st.selectbox("Year", years, index=years.index(this_year))
    events = data.events_for_year(viewer, year)
    components.chart_with_table(
        components.timeline_chart(events, label="event", start="start", end="end",
                                  group="plan"),
        title=f"Awareness events in {year}",
        description=f"Timeline of the awareness events of {year}; each bar runs from the "
                    "event's first to its last day and is labelled with whether a campaign is "
                    "planned.",
        summary=queries.events_summary(events, year),
        frame=events,
        beside=False,
        columns=components.EVENT_TABLE,
        hide=("key",),
    )


#: Per campaign: whether its planned schedule is shown, what the last Send for sign-off said,
#: what the last Approve or Send back (DONE + "sign-off:") and Pause or Resume (DONE +
#: "posting:") did or why it was refused, and the reasons typed for sending back and pausing.
SHOWN, SAID, DONE = "plan-shown:", "plan-said:", "campaign-done:"
REFUSED, REASON = "campaign-refused:", "campaign-reason:"


def describe(info: queries.CampaignInfo) -> None:
    """What the campaign is, and where its sign-off and posting stand."""
    st.subheader(plain(info.name))
    if info.summary:
        st.write(plain(info.summary, inline=False))
    st.write(plain(f"Written by {info.author}. Times are planned in {info.timezone}."))
    if info.editors:
        st.write(plain(f"Edited in the dashboard by {', '.join(info.editors)}."))
    st.write(plain(info.sign_off_state()))
    if info.sent_back:
        st.warning(plain(info.sent_back[0].upper() + info.sent_back[1:] + ". Change the campaign "
                         "in Compose, then check and plan and send it for sign-off again."),
                   icon=":material/undo:")
    if info.paused:
        st.warning("This campaign is paused: none of its posts will be sent until it is "
                   "resumed.", icon=":material/pause_circle:")


def check_and_plan(campaign_key: str, name: str) -> None:
    """Check and plan, then Send for sign-off."""
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
        st.error("This campaign can no longer be planned: it was withdrawn or removed. Choose "
                 "another campaign above.")
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
                "them. Add posts in Compose, or ask partners for consent, then check and plan "
                "again.")
        return
    st.write(plain(f"{len(preview.schedule)} posts would be planned, shown in local time:"))
    components.plan_schedule(preview.schedule, name=f"Planned schedule of {name}")
    st.button("Send for sign-off", type="primary", key=f"send-{campaign_key}",
              on_click=send_for_sign_off, args=(campaign_key,))
    refusal(campaign_key, "send")


def send_for_sign_off(campaign_key: str) -> None:
    result = data.send_for_sign_off(viewer, campaign_key)
    if not result.ok:
        refuse(campaign_key, "send", "Not sent: " + "; ".join(
            f.message for f in result.findings if f.severity == "error"))
        return
    waiting = result.created + result.updated
    said = (f"Sent for sign-off: {waiting} posts now await sign-off; someone other than the "
            "campaign's author approves them here. Nothing is sent until then." if waiting
            else "Nothing to send: the stored plan is already this one, and its sign-off is "
                 "shown above.")
    if waiting and result.unchanged:
        said += f" {result.unchanged} posts were already planned as shown."
    if result.cancelled:
        said += f" {result.cancelled} posts no longer in the plan were cancelled."
    st.session_state[SAID + campaign_key] = said
    st.session_state[SHOWN + campaign_key] = False


def sign_off(campaign: queries.CampaignInfo) -> None:
    """Approve or send back, offered only to someone whose sign-off will be accepted; what the
    last one did is said here, where it was clicked."""
    done(campaign.key, "sign-off")
    if not campaign.awaiting_sign_off:
        return
    if not campaign.may_sign_off:
        st.info(plain(campaign.who_signs_off()), icon=":material/how_to_reg:")
        return
    st.markdown("**Sign off**")
    st.button(f"Approve {campaign.awaiting_sign_off} posts as {plain(viewer.name)}",
              type="primary", on_click=approve,
              args=(campaign.key, campaign.name, campaign.awaiting))
    refusal(campaign.key, "approve")
    with st.form("send-back"):
        st.text_input("Or send it back: what should change? (shown to its author)",
                      key=REASON + "send-back:" + campaign.key)
        st.form_submit_button("Send back", on_click=send_back,
                              args=(campaign.key, campaign.name))
        refusal(campaign.key, "send-back")


def pause_or_resume(campaign: queries.CampaignInfo) -> None:
    done(campaign.key, "posting")
    if campaign.paused:
        st.button("Resume this campaign", on_click=resume, args=(campaign.key, campaign.name))
        refusal(campaign.key, "resume")
        return
    with st.form("pause-campaign"):
        st.text_input("Why pause? (shown on every held post)",
                      key=REASON + "pause:" + campaign.key)
        st.form_submit_button("Pause this campaign", on_click=pause,
                              args=(campaign.key, campaign.name))
        refusal(campaign.key, "pause")


# The clicks' callbacks (send_for_sign_off above too): they change the database before the
# section's one rerun, which then shows the change (each clears the cached reads) and what was
# done, or the refusal.

def approve(campaign_key: str, name: str, seen: tuple[tuple[int, str], ...]) -> None:
    """Approve the posts the page showed (`seen`), or refuse if they changed meanwhile; the
    page then reads them afresh."""
    try:
        result = sign_off_data.approve(viewer, campaign_key, dict(seen))
    except ApprovalError as refused:
        data.campaign_info.clear()
        refuse(campaign_key, "approve", str(refused))
    else:
        tell(campaign_key, "sign-off",
             f"{result.approved} posts of {name} approved by {result.approver}: each goes out "
             "at its time (follow them on Deliveries).")


def send_back(campaign_key: str, name: str) -> None:
    reason = st.session_state.get(REASON + "send-back:" + campaign_key, "")
    try:
        result = data.send_back_posts(viewer, campaign_key, reason)
    except ApprovalError as refused:
        refuse(campaign_key, "send-back", str(refused))
    else:
        tell(campaign_key, "sign-off",
             f"{result.approved} posts of {name} sent back by {result.approver}; they stay "
             "unsent until its author changes them in Compose and they are signed off again.")


def pause(campaign_key: str, name: str) -> None:
    reason = st.session_state.get(REASON + "pause:" + campaign_key, "").strip()
    if not reason:
        refuse(campaign_key, "pause", "Not paused: say why the campaign is paused, then press "
                                      "Pause again.")
        return
    held = data.pause_posting(viewer, reason, campaign_key)
    tell(campaign_key, "posting",
         f"Paused {name}: {held.deliveries} waiting posts held. Nothing of it is sent until "
         "you resume it here.")


def resume(campaign_key: str, name: str) -> None:
    try:
        released = data.resume_posting(viewer, campaign_key)
    except ControlError as refused:
        refuse(campaign_key, "resume", str(refused))
        return
    note = (" All posting is still paused, though: resume it on Deliveries." if
            data.posting_pause().get("active") else " Each goes out at its time.")
    tell(campaign_key, "posting", f"Resumed {name}: {released.deliveries} posts released.{note}")


def tell(campaign_key: str, control: str, message: str) -> None:
    st.session_state[f"{DONE}{control}:{campaign_key}"] = message


def done(campaign_key: str, control: str) -> None:
    """What the last click on `control` did, if it did something, beside it: an alert, which a
    screen reader announces. (Not a toast as well: Streamlit's toast is a dialog without an
    accessible name, a serious failure in the accessibility audit.)"""
    message = st.session_state.pop(f"{DONE}{control}:{campaign_key}", None)
    if message:
        st.success(plain(message), icon=":material/check_circle:")


def refuse(campaign_key: str, control: str, message: str) -> None:
    st.session_state[f"{REFUSED}{control}:{campaign_key}"] = message


def refusal(campaign_key: str, control: str) -> None:
    """Why the last click on `control` was refused, if it was, beside it."""
    message = st.session_state.pop(f"{REFUSED}{control}:{campaign_key}", None)
    if message:
        st.error(plain(message))


@st.fragment
def campaigns_section() -> None:
    """Every campaign, and the chosen one's plan, sign-off, posting and deliveries. Choosing a
    campaign, Check and plan, Send for sign-off, Approve, Send back, Pause and Resume rerun this
    section only, never the events chart above it nor the navigation around the page."""
    st.header("Campaigns")
    campaign_list = data.campaigns(viewer)
    if campaign_list.empty:
        st.info("No campaigns yet: write one in Compose, or load content files (chorus content "
                "load)." if viewer.may_change else "No campaigns to show yet.")
        return
    components.table(campaign_list, name="Campaigns with their posts by state",
                     columns=components.CAMPAIGN_TABLE, hide=("key",))
    components.ids_and_export(campaign_list, ("key",), beside=("campaign",), name="Campaigns",
                              file_name="campaigns.csv")
    names = dict(zip(campaign_list["key"], campaign_list["campaign"], strict=True))
    key = st.selectbox("Campaign", list(names), format_func=names.__getitem__)
    info = data.campaign_info(viewer, key)
    if info is None:
        st.info("That campaign is no longer there: choose another.")
        return
    describe(info)
    if viewer.may_change:
        check_and_plan(info.key, info.name)
    if viewer.may_sign_off:
        sign_off(info)
    if viewer.may_change:
        pause_or_resume(info)
    st.markdown("**Its deliveries**")
    its_deliveries = data.deliveries(viewer, DeliveryFilter(campaign_key=info.key))
    components.table(its_deliveries, name=f"Deliveries of {info.name}",
                     columns=components.DELIVERY_TABLE, hide=queries.IDS, lines=3)
    components.ids_and_export(its_deliveries, queries.IDS, name=f"Deliveries of {info.name}",
                              file_name=f"deliveries-{info.key}.csv")
    with components.lazy_expander("Preview each variant as it will be posted",
                                  key=f"previews-{info.key}") as opened:
        if opened:
            components.previews(data.variant_previews(viewer, info.key))


events_section()
campaigns_section()
