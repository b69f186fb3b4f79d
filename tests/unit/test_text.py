"""Text measurement per network: what a post counts as where it will be published."""

from __future__ import annotations

import emoji
import pytest

from campaigns.core import entities
from campaigns.core.text import NETWORKS, measure

LINK = "https://www.report-it.org.uk/your_police_force_has_a_longer_page_than_you_think"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # four people joined by ZWJ


# --- X ------------------------------------------------------------------------------------------


def test_x_counts_any_link_as_23() -> None:
    assert measure(f"Report it: {LINK}", "x").length == len("Report it: ") + 23


def test_x_counts_a_link_written_without_protocol_as_23() -> None:
    assert measure("Report it at report-it.org.uk/hate", "x").length == len("Report it at ") + 23


def test_x_counts_an_emoji_sequence_as_two() -> None:
    assert measure(FAMILY, "x").length == 2
    assert measure("Stand together \U0001f91d\U0001f3fd", "x").length == len("Stand together ") + 2


def test_x_counts_every_fully_qualified_emoji_as_one_unit() -> None:
    fully_qualified = [e for e, data in emoji.EMOJI_DATA.items()
                       if data["status"] == emoji.STATUS["fully_qualified"]]
    miscounted = [e for e in fully_qualified if measure(e, "x").length != 2]
    assert miscounted == []


def test_x_counts_cjk_characters_double() -> None:
    assert measure("ヘイトクライム", "x").length == 14


def test_x_counts_combining_accents_after_normalising() -> None:
    assert measure("cafe\u0301", "x").length == 4


def test_x_allows_exactly_280() -> None:
    assert measure("x" * 280, "x").valid


def test_x_post_over_280_names_its_length_and_the_limit() -> None:
    measured = measure("x" * 312, "x")
    assert not measured.valid
    assert (measured.length, measured.limit) == (312, 280)
    assert measured.problem == "312 of 280 characters (X weighted length)"


def test_x_refuses_invalid_characters() -> None:
    measured = measure("Report it\ufffe", "x")
    assert not measured.valid
    assert measured.problem is not None and "U+FFFE" in measured.problem


def test_x_accepts_directional_marks_around_a_link() -> None:
    assert measure("\u2066\u202ahttps://example.com/\u202c\u2069", "x").valid


def test_x_limit_can_be_overridden() -> None:
    measured = measure("x" * 30, "x", limit=25)
    assert (measured.valid, measured.limit) == (False, 25)


# --- Mastodon -----------------------------------------------------------------------------------


def test_mastodon_counts_a_link_as_23() -> None:
    assert measure(f"Report it: {LINK}", "mastodon").length == len("Report it: ") + 23


def test_mastodon_counts_a_domain_without_protocol_in_full() -> None:
    assert measure("report-it.org.uk", "mastodon").length == len("report-it.org.uk")


def test_mastodon_counts_a_remote_mention_as_its_username() -> None:
    assert measure("Thanks @stophate@mastodon.social!", "mastodon").length == len(
        "Thanks @stophate!"
    )


def test_mastodon_counts_grapheme_clusters_not_weights() -> None:
    """Mastodon's StatusLengthValidator counts `each_grapheme_cluster`: a ZWJ family is one."""
    assert measure("ヘイトクライム " + FAMILY, "mastodon").length == 8 + 1


def test_mastodon_counts_a_link_as_23_beside_joined_emoji() -> None:
    assert measure(f"{FAMILY}{FAMILY} {LINK}", "mastodon").length == 2 + 1 + 23


def test_mastodon_allows_500_by_default() -> None:
    assert measure("a" * 500, "mastodon").valid
    measured = measure("a" * 501, "mastodon")
    assert not measured.valid
    assert measured.problem is not None and "501 of 500" in measured.problem


def test_mastodon_uses_an_instances_own_limit() -> None:
    measured = measure("a" * 600, "mastodon", limit=1000)
    assert (measured.valid, measured.limit) == (True, 1000)


