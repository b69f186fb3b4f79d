"""Campaigns written in the browser: saved through the content files' own checks, refused with
the file validator's words, and never silently replaced by a later `chorus content load`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.core.planning import Rules
from campaigns.formats.content import Problem, read_library
from campaigns.formats.plan_check import check_content
from campaigns.storage import db
from campaigns.storage.authoring import (
    AuthoringInvalid,
    ImageRefused,
    check_campaign,
    measure_post,
    new_document,
    save_campaign,
    send_document,
    send_parts,
    store_image,
    stored_document,
    where,
    with_post,
)
from campaigns.storage.export import CONFLICT_ADVICE, ContentConflict, dump_yaml
from campaigns.storage.loader import load_library
from campaigns.storage.models import Campaign, Post, Variant
from tests.conftest import NOW

ZONE = "Europe/London"
EDITOR = "Olu Officer"
KEY = "nhcaw-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
Document = dict[str, Any]


def load(sessions: sessionmaker[Session], content_dir: Path, **options: bool) -> Any:
    with db.transaction(sessions) as session:
        return load_library(read_library(content_dir), session=session,
                            default_timezone=ZONE, **options)


@pytest.fixture
def loaded(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    load(sessions, content_dir)
    return sessions


def stored(sessions: sessionmaker[Session], key: str = KEY) -> Document:
    with sessions() as session:
        document = stored_document(key, session=session)
    assert document is not None
    return document


def save(sessions: sessionmaker[Session], content_dir: Path, document: Document,
         original_key: str | None = KEY) -> Any:
    with db.transaction(sessions) as session:
        return save_campaign(document, session=session, content_dir=content_dir,
                             default_timezone=ZONE, editor=EDITOR, now=NOW,
                             original_key=original_key)


def post(document: Document, key: str) -> dict[str, Any]:
    return next(p for p in document["posts"] if p["key"] == key)


def variant_text(sessions: sessionmaker[Session], post_key: str, network: str,
                 owner: str = "") -> str:
    with sessions() as session:
        return session.scalars(
            select(Variant.text).join(Variant.post).join(Post.campaign)
            .where(Campaign.key == KEY, Post.key == post_key, Variant.network == network,
                   Variant.organisation_key == owner)).one()


def campaign(sessions: sessionmaker[Session], key: str = KEY) -> Campaign:
    with sessions() as session:
        return session.scalars(select(Campaign).where(Campaign.key == key)).one()


# ---- saving -------------------------------------------------------------------------------------


NEW_WORDS = ("Hate crime is never acceptable in York. If it happens to you, report it online "
             "in your own words. #NHCAW")


def test_a_valid_edit_is_saved_and_marked_as_made_in_the_browser(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    post(document, "launch")["variants"]["x"] = NEW_WORDS
    saved = save(loaded, content_dir, document)
    assert saved.changed and dict(saved.result.updated) == {"variants": 1}
    assert "plan" in saved.summary() and "approves" in saved.summary()
    assert variant_text(loaded, "launch", "x") == NEW_WORDS
    row = campaign(loaded)
    assert (row.edited_by, row.edited_at) == (EDITOR, NOW)
    assert row.author == "Sam Patel (Communications Officer)"  # the author stays the author


def test_saving_what_is_already_stored_changes_nothing_and_marks_nothing(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    saved = save(loaded, content_dir, stored(loaded))
    assert not saved.changed
    assert campaign(loaded).edited_at is None


def test_a_new_campaign_is_created_with_the_signed_in_user_as_author(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = new_document(key="hate-crime-week-2027", name="Hate crime week 2027",
                            event="national-hate-crime-awareness-week", year=2027,
                            timezone=ZONE, author="someone else entirely")
    document = with_post(document, {
        "key": "launch", "send": send_document("day", 1, send_parts({"at": "09:30"})[2]),
        "reporting_channel": "stop-hate-uk",
        "variants": {"x": "Call Stop Hate UK on 0800 138 1625, day or night. #HateCrime"}})
    saved = save(loaded, content_dir, document, original_key=None)
    assert saved.created and saved.changed
    row = campaign(loaded, "hate-crime-week-2027")
    assert (row.author, row.edited_by, row.withdrawn) == (EDITOR, EDITOR, False)
    assert stored(loaded, "hate-crime-week-2027")["posts"][0]["send"] == {"day": 1, "at": "09:30"}


def test_warnings_do_not_stop_a_save_but_come_back_with_it(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    post(document, "launch")["variants"]["x"] = NEW_WORDS + " #reportinghatecrime #York"
    saved = save(loaded, content_dir, document)
    assert saved.changed
    messages = [w.message for w in saved.warnings]
    assert any("3 hashtags" in m for m in messages)
    assert any("CamelCase" in m for m in messages)


# ---- refusing, in the file validator's words ----------------------------------------------------


def _too_long(d: Document) -> None:
    post(d, "launch")["variants"]["x"] = "Report hate crime. " * 20


def _no_channel_contact(d: Document) -> None:
    launch = post(d, "launch")
    launch.pop("link")
    launch["variants"]["x"] = "York stands together against hate. #NHCAW"


def _no_alt_text(d: Document) -> None:
    post(d, "launch")["images"][0]["alt"] = "   "


def _missing_image(d: Document) -> None:
    post(d, "launch")["images"][0]["file"] = "images/not-there.png"


def _unknown_channel(d: Document) -> None:
    post(d, "launch")["reporting_channel"] = "stop-hate"


def _unknown_partner(d: Document) -> None:
    post(d, "launch")["partner_variants"]["north-yorkshire-polce"] = {"x": NEW_WORDS}


def _unknown_account(d: Document) -> None:
    post(d, "launch")["audience"] = ["lead-x", "police-z"]


def _unknown_field(d: Document) -> None:
    post(d, "launch")["colour"] = "purple"


def _bad_send_time(d: Document) -> None:
    post(d, "launch")["send"] = {"day": 1, "days_before": 2, "at": "25:00"}


def _clock_change(d: Document) -> None:
    post(d, "thank-you")["send"] = {"days_after": 8, "at": "01:30"}  # 25 October 2026


def _same_x_words(d: Document) -> None:
    del post(d, "launch")["partner_variants"]["north-yorkshire-police"]  # the lead's words


def _unknown_event(d: Document) -> None:
    d["campaign"]["event"] = "national-hate-crime-week"


MISTAKES: dict[str, Callable[[Document], None]] = {
    "too long for X": _too_long, "no reporting channel": _no_channel_contact,
    "no alt text": _no_alt_text, "image missing": _missing_image,
    "unknown channel": _unknown_channel, "unknown partner": _unknown_partner,
    "unknown account": _unknown_account, "unknown field": _unknown_field,
    "bad send time": _bad_send_time, "clocks go back": _clock_change,
    "unknown event": _unknown_event, "the planner refuses the same X words": _same_x_words,
}


def as_file_problems(content_dir: Path, document: Document) -> list[tuple[Any, ...]]:
    """What `chorus content validate` says about `document` written as its file."""
    file = content_dir / "campaigns" / f"{KEY}.yaml"
    file.write_text(dump_yaml(document), encoding="utf-8")
    library = check_content(content_dir, rules=Rules(), default_timezone=ZONE)
    return [_comparable(p) for p in library.problems if p.file.endswith(f"{KEY}.yaml")]


def _comparable(problem: Problem) -> tuple[Any, ...]:
    return (Path(problem.file).name, problem.line, problem.field, problem.message,
            problem.severity)


@pytest.mark.parametrize("mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_invalid_content_is_refused_with_the_same_messages_as_the_file_validator(
    loaded: sessionmaker[Session], content_dir: Path, mistake: Callable[[Document], None]
) -> None:
    document = stored(loaded)
    mistake(document)
    with loaded() as session:
        checked = check_campaign(document, session=session, content_dir=content_dir,
                                 default_timezone=ZONE, original_key=KEY)
    assert checked.errors
    expected = as_file_problems(content_dir, copy.deepcopy(document))
    assert sorted(_comparable(p) for p in checked.problems) == sorted(expected)
    before = stored(loaded)
    with pytest.raises(AuthoringInvalid) as refused:
        save(loaded, content_dir, document)
    assert refused.value.problems == checked.problems
    assert stored(loaded) == before
    assert campaign(loaded).edited_at is None


def test_the_check_refuses_what_the_planner_refuses_at_the_wording_to_change(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    _same_x_words(document)
    with loaded() as session:
        checked = check_campaign(document, session=session, content_dir=content_dir,
                                 default_timezone=ZONE, original_key=KEY)
    [problem] = checked.errors
    assert problem.field == "posts[1].variants.x"
    assert problem.line == as_file_problems(content_dir, document)[0][1] > 1
    assert problem.message == (
        "York Hate Crime Partnership on X (@YorkAgainstHate) and North Yorkshire Police (York) "
        "on X (@NYP_YorkHate) would post the same words. X does not allow the same text on "
        "several accounts: give North Yorkshire Police (York) its own X wording.")


def test_a_new_campaign_may_not_take_a_key_already_in_use(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    with pytest.raises(AuthoringInvalid) as refused:
        save(loaded, content_dir, stored(loaded), original_key=None)
    [problem] = [p for p in refused.value.problems if p.severity == "error"]
    assert (problem.field, problem.line) == ("campaign.key", 2)
    assert "already used by National Hate Crime Awareness Week 2026" in problem.message


def test_an_edit_may_not_change_the_campaigns_key(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    document["campaign"]["key"] = "nhcaw-2026-renamed"
    with pytest.raises(AuthoringInvalid, match="1 error") as refused:
        save(loaded, content_dir, document)
    assert "keys never change" in refused.value.problems[0].message


def test_problems_are_named_by_post_for_people() -> None:
    document = {"posts": [{"key": "countdown"}, {"key": "launch"}]}
    problem = Problem("campaigns/x.yaml", 30, "posts[1].variants.x", "too long")
    assert where(problem, document) == "post launch, X wording"
    assert where(Problem("f", 2, "campaign.key", "m"), document) == "campaign key"
    own = Problem("f", 40, "posts[0].partner_variants.police.x", "m")
    assert where(own, document, {"police": "Police"}) == "post countdown, Police's own X wording"


def test_the_length_counter_says_how_long_each_variant_is_against_its_limit() -> None:
    [x, bluesky] = measure_post({"link": "https://www.report-it.org.uk",
                                 "variants": {"x": "Report it.", "bluesky": "é" * 301}})
    assert x.counter() == "35 of 280 characters, fits"  # 10, two newlines, a link as 23
    assert x.text == "Report it.\n\nhttps://www.report-it.org.uk"
    assert bluesky.counter().startswith("331 of 300 graphemes, does not fit")  # whole link


# ---- images -------------------------------------------------------------------------------------


def test_an_uploaded_image_is_kept_under_the_content_images_by_its_digest(
    tmp_path: Path,
) -> None:
    first = store_image(tmp_path, "Our Poster (final).PNG", PNG)
    assert first.startswith("images/our-poster-final-") and first.endswith(".png")
    assert (tmp_path / first).read_bytes() == PNG
    assert store_image(tmp_path, "again.png", PNG) != first  # its own name, same bytes
    assert store_image(tmp_path, "Our Poster (final).PNG", PNG) == first
    assert store_image(tmp_path, "other.png", PNG + b"1") != first


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("poster.svg", b"<svg/>", "use a PNG, JPEG"),
    ("poster.png", b"GIF89a....", "not a PNG image"),
    ("poster.jpg", b"\xff\xd8\xff" + b"0" * (6 * 1024 * 1024), "at most 5 MB"),
])
def test_an_upload_that_is_not_a_usable_image_is_refused(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(ImageRefused, match=reason):
        store_image(tmp_path, name, data)
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").iterdir())


def test_a_post_can_use_an_image_uploaded_in_the_browser(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    name = store_image(content_dir, "crowd.png", PNG)
    post(document, "thank-you")["images"] = [{"file": name, "alt": "People holding a banner."}]
    assert save(loaded, content_dir, document).changed
    assert post(stored(loaded), "thank-you")["images"] == [
        {"file": name, "alt": "People holding a banner."}]


# ---- loading files over a browser edit ----------------------------------------------------------


runner = CliRunner()


def test_loading_the_old_files_after_a_browser_edit_is_refused_and_changes_nothing(
    loaded: sessionmaker[Session], content_dir: Path, env: str
) -> None:
    document = stored(loaded)
    post(document, "launch")["variants"]["x"] = NEW_WORDS
    save(loaded, content_dir, document)

    refused = runner.invoke(app, ["content", "load", str(content_dir)])
    assert refused.exit_code == 1
    assert "nhcaw-2026.yaml: campaign 'nhcaw-2026' was edited in the browser by Olu Officer" \
        in refused.stderr
    assert "post launch differs" in refused.stderr
    assert "the file has not changed since it was last loaded" in refused.stderr
    assert " ".join(CONFLICT_ADVICE.split()) in " ".join(refused.stderr.split())
    assert variant_text(loaded, "launch", "x") == NEW_WORDS
    assert campaign(loaded).edited_by == EDITOR

    applied = runner.invoke(app, ["content", "load", "--overwrite", str(content_dir)])
    assert applied.exit_code == 0, applied.stderr
    assert "changed: 1 variants" in applied.stdout
    assert variant_text(loaded, "launch", "x").startswith("National Hate Crime Awareness Week")
    row = campaign(loaded)
    assert (row.edited_at, row.edited_by) == (None, None)
    again = runner.invoke(app, ["content", "load", str(content_dir)])
    assert "nothing changed" in again.stdout


def test_a_file_that_already_says_what_the_browser_saved_loads_without_conflict(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    post(document, "launch")["variants"]["x"] = NEW_WORDS
    save(loaded, content_dir, document)
    (content_dir / "campaigns" / f"{KEY}.yaml").write_text(dump_yaml(document))
    result = load(loaded, content_dir)
    assert not result.changed
    assert campaign(loaded).edited_at is None  # the files have caught up


def test_a_campaign_created_in_the_browser_is_not_withdrawn_by_files_without_it(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = new_document(key="extra-2026", name="Extra", timezone=ZONE, author=EDITOR,
                            event="national-hate-crime-awareness-week", year=2026)
    save(loaded, content_dir, with_post(document, post(stored(loaded), "countdown")),
         original_key=None)
    with pytest.raises(ContentConflict) as conflict:
        load(loaded, content_dir)
    [found] = conflict.value.conflicts
    assert found.campaign_key == "extra-2026"
    assert "no file has it: loading would withdraw it" in str(found)
    assert not campaign(loaded, "extra-2026").withdrawn
    load(loaded, content_dir, overwrite=True)
    assert campaign(loaded, "extra-2026").withdrawn


def test_changes_on_both_sides_name_what_differs(
    loaded: sessionmaker[Session], content_dir: Path
) -> None:
    document = stored(loaded)
    post(document, "launch")["variants"]["x"] = NEW_WORDS
    save(loaded, content_dir, document)
    file = content_dir / "campaigns" / f"{KEY}.yaml"
    file.write_text(file.read_text().replace("key: thank-you", "key: thanks"))
    with pytest.raises(ContentConflict) as conflict:
        load(loaded, content_dir)
    message = str(conflict.value.conflicts[0])
    assert "has not changed" not in message
    assert "post launch differs; post thanks only in the file; post thank-you only in the " \
           "browser's version" in message
