"""Partners: who takes part in which campaign, and share kits for posting by hand."""

import streamlit as st

from campaigns.users import BOARD
from dashboard import auth, components, data

viewer = auth.page_viewer("partners")
st.title("Partners" if viewer.sees_everything else "Your organisation")

components.table(data.partners(viewer), name="Partner organisations")

st.subheader("Consent per campaign")
st.caption("How each partner takes part: 'own accounts', Chorus posts from its connected "
           "accounts; 'share kit', a person there posts by hand; 'declined' or 'not asked', it "
           "does not take part. The lead organisation posts every campaign.")
components.table(data.consent_matrix(viewer), name="Consent of each partner to each campaign")

if viewer.role != BOARD:
    st.subheader("Share kits")
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
        st.download_button(f"Download {name}", kit, file_name=name, mime="application/zip",
                           icon=":material/download:")
