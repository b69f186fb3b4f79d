"""Content validation: every problem in a directory, each naming its file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaigns.formats.content import Problem, read_library

CAMPAIGN = "campaigns/nhcaw-2026.yaml"


def problems(content_dir: Path, severity: str = "error") -> list[Problem]:
    library = read_library(content_dir)
    return [p for p in library.problems if p.severity == severity]


def edit(content_dir: Path, relative: str, old: str, new: str, count: int = 1) -> int:
    """Replace text in a content file; returns the 1-based line of the first replacement."""
    file = content_dir / relative
    body = file.read_text()
    assert old in body, f"{old!r} not in {relative}"
    line = body[: body.index(old)].count("\n") + 1
    file.write_text(body.replace(old, new, count))
    return line


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def test_shipped_content_has_no_errors() -> None:
    library = read_library(Path(__file__).parents[2] / "content")
    assert library.errors == []
    assert len(library.campaigns) >= 5
    assert any(c.key == "nhcaw-2026" for c in library.campaigns)


def test_shipped_content_follows_accessibility_guidance() -> None:
    library = read_library(Path(__file__).parents[2] / "content")
    assert library.warnings == []


def test_invalid_yaml_names_the_file_and_line(content_dir: Path) -> None:
    line = edit(content_dir, CAMPAIGN, "  - key: countdown\n", "  - key: [countdown\n")
    problem = only(problems(content_dir))
    assert problem.file.endswith(CAMPAIGN)
    assert "invalid YAML" in problem.message
    assert abs(problem.line - line) <= 2


def test_unknown_event_key_is_reported_with_a_suggestion(content_dir: Path) -> None:
    line = edit(content_dir, CAMPAIGN, "event: national-hate-crime-awareness-week",
                "event: national-hate-crime-awarness-week")
    problem = only(problems(content_dir))
    assert (problem.line, problem.field) == (line, "campaign.event")
    assert "unknown event key" in problem.message
    assert "national-hate-crime-awareness-week" in problem.message


def test_text_too_long_names_the_network_and_measured_length(content_dir: Path) -> None:
    line = edit(content_dir, CAMPAIGN, "        Next week is National Hate Crime Awareness Week. "
                "If someone targets you because of\n",
                "        " + "Far too long. " * 30 + "\n")
    problem = only(problems(content_dir))
    assert problem.field == "posts[0].variants.x"
    assert problem.line == line - 1
    assert re.search(r"\d{3} of 280", problem.message)


def test_missing_alt_text_is_an_error(content_dir: Path) -> None:
    body = (content_dir / CAMPAIGN).read_text()
    start = body.index("        alt: >-")
    end = body.index("    variants:", start)
    (content_dir / CAMPAIGN).write_text(body[:start] + "        alt: ''\n" + body[end:])
    problem = only(problems(content_dir))
    assert problem.field == "posts[1].images[0].alt"
    assert "alt text" in problem.message


def test_post_without_its_reporting_channel_in_the_text_is_an_error(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "0800 138 1625. Talk it through", "the helpline. Talk it through")
    problem = only(problems(content_dir))
    assert problem.field == "posts[2].variants.x"
    assert "does not point to its reporting channel Stop Hate UK" in problem.message


def test_unknown_reporting_channel_is_an_error(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "reporting_channel: true-vision", "reporting_channel: truevision")
    found = problems(content_dir)
    assert found[0].field == "posts[0].reporting_channel"
    assert "unknown reporting channel 'truevision'" in found[0].message


def test_unknown_partner_in_partner_variants_is_an_error(content_dir: Path) -> None:
    line = edit(content_dir, CAMPAIGN, "      north-yorkshire-police:\n",
                "      north-yorks-police:\n")
    problem = only(problems(content_dir))
    assert (problem.line, problem.field) == (line, "posts[1].partner_variants.north-yorks-police")
    assert "unknown partner" in problem.message


def test_unknown_account_in_audience_is_an_error(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "    audience: lead\n", "    audience: [lead-x, police-twitter]\n")
    problem = only(problems(content_dir))
    assert problem.field == "posts[0].audience[1]"
    assert "unknown account 'police-twitter'" in problem.message


def test_consent_for_an_unknown_campaign_is_an_error(content_dir: Path) -> None:
    line = edit(content_dir, "partners.yaml", "      nhcaw-2026: accounts\n",
                "      nhcaw-2062: accounts\n")
    problem = only(problems(content_dir))
    assert problem.file.endswith("partners.yaml")
    assert (problem.line, problem.field) == (line, "partners[1].consent.nhcaw-2062")


def test_local_time_skipped_by_the_clocks_going_forward_is_an_error(content_dir: Path) -> None:
    campaign = (content_dir / CAMPAIGN).read_text()
    spring = (campaign.replace("key: nhcaw-2026", "key: spring-2026")
              .replace("event: national-hate-crime-awareness-week",
                       "event: trans-day-of-visibility")
              .replace('send: {days_before: 7, at: "10:00"}',
                       'send: {days_before: 2, at: "01:30"}'))
    (content_dir / "campaigns" / "spring.yaml").write_text(spring)
    found = [p for p in problems(content_dir) if p.file.endswith("spring.yaml")]
    problem = only(found)
    assert problem.field == "posts[0].send.at"
    assert "does not exist" in problem.message
    assert "Sunday 29 March 2026 01:30" in problem.message


def test_local_time_repeated_by_the_clocks_going_back_is_an_error(content_dir: Path) -> None:
    # NHCAW 2026 ends on Saturday 17 October; the clocks go back on Sunday 25 October.
    edit(content_dir, CAMPAIGN, 'send: {days_after: 0, at: "16:00"}',
         'send: {days_after: 8, at: "01:15"}')
    problem = only(problems(content_dir))
    assert problem.field == "posts[4].send.at"
    assert "happens twice" in problem.message


def test_every_error_in_the_directory_is_reported_in_one_run(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "event: national-hate-crime-awareness-week", "event: nope")
    edit(content_dir, "campaigns/refugee-week-2027.yaml", "reporting_channel: stop-hate-uk",
         "reporting_channel: nobody")
    edit(content_dir, "partners.yaml", "    kind: police", "    kind: army")
    files = {p.file.rsplit("/", 1)[-1] for p in problems(content_dir)}
    assert files == {"nhcaw-2026.yaml", "refugee-week-2027.yaml", "partners.yaml"}


def test_misspelt_field_is_an_unknown_field_error(content_dir: Path) -> None:
    line = edit(content_dir, CAMPAIGN, "    audience: lead\n", "    audiense: lead\n")
    problem = only(problems(content_dir))
    assert (problem.line, problem.field) == (line, "posts[0].audiense")
    assert "unknown field" in problem.message


def test_send_needs_exactly_one_anchor(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, 'send: {days_before: 7, at: "10:00"}',
         'send: {days_before: 7, day: 2, at: "10:00"}')
    problem = only(problems(content_dir))
    assert problem.field == "posts[0].send"
    assert "exactly one of day, days_before or days_after" in problem.message


def test_unquoted_clock_time_is_read_as_a_time(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, 'at: "10:00"', "at: 10:00")
    assert problems(content_dir) == []


def test_lower_case_long_hashtag_is_a_warning_not_an_error(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "#NHCAW #YorkStandsTogether", "#NHCAW #yorkstandstogether")
    assert problems(content_dir) == []
    warning = only(problems(content_dir, "warning"))
    assert "#yorkstandstogether is all lower case" in warning.message
    assert "CamelCase" in warning.message


def test_more_than_two_hashtags_is_a_warning(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "#NHCAW #YorkStandsTogether", "#NHCAW #YorkStandsTogether #York")
    warning = only(problems(content_dir, "warning"))
    assert warning.field == "posts[1].variants.x"
    assert "3 hashtags" in warning.message


def test_duplicate_post_key_is_an_error(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, "  - key: thank-you", "  - key: countdown")
    problem = only(problems(content_dir))
    assert "post key 'countdown' is used twice" in problem.message


def test_missing_image_file_is_an_error(content_dir: Path) -> None:
    (content_dir / "images" / "nhcaw-2026-partners.png").unlink()
    problem = only(problems(content_dir))
    assert problem.field == "posts[1].images[0].file"


def test_problem_reads_as_file_line_field_message() -> None:
    problem = Problem("content/x.yaml", 12, "posts[0].variants.x", "too long")
    assert str(problem) == "content/x.yaml:12: posts[0].variants.x: too long"
    warning = Problem("content/x.yaml", 3, "f", "hmm", "warning")
    assert str(warning) == "content/x.yaml:3: warning: f: hmm"


@pytest.mark.parametrize("missing", ["events.yaml", "partners.yaml", "reporting-channels.yaml"])
def test_missing_required_file_is_reported(content_dir: Path, missing: str) -> None:
    (content_dir / missing).unlink()
    assert any(p.file.endswith(missing) and p.message == "file missing"
               for p in problems(content_dir))


# ---- hostile and careless files (issue 12) -------------------------------------------------


@pytest.mark.parametrize("named", ["/etc/passwd", "../../var/secret.key", "images/../../x.png"])
def test_an_image_outside_the_content_directory_is_an_error(
    content_dir: Path, named: str
) -> None:
    edit(content_dir, CAMPAIGN, "file: images/nhcaw-2026-partners.png", f"file: {named}")
    problem = only(problems(content_dir))
    assert problem.field == "posts[1].images[0].file"
    assert "outside" in problem.message or "relative" in problem.message


def test_an_image_file_that_is_not_an_image_is_an_error(content_dir: Path) -> None:
    (content_dir / "images" / "nhcaw-2026-partners.png").write_bytes(b"gAAAAAB-secret")
    problem = only(problems(content_dir))
    assert "not a PNG image" in problem.message


def test_a_key_given_twice_is_an_error_naming_both_lines(content_dir: Path) -> None:
    line = edit(content_dir, CAMPAIGN, "  year: 2026\n", "  year: 2026\n  year: 2027\n")
    problem = only(problems(content_dir))
    assert problem.line == line + 1
    assert f"'year' is given twice (first on line {line})" in problem.message


def test_a_clock_time_without_its_colon_is_refused_not_read_as_minutes(
    content_dir: Path
) -> None:
    edit(content_dir, CAMPAIGN, 'at: "10:00"', "at: 930")
    problem = only(problems(content_dir))
    assert problem.field == "posts[0].send.at"
    assert "24-hour clock time" in problem.message


def test_an_unquoted_single_digit_hour_is_read_as_written(content_dir: Path) -> None:
    edit(content_dir, CAMPAIGN, 'at: "10:00"', "at: 9:30")
    assert problems(content_dir) == []
    library = read_library(content_dir)
    countdown = library.campaigns[0].spec.posts[0] if library.campaigns[0].key == "nhcaw-2026" \
        else next(c for c in library.campaigns if c.key == "nhcaw-2026").spec.posts[0]
    assert countdown.send.at == "09:30"


@pytest.mark.parametrize(("written", "says"), [
    ("extra: !!python/object/apply:os.system ['true']", "tag"),
    ("extra: !!python/name:os.system", "tag"),
    ("extra: !!timestamp 2026-02-30", "cannot be read as timestamp"),
    ("extra: !!timestamp ''", "cannot be read as timestamp"),  # found by tests/hostile
    ("extra: !!bool maybe", "cannot be read as bool"),
    ("extra: !custom thing", "tag"),
    ("extra: " + "[" * 5000 + "]" * 5000, "nest"),
    ("extra: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  k{i}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
        for i in range(7)), "aliases"),
    ("extra: bell\x07", "control character"),
    ("<<: {extra: x}", "merge keys"),
])
def test_hostile_yaml_is_one_message_naming_the_line(
    content_dir: Path, written: str, says: str
) -> None:
    line = edit(content_dir, CAMPAIGN, "  author:", f"  {written}\n  author:")
    found = problems(content_dir)
    problem = next(p for p in found if p.file.endswith(CAMPAIGN))
    assert says in problem.message
    assert abs(problem.line - line) <= 1


def test_a_folder_named_like_a_campaign_file_is_an_error(content_dir: Path) -> None:
    (content_dir / "campaigns" / "x.yaml").mkdir()
    problem = only(problems(content_dir))
    assert problem.file.endswith("campaigns/x.yaml")
    assert "is a folder" in problem.message


def test_an_unreadable_file_is_an_error(content_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which reads any file whatever its mode: refuse at the open instead.
    original = Path.open

    def refuse(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == "partners.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", refuse)
    found = problems(content_dir)
    problem = next(p for p in found if p.file.endswith("partners.yaml"))
    assert "cannot be read (Permission denied)" in problem.message


def test_a_very_large_file_is_refused_before_it_is_parsed(content_dir: Path) -> None:
    (content_dir / "campaigns" / "big.yaml").write_text("# " + "x" * 1_100_000 + "\n")
    problem = only(problems(content_dir))
    assert "larger than 1 MB" in problem.message
