"""The shared check (formats.plan_check): what the planner refuses or moves, as problems of
the content check, at the post and field they concern, in plain words."""

from __future__ import annotations

from datetime import datetime

import pytest

from campaigns.core.planning import AccountSpec, CampaignSpec, PostSpec, Rules
from campaigns.formats.plan_check import check_plan, field_words

LEAD = AccountSpec("lead-x", "lead", "x", "@lead", True, organisation_name="York Partnership")
POLICE = AccountSpec("police-x", "police", "x", "@police", False, organisation_name="Police")
COUNCIL = AccountSpec("council-x", "council", "x", "@council", False,
                      organisation_name="City Council")
ACCOUNTS = [COUNCIL, LEAD, POLICE]
SHARED = "Hate crime is any crime targeted at someone because of who they are. Report it."
POLICE_OWN = "We take every report seriously. Tell us online or call 101, or 999 in an emergency."
COUNCIL_OWN = "York is a city for everyone. The council backs this week: find out how to report."


def campaign(*posts: PostSpec) -> CampaignSpec:
    return CampaignSpec("week", "Europe/London", list(posts), frozenset({"police", "council"}))


def post(key: str = "launch", when: datetime = datetime(2026, 10, 10, 9, 0),
         **own: str) -> PostSpec:
    variants = {("x", ""): SHARED, ("x", "council"): COUNCIL_OWN, ("x", "police"): POLICE_OWN}
    variants.update({("x", owner): words for owner, words in own.items()})
    return PostSpec(key, when, "all", variants)


def test_distinct_wording_on_each_x_account_passes_with_nothing_to_say() -> None:
    check = check_plan(campaign(post()), ACCOUNTS, Rules())
    assert check.ok and check.findings == []
    assert len(check.plan.deliveries) == 3


def test_a_partner_falling_back_to_the_shared_words_is_refused_at_the_shared_wording() -> None:
    without_police = post()
    variants = {k: v for k, v in without_police.variants.items() if k != ("x", "police")}
    check = check_plan(campaign(PostSpec("launch", without_police.local_time, "all", variants)),
                       ACCOUNTS, Rules())
    assert not check.ok
    [finding] = check.findings
    assert (finding.post_key, finding.path, finding.severity) == (
        "launch", ("variants", "x"), "error")
    assert finding.message == (
        "York Partnership on X (@lead) and Police on X (@police) would post the same words. "
        "X does not allow the same text on several accounts: give Police its own X wording.")


def test_a_partners_own_wording_too_close_to_the_shared_is_refused_at_that_wording() -> None:
    close = SHARED.replace("Report it.", "Please report it.")
    [finding] = check_plan(campaign(post(police=close)), ACCOUNTS, Rules()).findings
    assert finding.path == ("partner_variants", "police", "x")
    assert "nearly the same words (9" in finding.message
    assert finding.message.endswith("reword Police's own X wording.")


def test_the_same_words_reused_in_a_later_post_are_refused_at_the_later_post() -> None:
    later = post("later", datetime(2026, 10, 11, 9), council=POLICE_OWN,
                 police="Thank you to everyone who reported this week.")
    findings = check_plan(campaign(post(), later), ACCOUNTS, Rules()).findings
    assert [(f.post_key, f.path) for f in findings] == [
        ("later", ("partner_variants", "council", "x"))]
    assert "as Police on X (@police) does in post 'launch'" in findings[0].message


@pytest.mark.parametrize(("when", "rules", "said"), [
    (datetime(2026, 10, 10, 22, 30), Rules(),
     "2026-10-10 22:30 is in quiet hours (21:00-07:00); moved to 2026-10-11 07:00"),
    (datetime(2026, 10, 10, 9, 0), Rules(daily_cap=1),
     "already has 1 posts on 2026-10-10 (daily cap); moved to the next day"),
], ids=["quiet hours", "daily cap"])
def test_what_the_planner_moves_is_a_warning_at_the_send_time(
    when: datetime, rules: Rules, said: str
) -> None:
    earlier = post("earlier", datetime(2026, 10, 10, 8, 0))
    check = check_plan(campaign(earlier, post(when=when)), [LEAD], rules)
    assert check.ok
    moved = [f for f in check.findings if f.post_key == "launch"]
    assert moved and all(f.severity == "warning" and f.path == ("send", "at") for f in moved)
    assert said in moved[0].message and moved[0].message.startswith("York Partnership on X")
    [launch] = [d for d in check.plan.deliveries if d.post_key == "launch"]
    assert launch.local_time.startswith(("2026-10-11 07:00", "2026-10-11 09:00"))


@pytest.mark.parametrize(("field", "words"), [
    ("variants.x", "X wording"), ("variants", "wording for each network"),
    ("partner_variants.police.bluesky", "Police's own Bluesky wording"),
    ("send.at", "send time"), ("images[0].alt", "image 1 alt text"),
    ("reporting_channel", "reporting channel"), ("audience[1]", "who posts it"),
])
def test_fields_are_named_in_plain_words(field: str, words: str) -> None:
    assert field_words(field, {"police": "Police"}) == words
