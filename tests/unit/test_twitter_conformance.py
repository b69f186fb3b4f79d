"""twitter-text's conformance suite (validate.yml): every case, none skipped.

Each section runs with the configuration upstream's Ruby runner gives it. The fixture README
says `tweets` runs with v3, but upstream checks that section with the deprecated
valid_tweet_text?: 140 code points, with links counted as 23. That is twitter-text's v1
configuration. Under v3 the two "141 characters" cases would pass as valid, so the section
runs with V1 here.
"""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from campaigns.core import entities, twitter_text
from campaigns.core.twitter_text import V1, V2, V3, TwitterTextConfig

FIXTURES = Path(__file__).parent.parent / "fixtures" / "twitter-text"

# validate.yml's field names for the attributes of ParsedTweet
EXPECTED_FIELDS = {
    "weightedLength": "weighted_length",
    "valid": "valid",
    "permillage": "permillage",
    "displayRangeStart": "display_range_start",
    "displayRangeEnd": "display_range_end",
    "validRangeStart": "valid_range_start",
    "validRangeEnd": "valid_range_end",
}


@functools.cache
def suite() -> dict[str, list[dict[str, Any]]]:
    with (FIXTURES / "validate.yml").open(encoding="utf-8") as file:
        tests: dict[str, list[dict[str, Any]]] = yaml.safe_load(file)["tests"]
    return tests


def cases(section: str) -> list[Any]:
    return [pytest.param(case, id=case["description"]) for case in suite()[section]]


def parsed_fields(tweet: str, config: TwitterTextConfig) -> dict[str, Any]:
    parsed = twitter_text.parse_tweet(tweet, config)
    return {field: getattr(parsed, attribute) for field, attribute in EXPECTED_FIELDS.items()}


SECTIONS_RUN_HERE = {
    "tweets", "usernames", "lists", "hashtags", "urls", "urls_without_protocol",
    "WeightedTweetsCounterTest", "WeightedTweetsWithDiscountedEmojiCounterTest",
    "UnicodeDirectionalMarkerCounterTest",
}


def test_every_section_of_the_suite_is_run() -> None:
    assert set(suite()) == SECTIONS_RUN_HERE


def test_v3_configuration_matches_twitter_texts_config_file() -> None:
    config = json.loads((FIXTURES / "config-v3.json").read_text(encoding="utf-8"))
    assert TwitterTextConfig.from_json(config) == V3


def test_v2_differs_from_v3_only_in_emoji_parsing() -> None:
    assert V2.emoji_parsing_enabled is False
    assert replace(V2, emoji_parsing_enabled=True) == V3


@pytest.mark.parametrize("case", cases("tweets"))
def test_tweet_validity_legacy_140(case: dict[str, Any]) -> None:
    assert twitter_text.parse_tweet(case["text"], V1).valid is case["expected"]


@pytest.mark.parametrize("case", cases("WeightedTweetsCounterTest"))
def test_weighted_length_v2(case: dict[str, Any]) -> None:
    assert parsed_fields(case["text"], V2) == case["expected"]


@pytest.mark.parametrize("case", cases("WeightedTweetsWithDiscountedEmojiCounterTest"))
def test_weighted_length_with_discounted_emoji_v3(case: dict[str, Any]) -> None:
    assert parsed_fields(case["text"], V3) == case["expected"]


@pytest.mark.parametrize("case", cases("UnicodeDirectionalMarkerCounterTest"))
def test_unicode_directional_markers_v3(case: dict[str, Any]) -> None:
    assert parsed_fields(case["text"], V3) == case["expected"]


@pytest.mark.parametrize("case", cases("hashtags"))
def test_hashtag_validity(case: dict[str, Any]) -> None:
    assert entities.is_valid_hashtag(case["text"]) is case["expected"]


@pytest.mark.parametrize("case", cases("urls"))
def test_url_validity(case: dict[str, Any]) -> None:
    assert entities.is_valid_url(case["text"], require_protocol=True) is case["expected"]


@pytest.mark.parametrize("case", cases("urls_without_protocol"))
def test_url_without_protocol_validity(case: dict[str, Any]) -> None:
    assert entities.is_valid_url(case["text"], require_protocol=False) is case["expected"]


@pytest.mark.parametrize("case", cases("usernames"))
def test_username_validity(case: dict[str, Any]) -> None:
    assert entities.is_valid_username(case["text"]) is case["expected"]


@pytest.mark.parametrize("case", cases("lists"))
def test_list_validity(case: dict[str, Any]) -> None:
    assert entities.is_valid_list(case["text"]) is case["expected"]
