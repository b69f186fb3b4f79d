"""The Chorus dashboard: `chorus dashboard` (or `streamlit run dashboard/app.py`).

Signed out, the only page is the sign-in page. Signed in, navigation offers the pages the
user's role allows (see dashboard.auth.PAGES); each page checks the role again itself.
"""

import streamlit as st

from dashboard import auth, components, data

st.set_page_config(page_title="Chorus", page_icon=":material/campaign:", layout="wide")

viewer = auth.current_viewer()
if viewer is None:
    st.navigation(auth.signed_out_pages(), position="hidden").run()
else:
    page = st.navigation(auth.pages_for(viewer))
    auth.sidebar(viewer)
    components.pause_banner(data.posting_pause())
    components.show_flash()
    page.run()