# --- Bluesky ------------------------------------------------------------------------------------


def test_bluesky_counts_a_family_emoji_as_one() -> None:
    assert measure(FAMILY, "bluesky").length == 1


def test_bluesky_counts_a_letter_with_combining_accent_as_one() -> None:
    assert measure("cafe\u0301", "bluesky").length == 4


def test_bluesky_counts_a_flag_as_one() -> None:
    assert measure("\U0001f1ec\U0001f1e7", "bluesky").length == 1


def test_bluesky_does_not_shorten_links() -> None:
    assert measure(LINK, "bluesky").length == len(LINK)


def test_bluesky_allows_300_graphemes() -> None:
    assert measure("a" * 300, "bluesky").valid
    measured = measure("a" * 301, "bluesky")
    assert measured.problem == "301 of 300 characters (Bluesky graphemes)"


def test_bluesky_refuses_a_post_over_3000_bytes_even_within_300_graphemes() -> None:
    measured = measure(FAMILY * 200, "bluesky")
    assert measured.length == 200
    assert not measured.valid
    assert measured.problem is not None and "of 3000 bytes" in measured.problem


# --- every network -----------------------------------------------------------------------------


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_text_is_invalid_everywhere(network: str, blank: str) -> None:
    measured = measure(blank, network)
    assert not measured.valid
    assert measured.problem is not None and "the post is" in measured.problem


@pytest.mark.parametrize("network", NETWORKS)
def test_a_short_post_is_valid_with_no_problem(network: str) -> None:
    measured = measure("No place for hate. #NHCAW", network)
    assert (measured.network, measured.valid, measured.problem) == (network, True, None)


@pytest.mark.parametrize("network", NETWORKS)
def test_a_lone_surrogate_cannot_be_sent(network: str) -> None:
    assert not measure("broken \ud83d text", network).valid


@pytest.mark.parametrize(("network", "limit"), [("x", 280), ("mastodon", 500), ("bluesky", 300)])
def test_default_limits(network: str, limit: int) -> None:
    assert measure("hello", network).limit == limit


def test_unknown_network_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'facebook'"):
        measure("hello", "facebook")


def test_limit_below_one_is_an_error() -> None:
    with pytest.raises(ValueError, match="limit"):
        measure("hello", "x", limit=0)


# --- hashtags and links -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "hashtags"),
    [
        ("Stand together #NHCAW #NoPlaceForHate", ["NHCAW", "NoPlaceForHate"]),
        ("#1st day of #HateCrimeAwarenessWeek", ["1st", "HateCrimeAwarenessWeek"]),
        ("Route #12345 and #2026", []),
        ("Mot-dièse #café, #ヘイトクライム.", ["café", "ヘイトクライム"]),
        ("no space#before", []),
        ("https://example.com/#anchor is part of a link", []),
        ("keycap #️⃣ is not a hashtag", []),
    ],
)
def test_extract_hashtags(post: str, hashtags: list[str]) -> None:
    assert entities.extract_hashtags(post) == hashtags


@pytest.mark.parametrize(
    ("post", "urls"),
    [
        ("See https://example.com/a and http://t.co/abc", ["https://example.com/a",
                                                           "http://t.co/abc"]),
        ("Visit report-it.org.uk/hate today.", ["report-it.org.uk/hate"]),
        ("Visit www.example.com.", ["www.example.com"]),
        ("A short ccTLD domain needs a path: example.jp, example.jp/x", ["example.jp/x"]),
        ("A file name.txt or a sentence.End is not a link", []),
        ("email someone@example.com", []),
        ("(https://en.wikipedia.org/wiki/Hate_crime_(law))", [
            "https://en.wikipedia.org/wiki/Hate_crime_(law)"]),
    ],
)
def test_extract_urls(post: str, urls: list[str]) -> None:
    assert entities.extract_urls(post) == urls
