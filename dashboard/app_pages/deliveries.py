"""Deliveries: live status, what failed and what to do, unconfirmed posts to settle, and the
health of each account (never its token)."""

from datetime import timedelta

import streamlit as st

from campaigns.core.clock import utcnow
from campaigns.storage.deliveries import ResolveError
from campaigns.storage.models import DeliveryStatus
from dashboard import auth, components, data, queries
from dashboard.queries import DeliveryFilter

#: Where each action's result is said: right under it, and as a toast.
PAUSED, SETTLED = "deliveries-pause", "deliveries-settle"

viewer = auth.page_viewer("deliveries")
st.title("Deliveries")
if not viewer.may_change:
    components.read_only_note()

if viewer.may_change:
    with st.expander("Pause or resume all posting (a crisis, a pre-election period)"):
        if data.posting_pause().get("active"):
            if st.button("Resume all posting"):
                released = data.resume_posting(viewer)
                components.flash_and_rerun(f"Posting resumed: {released.deliveries} posts "
                                           "released; each goes out at its time (a paused "
                                           "campaign stays paused).", beside=PAUSED)
        else:
            with st.form("pause-all"):
                reason = st.text_input("Why pause everything? (shown on every held post)")
                if st.form_submit_button("Pause all posting"):
                    if not reason.strip():
                        st.error("Not paused: say why posting is paused, then press Pause "
                                 "again.")
                    else:
                        held = data.pause_posting(viewer, reason.strip())
                        components.flash_and_rerun(f"All posting paused: {held.deliveries} "
                                                   "waiting posts held. Nothing is sent until "
                                                   "someone resumes it here.", beside=PAUSED)
        components.show_flash(beside=PAUSED)

st.header("Needs attention")
attention = data.needs_attention(viewer)
if attention.empty:
    st.success("Nothing has failed, been missed, expired unsigned or is unconfirmed.",
               icon=":material/check_circle:")
else:
    components.table(attention, name="Failed, unconfirmed and missed posts, with what to do",
                     columns=components.ATTENTION_TABLE, hide=queries.IDS, lines=5)
    components.ids_and_export(attention, queries.IDS, name="Posts that need attention",
                              file_name="needs-attention.csv")

unconfirmed = DeliveryFilter(statuses=(DeliveryStatus.UNCONFIRMED.value,))
waiting_for_a_person = data.deliveries(viewer, unconfirmed) if viewer.may_change else None
if waiting_for_a_person is not None and not waiting_for_a_person.empty:
    with st.form("resolve"):
        st.markdown("**Settle an unconfirmed post** after checking the account's timeline")
        labels = {row["id"]: f"{row['when']}, {row['account']}: {row['campaign']}, post "
                             f"{row['post']}" for row in waiting_for_a_person.to_dict("records")}
        delivery_id = st.selectbox("Which post", list(labels), format_func=labels.__getitem__)
        outcome = st.radio("What did you find?", queries.RESOLUTIONS)
        remote_id = st.text_input("Its id on the network (when it is there)")
        if st.form_submit_button("Record what I found"):
            posted = outcome == queries.RESOLUTIONS[0]
            if posted and not remote_id.strip():
                st.error("Not recorded: give the post's id on the network (the last part of "
                         "its link), then record again.")
            else:
                try:
                    settled = data.resolve(viewer, int(delivery_id),
                                           remote_id=remote_id.strip() if posted else None,
                                           cancel=outcome == queries.RESOLUTIONS[2])
                except ResolveError as refused:
                    st.error(components.plain(f"Not recorded: {refused}"))
                else:
                    components.flash_and_rerun(f"Recorded: the post of {labels[delivery_id]} "
                                               f"is now {settled}.", beside=SETTLED)
components.show_flash(beside=SETTLED)  # under the form, or where it was when none is left

st.header("All deliveries")
statuses_column, campaign_column, account_column = st.columns(3)
statuses = statuses_column.multiselect("Status", [s.value for s in queries.STATUS_ORDER])
campaign_rows = data.campaigns(viewer)
campaign_names = dict(zip(campaign_rows["key"], campaign_rows["campaign"], strict=True))
health = data.account_health(viewer)
account_names = dict(zip(health["account key"], health["account"], strict=True))
campaign = campaign_column.selectbox("Campaign", ["all", *campaign_names],
                                     format_func=lambda k: campaign_names.get(k, "All"))
account = account_column.selectbox("Account", ["all", *data.account_keys(viewer)],
                                   format_func=lambda k: account_names.get(k, "All"))
upcoming = st.checkbox("Only the next twelve months")
now = utcnow().replace(second=0, microsecond=0)  # a stable cache key within the minute
wanted = DeliveryFilter(
    statuses=tuple(statuses),
    campaign_key=None if campaign == "all" else campaign,
    account_key=None if account == "all" else account,
    since=now if upcoming else None,
    until=now + timedelta(days=365) if upcoming else None,
)
listing = data.deliveries(viewer, wanted)
components.table(listing, name="Deliveries in send order", columns=components.DELIVERY_TABLE,
                 hide=queries.IDS, lines=3)
components.ids_and_export(listing, queries.IDS, name="Deliveries", file_name="deliveries.csv")
if len(listing) == queries.MAX_ROWS:
    st.caption(f"Showing the first {queries.MAX_ROWS:,}; narrow the filters to see the rest.")

st.header("Account health")
components.table(health, name="Accounts: connection state and errors",
                 columns=components.ACCOUNT_TABLE, hide=("account key",), lines=3)
components.ids_and_export(health, ("account key",), beside=("account",), name="Accounts",
                          file_name="accounts.csv")
