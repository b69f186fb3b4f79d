"""Data: the reporting sources in the database and the disclosure setting."""

import streamlit as st

from dashboard import auth, components, data

viewer = auth.page_viewer("data")
st.title("Data")
st.info("Import reporting files with `chorus reports import FILE` for now: importing them "
        "here, with a preview and the validation messages before anything is written, is still "
        "to come. This page lists the sources already in the database.", icon=":material/info:")

threshold = data.settings().suppression_threshold
st.write(f"Disclosure control: counts below {threshold} are shown as '<{threshold}' so that "
         "no one can be identified from a small number.")

st.subheader("Sources")
sources = data.datasets()
if sources.empty:
    st.write("No reporting data has been imported yet (chorus reports import FILE).")
else:
    components.table(sources, name="Imported reporting files")
