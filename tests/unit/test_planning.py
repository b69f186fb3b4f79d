"""The pure planner: send times, quiet hours, daily caps, staggering, clock changes, X rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from campaigns.core.planning import (
    AccountSpec,
    CampaignSpec,
    PostSpec,
    Rules,
    in_quiet_hours,
    plan_campaign,
    similarity,
    words,
)

LEAD_X = AccountSpec("lead-x", "lead", "x", "@lead", is_lead=True)
LEAD_MASTODON = AccountSpec("lead-mastodon", "lead", "mastodon", "@lead@m.example", is_lead=True)
POLICE_X = AccountSpec("police-x", "police", "x", "@police", is_lead=False)
COUNCIL_X = AccountSpec("council-x", "council", "x", "@council", is_lead=False)
UNI_BLUESKY = AccountSpec("uni-bluesky", "uni", "bluesky", "uni.bsky.social", is_lead=False)
ACCOUNTS = [LEAD_X, LEAD_MASTODON, POLICE_X, COUNCIL_X, UNI_BLUESKY]

DEFAULT_X = "Hate crime is any crime targeted at someone because of who they are. Report it."
POLICE_WORDS = "We take every report seriously. Tell us online or call 101, or 999 in an emergency."
COUNCIL_WORDS = "York is a city for everyone. The council backs this week: find out how to report."


def post(key: str = "launch", when: datetime = datetime(2026, 10, 10, 9, 0),
         audience: str | tuple[str, ...] = "all", **extra: str) -> PostSpec:
    variants = {("x", ""): DEFAULT_X, ("mastodon", ""): DEFAULT_X, ("bluesky", ""): DEFAULT_X,
                ("x", "police"): POLICE_WORDS, ("x", "council"): COUNCIL_WORDS}
    variants.update({tuple(k.split(":")): v for k, v in extra.items()})  # type: ignore[misc]
    return PostSpec(key, when, audience, variants)


def campaign(*posts: PostSpec, consenting: tuple[str, ...] = ("police", "council", "uni"),
             zone: str = "Europe/London") -> CampaignSpec:
    return CampaignSpec("c", zone, list(posts), frozenset(consenting))


def by_account(plan: object) -> dict[str, object]:
    return {d.account_key: d for d in plan.deliveries}  # type: ignore[attr-defined]


def test_lead_and_consenting_partners_each_get_one_delivery_on_their_networks() -> None:
    plan = plan_campaign(campaign(post()), ACCOUNTS, Rules())
    assert plan.ok
    assert sorted(by_account(plan)) == sorted(a.key for a in ACCOUNTS)


def test_send_time_is_stored_in_utc_from_the_campaign_zone() -> None:
    plan = plan_campaign(campaign(post(audience="lead")), [LEAD_X], Rules())
    delivery = plan.deliveries[0]
    assert delivery.send_at == datetime(2026, 10, 10, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert delivery.local_time == "2026-10-10 09:00 BST"


def test_partner_variant_replaces_the_default_wording_for_that_partner_only() -> None:
    plan = by_account(plan_campaign(campaign(post()), ACCOUNTS, Rules()))
    assert plan["police-x"].text == POLICE_WORDS  # type: ignore[attr-defined]
    assert plan["lead-x"].text == DEFAULT_X  # type: ignore[attr-defined]
    assert plan["uni-bluesky"].text == DEFAULT_X  # type: ignore[attr-defined]


def test_partners_without_consent_are_left_out() -> None:
    plan = plan_campaign(campaign(post(), consenting=("uni",)), ACCOUNTS, Rules())
    assert "police-x" not in by_account(plan)
    assert "council-x" not in by_account(plan)


def test_lead_audience_posts_only_from_the_lead() -> None:
    plan = plan_campaign(campaign(post(audience="lead")), ACCOUNTS, Rules())
    assert sorted(by_account(plan)) == ["lead-mastodon", "lead-x"]


def test_account_list_audience_needs_consent_for_partner_accounts() -> None:
    chosen = ("lead-x", "police-x")
    assert sorted(by_account(plan_campaign(campaign(post(audience=chosen)), ACCOUNTS,
                                           Rules()))) == ["lead-x", "police-x"]
    refused = plan_campaign(campaign(post(audience=chosen), consenting=()), ACCOUNTS, Rules())
    assert sorted(by_account(refused)) == ["lead-x"]


def test_no_variant_for_a_network_means_no_delivery_there() -> None:
    only_x = PostSpec("p", datetime(2026, 10, 10, 9), "lead", {("x", ""): DEFAULT_X})
    plan = plan_campaign(campaign(only_x), ACCOUNTS, Rules())
    assert [d.account_key for d in plan.deliveries] == ["lead-x"]


def test_partners_are_staggered_after_the_lead_in_a_stable_order() -> None:
    plan = by_account(plan_campaign(campaign(post()), ACCOUNTS, Rules(stagger_minutes=10)))
    minutes = {k: d.send_at.minute for k, d in plan.items()}  # type: ignore[attr-defined]
    assert minutes["lead-x"] == minutes["lead-mastodon"] == 0
    assert minutes["council-x"] == 10  # partners in key order: council, police, uni
    assert minutes["police-x"] == 20
    assert minutes["uni-bluesky"] == 30


@pytest.mark.parametrize(
    ("asked", "expected", "moved"),
    [
        (datetime(2026, 10, 10, 22, 30), datetime(2026, 10, 11, 7, 0), True),
        (datetime(2026, 10, 10, 5, 15), datetime(2026, 10, 10, 7, 0), True),
        (datetime(2026, 10, 10, 7, 0), datetime(2026, 10, 10, 7, 0), False),
        (datetime(2026, 10, 10, 20, 59), datetime(2026, 10, 10, 20, 59), False),
    ],
)
def test_quiet_hours_move_a_post_to_the_morning(
    asked: datetime, expected: datetime, moved: bool
) -> None:
    plan = plan_campaign(campaign(post(when=asked, audience="lead")), [LEAD_X], Rules())
    delivery = plan.deliveries[0]
    assert delivery.local_time.startswith(expected.strftime("%Y-%m-%d %H:%M"))
    assert any("quiet hours" in n for n in delivery.notes) is moved


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [(time(21), True), (time(23, 59), True), (time(0), True), (time(6, 59), True),
     (time(7), False), (time(12), False), (time(20, 59), False)],
)
def test_quiet_hours_window_wraps_midnight(clock: time, quiet: bool) -> None:
    assert in_quiet_hours(clock, Rules(quiet_start=21, quiet_end=7)) is quiet


def test_daily_cap_moves_the_extra_post_to_the_next_day() -> None:
    posts = [post(key=f"p{i}", when=datetime(2026, 10, 10, 9 + i), audience="lead",
                  **{"x:": f"Message number {i} with its own words about reporting"})
             for i in range(3)]
    plan = plan_campaign(campaign(*posts), [LEAD_X], Rules(daily_cap=2))
    days = [d.send_at.date() for d in plan.deliveries]
    assert days == [date(2026, 10, 10), date(2026, 10, 10), date(2026, 10, 11)]
    assert "daily cap" in plan.deliveries[2].notes[0]


def test_daily_cap_counts_posts_already_booked_by_other_campaigns() -> None:
    plan = plan_campaign(campaign(post(audience="lead")), [LEAD_X], Rules(daily_cap=2),
                         booked={("lead-x", date(2026, 10, 10)): 2})
    assert plan.deliveries[0].send_at.date() == date(2026, 10, 11)


def test_account_cap_overrides_the_default() -> None:
    capped = AccountSpec("lead-x", "lead", "x", "@lead", is_lead=True, daily_cap=1)
    posts = [post(key=f"p{i}", when=datetime(2026, 10, 10, 9 + i), audience="lead",
                  **{"x:": f"Entirely different message {i} for the cap test"}) for i in range(2)]
    plan = plan_campaign(campaign(*posts), [capped], Rules(daily_cap=5))
    assert [d.send_at.day for d in plan.deliveries] == [10, 11]


def test_time_in_the_spring_forward_gap_moves_forward_with_a_note() -> None:
    gap = post(when=datetime(2026, 3, 29, 1, 30), audience="lead")
    plan = plan_campaign(campaign(gap), [LEAD_X], Rules(quiet_start=3, quiet_end=1))
    delivery = plan.deliveries[0]
    assert delivery.send_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST
    assert any("does not exist" in n for n in delivery.notes)


def test_time_in_the_autumn_overlap_takes_the_first_occurrence_with_a_note() -> None:
    fold = post(when=datetime(2026, 10, 25, 1, 30), audience="lead")
    plan = plan_campaign(campaign(fold), [LEAD_X], Rules(quiet_start=3, quiet_end=1))
    delivery = plan.deliveries[0]
    assert delivery.send_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert any("happens twice" in n for n in delivery.notes)


def test_identical_text_on_two_x_accounts_is_refused_naming_the_pair() -> None:
    same = post(**{"x:police": DEFAULT_X})
    plan = plan_campaign(campaign(same), ACCOUNTS, Rules())
    assert not plan.ok
    refusal = plan.refusals[0]
    assert {refusal.first, refusal.second} == {"lead-x", "police-x"}
    assert refusal.similarity == 1.0
    assert "identical" in str(refusal)


def test_near_identical_text_on_two_x_accounts_is_refused_with_its_similarity() -> None:
    tweak = DEFAULT_X.replace("Report it.", "Please report it.")
    plan = plan_campaign(campaign(post(**{"x:police": tweak})), ACCOUNTS, Rules())
    assert not plan.ok
    assert 0.7 <= plan.refusals[0].similarity < 1.0
    assert "near-identical" in str(plan.refusals[0])


def test_same_words_on_mastodon_and_bluesky_accounts_are_allowed() -> None:
    plan = plan_campaign(campaign(post()), ACCOUNTS, Rules())
    assert plan.ok


def test_same_x_text_reused_by_another_account_in_another_post_is_refused() -> None:
    first = post(key="first", audience="lead")
    second = post(key="second", when=datetime(2026, 10, 11, 9), audience=("police-x",),
                  **{"x:police": DEFAULT_X})
    plan = plan_campaign(campaign(first, second), ACCOUNTS, Rules())
    assert not plan.ok


def test_similarity_ignores_links_and_case() -> None:
    a = words("Report hate crime online https://www.report-it.org.uk today")
    b = words("REPORT hate crime online http://example.org today")
    assert similarity(a, b) == 1.0
    assert similarity(words("one two three four"), words("five six seven eight")) == 0.0


def test_similarity_floor_skips_clearly_different_texts_without_changing_close_ones() -> None:
    a, b = words(DEFAULT_X), words(DEFAULT_X.replace("Report it.", "Please report it."))
    assert similarity(a, b, floor=0.7) == similarity(a, b) > 0.9
    assert similarity(words(DEFAULT_X), words(POLICE_WORDS), floor=0.7) == 0.0


def test_planning_is_deterministic() -> None:
    spec = campaign(post(), post(key="later", when=datetime(2026, 10, 12, 12)))
    assert plan_campaign(spec, ACCOUNTS, Rules()) == plan_campaign(spec, ACCOUNTS, Rules())


def test_similarity_bound_never_hides_a_near_identical_pair() -> None:
    import random
    from difflib import SequenceMatcher

    rng = random.Random(7)
    vocabulary = "hate crime report it online call help now york we you".split()
    for _ in range(2000):
        a = tuple(rng.choice(vocabulary) for _ in range(rng.randint(1, 12)))
        b = tuple(rng.choice(vocabulary) for _ in range(rng.randint(1, 12)))
        exact = SequenceMatcher(None, a, b, autojunk=False).ratio()
        bounded = similarity(a, b, floor=0.7)
        assert bounded == (exact if exact >= 0.7 else bounded)
        if bounded == 0.0:
            assert exact < 0.7
