"""Sign-off: what awaits sign-off, campaign by campaign, the earliest due first, with what
changed in each post since the last sign-off (its words, word by word, and its time); Approve
or Send back for someone whose sign-off counts, and who can sign it off for anyone else."""

import streamlit as st

from campaigns.storage.approval import ApprovalError
from campaigns.storage.sign_off_queue import (
    MARKS_EXPLAINED,
    Change,
    QueuedCampaign,
    QueuedPost,
    marked,
)
from dashboard import auth, sign_off_data
from dashboard.components import plain

#: What the last Approve or Send back did (said at the top of the queue: the campaign leaves
#: it), and, per campaign, why one was refused (said beside its buttons), and the reason typed.
DONE, REFUSED, REASON = "sign-off-done", "sign-off-refused:", "sign-off-reason:"

viewer = auth.page_viewer("sign-off")
st.title("Sign-off")
st.caption("What awaits sign-off, campaign by campaign, the earliest due first, and what "
           "changed in each post since it was last signed off."
           + (" You sign off here; you cannot change the posts." if not viewer.may_change
              else ""))


def describe(campaign: QueuedCampaign) -> None:
    """Who wrote it, how much awaits, by when, and whether it was sent back."""
    st.subheader(plain(campaign.name))
    st.write(plain(campaign.written_by()))
    st.write(plain(campaign.waiting_text()))
    deadline = plain(campaign.deadline_text())
    if campaign.overdue or campaign.due_soon:
        st.warning(deadline, icon=":material/schedule:")
    else:
        st.write(deadline)
    if campaign.sent_back:
        st.warning(plain(campaign.sent_back[0].upper() + campaign.sent_back[1:]
                         + ". It awaits its author's changes, or sign-off as it is."),
                   icon=":material/undo:")


def post(item: QueuedPost) -> None:
    """One post awaiting sign-off: when and where, what changed, and its words (as text, never
    Markdown: no link, address or handle in them becomes anything but text)."""
    with st.container(border=True):
        st.markdown(f"**Post {plain(item.post_key)}** · {plain(item.when)}")
        st.text(item.account)
        st.write(plain(item.what_changed()))
        if item.change is Change.CHANGED and item.words_changed:
            st.caption("Words since the last sign-off:")
            st.text(marked(item.diff))
        else:
            st.caption("Words:")
            st.text(item.text)


def sign_off(campaign: QueuedCampaign) -> None:
    """Approve or Send back, offered only to someone whose sign-off will be accepted."""
    if not campaign.may_sign_off:
        st.info(plain(campaign.who_signs_off()), icon=":material/how_to_reg:")
        return
    posts = "1 post" if campaign.awaiting == 1 else f"{campaign.awaiting} posts"
    st.button(f"Approve {posts} of {plain(campaign.name)}", type="primary",
              key=f"approve-{campaign.key}", on_click=approve,
              args=(campaign.key, campaign.name, campaign.seen))
    refusal(campaign.key)
    with st.form(f"send-back-{campaign.key}"):
        st.text_input("Or send it back: what should change? (shown to its author)",
                      key=REASON + campaign.key)
        st.form_submit_button("Send back", on_click=send_back,
                              args=(campaign.key, campaign.name))


# The clicks' callbacks: they change the database before the queue's one rerun, which then
# shows the queue as it now is and what was done, or why it was refused.

def approve(campaign_key: str, name: str, seen: dict[int, str]) -> None:
    try:
        result = sign_off_data.approve(viewer, campaign_key, seen)
    except ApprovalError as refused:
        st.session_state[REFUSED + campaign_key] = str(refused)
        return
    said = f"{result.approved} posts of {name} approved by {result.approver}."
    if result.not_approved:
        said += (f" {result.not_approved} more were not: their time came (they expired) "
                 "while you were reading.")
    st.session_state[DONE] = said


def send_back(campaign_key: str, name: str) -> None:
    reason = st.session_state.get(REASON + campaign_key, "")
    try:
        result = sign_off_data.send_back(viewer, campaign_key, reason)
    except ApprovalError as refused:
        st.session_state[REFUSED + campaign_key] = str(refused)
        return
    st.session_state[DONE] = (f"{result.approved} posts of {name} sent back by "
                              f"{result.approver}; they stay unsent until its author changes "
                              "them in Compose and they are signed off again.")


def refusal(campaign_key: str) -> None:
    message = st.session_state.pop(REFUSED + campaign_key, None)
    if message:
        st.error(plain(message), icon=":material/block:")


@st.fragment
def queue_section() -> None:
    """The queue: Approve and Send back rerun this alone, never the navigation around it."""
    st.header("Awaiting sign-off")
    said = st.session_state.pop(DONE, None)
    if said:
        # No toast besides: Streamlit's has no accessible name (axe: aria-dialog-name).
        st.success(plain(said), icon=":material/check_circle:")
    waiting = sign_off_data.queue(viewer)
    if not waiting:
        st.info("Nothing awaits sign-off.", icon=":material/done_all:")
        return
    count = "1 campaign awaits" if len(waiting) == 1 else f"{len(waiting)} campaigns await"
    st.write(f"{count} sign-off, the earliest due first.")
    st.caption(plain(MARKS_EXPLAINED))
    for campaign in waiting:
        with st.container(border=True):
            describe(campaign)
            with st.expander(f"The {campaign.awaiting} posts and what changed", expanded=True):
                for item in campaign.posts:
                    post(item)
            sign_off(campaign)


queue_section()
