"""Data: import reporting files (officers), with a preview and every validation message before
anything is written; the disclosure threshold; the sources already imported."""

import streamlit as st

from campaigns.formats.reports.grid import MAX_FILE_BYTES
from campaigns.formats.reports.values import ReportsInvalid
from dashboard import auth, components, data
from dashboard.components import plain
from dashboard.insights.uploads import SUFFIXES

UPLOAD_MB = MAX_FILE_BYTES // 2**20  # the readers refuse more anyway; the browser says so first

#: What files are read, in the officer's words (the command line's name for it is not theirs).
LAYOUTS = ("A CSV, XLSX or ODS file in one of three layouts: one count per row (period start "
           "and end, area, strand, source and count columns); the Home Office's hate crime "
           "tables (Financial Year, Force Name and Number of Offences); or a table with a "
           "column for each strand (Race, Religion, Sexual orientation, Disability, "
           "Transgender). Chorus checks the whole file first and shows what it found: nothing "
           "is written until you import it, and then all of it or nothing.")

#: The files imported: which file and where its figures were published come first, the
#: citation wrapped onto three lines so that it is read whole at 1280 px.
SOURCES_TABLE = {
    "file": st.column_config.Column("File", width=230),
    "citation": st.column_config.Column("Citation", width=330),
    "source": st.column_config.Column("Sources", width=220),
}

viewer = auth.page_viewer("data")
st.title("Data")
if not viewer.may_change:
    components.read_only_note()

threshold = data.settings().suppression_threshold
st.write(f"Disclosure control: in any table of reports finer than a force's annual totals, "
         f"counts below {threshold} are shown as '<{threshold}', and other counts that would "
         "give them away as '[c]', so that no one can be identified from a small number.")

if viewer.may_change:
    st.header("Import a reporting file")
    st.write(plain(LAYOUTS))
    upload = st.file_uploader(f"Reporting file (CSV, XLSX or ODS, at most {UPLOAD_MB} MB)",
                              type=[s.lstrip(".") for s in SUFFIXES],
                              max_upload_size=UPLOAD_MB)
    source = st.text_input("Source, for a Home Office or per-strand table (optional)",
                           placeholder="police-recorded", autocomplete="off")
    citation = st.text_input("Citation: where the figures were published (optional; the "
                             "file's own '# citation:' line otherwise)", autocomplete="off")
    if upload is not None:
        content = upload.getvalue()
        preview = data.upload_preview(content, upload.name, source.strip() or None)
        said = components.plain(preview.summary())
        if preview.importable:
            st.success(said, icon=":material/check_circle:")
        elif preview.imported_before:
            st.info(said, icon=":material/info:")
        else:
            st.warning(said, icon=":material/warning:")
        if not preview.problems.empty:
            components.table(preview.problems, name=f"Problems found in {preview.name}")
        if preview.total_counts:
            if preview.synthetic:
                st.warning("This file is marked synthetic ('# synthetic'): its figures will be "
                           "labelled synthetic wherever they are shown.",
                           icon=":material/science:")
            shown = len(preview.counts)
            more = (f" (the first {shown:,} of {preview.total_counts:,})"
                    if shown < preview.total_counts else "")
            st.markdown(f"**The counts it would store{more}**")
            components.table(preview.counts, name=f"Counts read from {preview.name}")
        if preview.importable and st.button(
                f"Import {preview.total_counts:,} counts from {components.plain(preview.name)}",
                type="primary"):
            try:
                result = data.import_reports(viewer, content, upload.name,
                                             source=source.strip() or None,
                                             citation=citation.strip() or None)
            except ReportsInvalid as refused:
                st.error(components.plain(f"Nothing was imported: {refused}. " + "; ".join(
                    str(p) for p in refused.problems)))
            else:
                components.flash_and_rerun(
                    f"Imported {result.counts:,} counts from {preview.name} "
                    f"({', '.join(result.areas)}, {result.first_day} to {result.last_day}).")

st.header("Sources")
sources = data.datasets()
if sources.empty:
    st.write("No reporting data has been imported yet.")
else:
    components.table(sources, name="Imported reporting files", columns=SOURCES_TABLE, lines=3)
