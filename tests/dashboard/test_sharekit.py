"""Share kits as ZIP files: a pure function of the kit and a timestamp."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from campaigns.formats.sharekit import KitImage, KitPost, ShareKit, build_zip, intent_link

STAMP = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
X_TEXT = "Hate crime is never OK. Report it: https://www.report-it.org.uk #NHCAW & more?"
KIT = ShareKit(
    partner_key="citizens-advice-york",
    partner_name="Citizens Advice York",
    campaign_key="nhcaw-2026",
    campaign_name="National Hate Crime Awareness Week 2026",
    posts=[
        KitPost("launch", datetime(2026, 10, 10, 9, 0, tzinfo=UTC), "Sat 10 Oct 2026, 10:00 BST",
                {"x": X_TEXT, "mastodon": "A longer Mastodon text.\n\nhttps://example.org"},
                [KitImage("card.png", "A purple card reading 'York stands together'.",
                          b"\x89PNG fake image bytes")]),
        KitPost("how-to-report", datetime(2026, 10, 12, 11, 30, tzinfo=UTC),
                "Mon 12 Oct 2026, 12:30 BST", {"bluesky": "Report it, in your own words."},
                [KitImage("missing.png", "A chart of reports by month.", None)]),
    ],
)


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_kit_holds_each_text_ready_to_copy_per_post_and_network() -> None:
    files = entries(build_zip(KIT, stamp=STAMP))
    assert files["posts/01-launch/x.txt"].decode() == X_TEXT + "\n"
    assert files["posts/01-launch/mastodon.txt"].decode().startswith("A longer Mastodon text.")
    assert files["posts/02-how-to-report/bluesky.txt"].decode() == (
        "Report it, in your own words.\n")


def test_the_x_intent_link_opens_the_composer_with_the_exact_text() -> None:
    link = entries(build_zip(KIT, stamp=STAMP))["posts/01-launch/x-intent-link.txt"]
    parts = urlsplit(link.decode().strip())
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/intent/post")
    assert parse_qs(parts.query)["text"] == [X_TEXT]
    assert intent_link("a b&c#d") == "https://x.com/intent/post?text=a%20b%26c%23d"


def test_images_travel_with_their_alt_text_and_a_missing_one_is_said_not_hidden() -> None:
    files = entries(build_zip(KIT, stamp=STAMP))
    assert files["posts/01-launch/card.png"] == b"\x89PNG fake image bytes"
    assert files["posts/01-launch/card.png.alt.txt"].decode().startswith("A purple card")
    assert "posts/02-how-to-report/missing.png" not in files
    assert files["posts/02-how-to-report/missing.png.alt.txt"]
    readme = files["README.txt"].decode()
    assert "image missing.png is missing" in readme
    assert "Sat 10 Oct 2026, 10:00 BST" in readme
    page = files["share-kit.html"].decode()
    assert 'alt="A purple card reading &#x27;York stands together&#x27;."' in page
    assert "&amp; more?" in page  # the text is escaped, not interpreted


def test_the_calendar_file_has_one_slot_per_post_at_its_send_time() -> None:
    ics = entries(build_zip(KIT, stamp=STAMP))["nhcaw-2026-citizens-advice-york.ics"]
    events = Calendar.from_ical(ics).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [p.send_at for p in KIT.posts]
    assert len({str(e["uid"]) for e in events}) == 2
    assert X_TEXT in str(events[0]["description"])
    assert "intent/post" in str(events[0]["description"])


def test_the_same_kit_and_stamp_give_the_same_bytes() -> None:
    assert build_zip(KIT, stamp=STAMP) == build_zip(KIT, stamp=STAMP)
    assert KIT.file_name == "share-kit-nhcaw-2026-citizens-advice-york.zip"


def test_a_kit_without_posts_says_so() -> None:
    empty = ShareKit("p", "Partner", "c", "Campaign")
    files = entries(build_zip(empty, stamp=STAMP))
    assert "none: this campaign has no posts for partners" in files["README.txt"].decode()
    assert not Calendar.from_ical(files["c-p.ics"]).walk("VEVENT")


def test_the_stamp_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        build_zip(KIT, stamp=datetime(2026, 9, 1, 12, 0))
