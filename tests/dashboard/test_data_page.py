"""The Data page: an officer uploads a reporting file, sees what it holds and every problem in
it before anything is written, and imports it; the board sees the sources, read-only."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.storage.models import ReportCount, ReportDataset
from dashboard.auth import PAGES
from dashboard.insights.uploads import upload_file_name
from dashboard.queries import SYNTHETIC_LABEL
from tests.conftest import ROOT
from tests.dashboard.conftest import BOARD, OFFICER, Person, button, frames

SignedIn = Callable[[Person], AppTest]
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
UPLOADER = "Reporting file (CSV, XLSX or ODS, at most 50 MB)"


def data_page(at: AppTest) -> AppTest:
    return at.switch_page(PAGES["data"].path).run()


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    [uploader] = at.get("file_uploader")
    assert uploader.label == UPLOADER
    uploader.upload(name, content, "application/octet-stream")
    at.run()
    assert not at.exception, at.exception
    return at


def stored(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        return (session.scalar(select(func.count()).select_from(ReportDataset)) or 0,
                session.scalar(select(func.count()).select_from(ReportCount)) or 0)


def import_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label.startswith("Import")]


def test_a_malformed_upload_shows_every_problem_and_writes_nothing(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = upload(data_page(signed_in(OFFICER)), "long-bad-values.csv",
                (FIXTURES / "long-bad-values.csv").read_bytes())
    problems = next(f for f in frames(at) if "message" in f.columns)
    assert list(problems.columns) == ["file", "sheet", "row", "column", "message"]
    assert set(problems["file"]) == {"long-bad-values.csv"}
    by_place = {(row, column): message for row, column, message
                in zip(problems["row"], problems["column"], problems["message"], strict=True)}
    assert by_place[("2", "count")] == "'three' is not a whole number"
    assert by_place[("3", "count")] == "-2 is negative: a count is 0 or more"
    assert "is before period_start" in by_place[("4", "period_end")]
    assert "unknown strand 'misogyny'" in by_place[("5", "strand")]
    assert by_place[("8", "area")] == "no area given"
    assert any("problem(s) in long-bad-values.csv" in w.value and "Nothing has been written"
               in w.value for w in at.warning)
    assert import_buttons(at) == []
    assert stored(seeded_sessions) == (0, 0)


def test_a_damaged_workbook_is_named_as_such(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = upload(data_page(signed_in(OFFICER)), "corrupt.xlsx",
                (FIXTURES / "corrupt.xlsx").read_bytes())
    problems = next(f for f in frames(at) if "message" in f.columns)
    assert problems["message"].str.startswith("not a readable XLSX workbook").all()
    assert import_buttons(at) == []
    assert stored(seeded_sessions) == (0, 0)


def test_an_officer_previews_then_imports_a_valid_workbook(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    frame = pd.read_csv(FIXTURES / "long.csv")
    workbook = io.BytesIO()
    frame.to_excel(workbook, sheet_name="York", index=False)
    at = upload(data_page(signed_in(OFFICER)), "york-weekly.xlsx", workbook.getvalue())
    preview = next(f for f in frames(at) if "period_start" in f.columns)
    assert len(preview) == len(frame) == 5
    assert set(preview["sheet"]) == {"York"}
    assert preview["count"].sum() == frame["count"].sum()
    assert any("york-weekly.xlsx is valid" in s.value for s in at.success)
    assert stored(seeded_sessions) == (0, 0)  # nothing yet: only a preview

    button(at, "Import 5 counts from york-weekly.xlsx").click().run()
    assert not at.exception
    assert any("Imported 5 counts from york-weekly.xlsx" in s.value for s in at.success)
    assert stored(seeded_sessions) == (1, 5)
    with seeded_sessions() as session:
        dataset = session.scalars(select(ReportDataset)).one()
        assert (dataset.file_name, dataset.imported_by) == ("york-weekly.xlsx", OFFICER.name)
    sources = frames(at)[-1]
    assert sources["file"].tolist() == ["york-weekly.xlsx"]
    assert sources["imported by"].tolist() == [OFFICER.name]
    # The same file is still in the uploader: importing it again would change nothing.
    assert any("was imported before" in i.value for i in at.info)
    assert import_buttons(at) == []


def test_the_source_and_citation_given_are_used_for_a_home_office_table(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = data_page(signed_in(OFFICER))
    next(t for t in at.text_input if t.label.startswith("Source")).input("true vision")
    next(t for t in at.text_input if t.label.startswith("Citation")).input("Home Office, 2019")
    upload(at, "home-office-totals.csv", (FIXTURES / "home-office-totals.csv").read_bytes())
    preview = next(f for f in frames(at) if "period_start" in f.columns)
    assert set(preview["source"]) == {"true-vision"}
    [label] = import_buttons(at)
    button(at, label).click().run()
    with seeded_sessions() as session:
        dataset = session.scalars(select(ReportDataset)).one()
        assert (dataset.source, dataset.citation) == ("true-vision", "Home Office, 2019")


def test_a_synthetic_upload_is_labelled_before_and_after_import(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = upload(data_page(signed_in(OFFICER)), "long-synthetic.csv",
                (FIXTURES / "long-synthetic.csv").read_bytes())
    assert any("marked synthetic" in w.value for w in at.warning)
    [label] = import_buttons(at)
    button(at, label).click().run()
    assert frames(at)[-1]["synthetic"].tolist() == [SYNTHETIC_LABEL]


def test_the_board_sees_the_threshold_and_sources_but_cannot_upload(
    signed_in: SignedIn,
) -> None:
    at = data_page(signed_in(BOARD))
    assert not at.exception and not at.error
    assert not at.get("file_uploader") and not at.text_input and not import_buttons(at)
    assert any("counts below 5 are shown as '<5'" in m.value for m in at.markdown)
    assert any("No reporting data has been imported yet" in m.value for m in at.markdown)


@pytest.mark.parametrize(("uploaded", "written"), [
    ("york.csv", "york.csv"),
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Users\\jo\\Reports 2025 (final).xlsx", "Reports 2025 (final).xlsx"),
    (".hidden.ods", "hidden.ods"),
    ("a;b|c.csv", "a_b_c.csv"),
])
def test_an_upload_is_written_under_its_own_name_only(uploaded: str, written: str) -> None:
    assert upload_file_name(uploaded) == written


def test_the_page_describes_the_files_it_reads_in_words_not_a_command(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = data_page(signed_in(OFFICER))
    text = "\n".join(m.value for m in at.markdown)
    assert "chorus reports import" not in text
    assert "the Home Office's hate crime tables" in text


def test_each_sources_citation_comes_second_and_wraps_so_it_is_read_whole(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = upload(data_page(signed_in(OFFICER)), "long-synthetic.csv",
                (FIXTURES / "long-synthetic.csv").read_bytes())
    [label] = import_buttons(at)
    button(at, label).click().run()
    shown = next(d for d in at.dataframe if "citation" in d.value.columns)
    assert list(shown.proto.column_order)[:3] == ["file", "citation", "source"]
    assert shown.proto.row_height >= 3 * 21  # three lines of text
