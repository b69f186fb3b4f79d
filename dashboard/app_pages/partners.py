"""Partners: who takes part in which campaign, and share kits for posting by hand."""

import streamlit as st

from campaigns.storage.manual_posts import EXAMPLE, ManualPostError
from campaigns.storage.users import APPROVER, BOARD
from dashboard import auth, components, data

#: Where a post recorded by hand is confirmed: under its button, and as a toast.
RECORDED = "partners-recorded"

viewer = auth.page_viewer("partners")
st.title("Partners" if viewer.sees_everything else "Your organisation")

components.table(data.partners(viewer), name="Partner organisations",
                 columns=components.PARTNER_TABLE, hide=("key",))

st.header("Consent per campaign")
st.caption("How each partner takes part: 'own accounts', Chorus posts from its connected "
           "accounts; 'share kit', a person there posts by hand; 'declined' or 'not asked', it "
           "does not take part. The lead organisation posts every campaign.")
components.table(data.consent_matrix(viewer), name="Consent of each partner to each campaign",
                 columns=components.CONSENT_TABLE)

if viewer.role not in (BOARD, APPROVER):  # they only read
    st.header("Share kits")
    options = data.share_kit_options(viewer)
    if options.empty and viewer.sees_everything:
        st.info("No share kits: no partner posts a campaign by hand.")
    elif options.empty:
        st.info("No share kits: your organisation posts its campaigns from its own accounts.")
    else:
        st.write("Everything needed to post a campaign by hand, in one ZIP: texts ready to "
                 "copy, X links that open the composer with the text filled in, images with "
                 "their alt text, and a calendar file of the posting slots.")
        choices = options.to_dict("records")
        chosen = st.selectbox("Share kit", choices,
                              format_func=lambda c: f"{c['partner']}: {c['campaign']}")
        name, kit = data.share_kit_zip(viewer, chosen["partner key"], chosen["campaign key"])
        st.download_button(components.plain(f"Download the share kit of {chosen['partner']} for "
                                            f"{chosen['campaign']} (ZIP)"), kit, file_name=name,
                           mime="application/zip", icon=":material/download:")

if data.may_record_by_hand(viewer):
    st.header("Record a post made by hand")
    whose = ("a partner's post" if viewer.may_change else "your organisation's post")
    st.write(f"After posting by hand (from a share kit), paste the link to {whose} here. "
             "Chorus then reads the post's public engagement like its own posts', so the board "
             "sees the whole partnership's reach. X links only, for now.")
    partner_rows = data.partners(viewer)
    partner_names: dict[str, str] = dict(zip(partner_rows["key"], partner_rows["organisation"],
                                             strict=True))
    # A partner records only its own organisation's posts: its choice is fixed.
    partner_keys: list[str] = (
        partner_rows.loc[partner_rows["role"] == "partner", "key"].tolist()
        if viewer.may_change else [str(viewer.organisation_key)])
    posts_of = data.hand_made_choices(viewer)
    if not posts_of:
        st.info("No campaign to record a post of: your organisation takes part in none yet."
                if not viewer.may_change else "No campaign to record a post of yet.")
    elif partner_keys:
        # Not disabled for a partner (its one choice is its own): a disabled widget's label
        # is drawn too faint to read.
        by_hand = st.selectbox("Partner who posted it", partner_keys, key="by-hand-partner",
                               format_func=lambda k: partner_names.get(k, k),
                               help=None if viewer.may_change else
                               "You can record your own organisation's posts only.")
        for_campaign = st.selectbox("Campaign", list(posts_of), key="by-hand-campaign",
                                    format_func=lambda k: posts_of[k][0])
        for_post = st.selectbox("Which of its posts", posts_of[for_campaign][1],
                                key="by-hand-post")
        link = st.text_input("Link to the post", key="by-hand-link",
                             placeholder=EXAMPLE.replace("YourAccount", "TheirAccount")
                             if viewer.may_change else EXAMPLE)
        if st.button("Record this post") and by_hand and for_campaign and for_post:
            try:
                data.record_by_hand(viewer, link, organisation_key=by_hand,
                                    campaign_key=for_campaign, post_key=for_post)
            except ManualPostError as refused:
                st.error(f"Not recorded: {components.plain(refused)}")
            else:
                components.flash_and_rerun(
                    f"Recorded {partner_names.get(by_hand, by_hand)}'s post of "
                    f"{posts_of[for_campaign][0]} ({for_post}) as posted: its engagement is "
                    "read from the next collection on and counts on the Board overview.",
                    beside=RECORDED)
        components.show_flash(beside=RECORDED)
