"""`chorus content export`: the database's content written back as content files that validate
and load without changing anything, edits made in the browser included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.authoring import save_campaign, stored_document
from campaigns.storage.export import NothingToExport, dump_yaml, export_content
from campaigns.storage.loader import load_library
from campaigns.storage.models import Campaign, Consent, Event, Post, Variant
from tests.conftest import NOW

ZONE = "Europe/London"
runner = CliRunner()


def load(sessions: sessionmaker[Session], directory: Path) -> Any:
    library = read_library(directory)
    assert not library.errors, [str(p) for p in library.errors]
    with db.transaction(sessions) as session:
        return load_library(library, session=session, default_timezone=ZONE)


def export(sessions: sessionmaker[Session], directory: Path, images_from: Path) -> Any:
    with sessions() as session:
        return export_content(directory, session=session, images_from=images_from)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        return {
            "events": session.execute(select(Event.key, Event.definition)
                                      .order_by(Event.key)).all(),
            "posts": session.execute(select(Post.key, Post.send, Post.audience, Post.link,
                                            Post.images, Post.withdrawn)
                                     .order_by(Post.campaign_id, Post.key)).all(),
            "variants": session.execute(select(Variant.post_id, Variant.network,
                                               Variant.organisation_key, Variant.text)
                                        .order_by(Variant.id)).all(),
            "consents": session.execute(select(Consent.campaign_id, Consent.organisation_id,
                                               Consent.mode).order_by(Consent.id)).all(),
            "campaigns": session.execute(select(Campaign.key, Campaign.name, Campaign.summary,
                                                Campaign.timezone, Campaign.withdrawn)
                                         .order_by(Campaign.key)).all(),
        }


def test_export_then_validate_then_load_changes_nothing(
    sessions: sessionmaker[Session], content_dir: Path, tmp_path: Path
) -> None:
    load(sessions, content_dir)
    before = snapshot(sessions)
    out = tmp_path / "exported"
    result = export(sessions, out, content_dir)
    assert result.notes == []
    assert result.images_copied == 1
    assert sorted(p.name for p in (out / "campaigns").iterdir()) == sorted(
        p.name for p in (content_dir / "campaigns").iterdir())
    exported = read_library(out)
    assert exported.errors == []
    assert len(exported.warnings) == len(read_library(content_dir).warnings)
    assert not load(sessions, out).changed
    assert snapshot(sessions) == before


def test_exported_files_read_like_the_documentation(
    sessions: sessionmaker[Session], content_dir: Path, tmp_path: Path
) -> None:
    load(sessions, content_dir)
    export(sessions, tmp_path, content_dir)
    campaign = (tmp_path / "campaigns" / "nhcaw-2026.yaml").read_text()
    assert "#" not in campaign.replace("#NHCAW", "").replace("#YorkStandsTogether", "") \
        .replace("#HateCrime", "")  # no comments
    assert campaign.startswith("campaign:\n  key: nhcaw-2026\n  name: ")
    assert "  - key: countdown\n    send: {days_before: 7, at: '10:00'}\n" in campaign
    assert "\n\n  - key: launch\n" in campaign
    keys = [p["key"] for p in yaml.safe_load(campaign)["posts"]]
    assert keys == ["countdown", "launch", "stop-hate-helpline", "reporting-centres",
                    "thank-you"]  # in the order they are sent
    events = (tmp_path / "events.yaml").read_text()
    assert "    rule: {date: 27 January}\n" in events
    assert "      2023:\n        start: 2023-11-16\n" in events
    partners = yaml.safe_load((tmp_path / "partners.yaml").read_text())["partners"]
    assert partners[1]["accounts"][0] == {"key": "police-x", "network": "x",
                                          "handle": "@NYP_YorkHate", "daily_cap": 3}


def test_an_edit_made_in_the_browser_is_exported_and_then_loads_without_conflict(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    with sessions() as session:
        document = stored_document("nhcaw-2026", session=session)
    assert document is not None
    document["posts"][1]["variants"]["mastodon"] = (
        "Line one of a new wording.\n\nLine two, after a blank line: report it online, "
        "in your own words. #NHCAW")
    with db.transaction(sessions) as session:
        save_campaign(document, session=session, content_dir=content_dir,
                      default_timezone=ZONE, editor="Olu Officer", now=NOW,
                      original_key="nhcaw-2026")
    result = export(sessions, content_dir, content_dir)  # over the library itself
    assert result.images_copied == 0 and result.notes == []
    assert "Line two, after a blank line" in (content_dir / "campaigns" /
                                              "nhcaw-2026.yaml").read_text()
    assert not load(sessions, content_dir).changed
    with sessions() as session:
        edited = session.scalars(select(Campaign.edited_at)
                                 .where(Campaign.key == "nhcaw-2026")).one()
    assert edited is None


def test_withdrawn_rows_and_one_off_posts_stay_out_of_the_files(
    sessions: sessionmaker[Session], content_dir: Path, tmp_path: Path
) -> None:
    (content_dir / "campaigns" / "idpd-2026.yaml").unlink()
    (content_dir / "partners.yaml").write_text(
        (content_dir / "partners.yaml").read_text().replace("      idpd-2026: accounts\n", ""))
    load(sessions, content_dir)
    with db.transaction(sessions) as session:
        session.add(Campaign(key="bulk-abc", name="One-off posts", event_key=None, year=2026,
                             timezone=ZONE, author="Olu"))
    export(sessions, tmp_path, content_dir)
    names = {p.name for p in (tmp_path / "campaigns").iterdir()}
    assert "idpd-2026.yaml" not in names and not any(n.startswith("bulk") for n in names)
    assert not load(sessions, tmp_path).changed


def test_files_already_there_keep_their_names_and_strangers_are_left_alone(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    folder = content_dir / "campaigns"
    (folder / "nhcaw-2026.yaml").rename(folder / "national-week.yaml")
    (folder / "draft-idea.yaml").write_text("campaign: {key: draft-idea}\n")
    result = export(sessions, content_dir, content_dir)
    assert (folder / "national-week.yaml").exists()
    assert not (folder / "nhcaw-2026.yaml").exists()
    assert [n for n in result.notes if "draft-idea" in n] == [
        f"{folder / 'draft-idea.yaml'}: left in place; campaign 'draft-idea' is not in the "
        "database (remove the file, or loading will add it again)"]


def test_an_image_missing_from_the_library_is_reported(
    sessions: sessionmaker[Session], content_dir: Path, tmp_path: Path
) -> None:
    load(sessions, content_dir)
    (content_dir / "images" / "nhcaw-2026-partners.png").unlink()
    result = export(sessions, tmp_path / "out", content_dir)
    assert result.notes == [f"images/nhcaw-2026-partners.png: image not found in {content_dir}; "
                            "copy it in before loading"]


def test_an_empty_database_has_nothing_to_export(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with pytest.raises(NothingToExport, match="load some first"):
        export(sessions, tmp_path / "out", tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", [
    "09:00", "yes", "no", "~", "null", "2026-10-10", "1e3", "0x10", "@handle", "#NHCAW first",
    "  leading spaces and a long enough sentence to be folded over more than one line of yaml",
    "trailing spaces at the end of a long sentence that is folded over more than one line   ",
    "two  spaces  between  words  in  a  long  sentence  that  is  folded  over  lines  here",
    "ends with newlines\n\n\n", "tab\there", "emoji 🏳️‍🌈 and Welsh: Ŵ ŷ", "quote ' and \" both",
    "a: colon, [brackets], {braces} & *stars* | pipes > folds % per cent ! bang",
])
def test_any_text_reads_back_exactly_as_it_was_written(text: str) -> None:
    data = {"posts": [{"key": "p", "send": {"day": 1, "at": "09:00"}, "audience": [text[:20]],
                       "variants": {"x": text, "bluesky": text * 3}}]}
    assert yaml.safe_load(dump_yaml(data)) == data


def test_the_export_command_writes_files_that_validate(
    sessions: sessionmaker[Session], content_dir: Path, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(sessions, content_dir)
    monkeypatch.setenv("CHORUS_CONTENT_DIR", str(content_dir))
    result = runner.invoke(app, ["content", "export", "out"])
    assert result.exit_code == 0, result.stderr
    assert "wrote out/campaigns/nhcaw-2026.yaml" in result.stdout
    assert "the files validate" in result.stdout
    with sessions() as session:
        posts = session.scalar(select(func.count()).select_from(Post))
    assert posts and sum(len(c.spec.posts) for c in read_library(Path("out")).campaigns) == posts
    validated = runner.invoke(app, ["content", "validate", "out"])
    assert validated.exit_code == 0, validated.stderr
    loaded = runner.invoke(app, ["content", "load", "out"])
    assert "nothing changed" in loaded.stdout
