"""Profiles: the built-in `discord` file, user files, and one-line errors for bad ones."""

import textwrap

import pytest

from mockdiscord.profile import KNOWN_ROUTES, ProfileError, load_profile, parse_profile

MINIMAL_ROUTE = """
[[routes]]
name = "message_create"
match = ["POST /channels/{channel_id}/messages"]
limit = 5
period = 5.0
"""


def write(tmp_path, text, name="profile.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_builtin_discord_profile_has_the_spec_figures():
    p = load_profile("discord")
    assert p.name == "discord"
    assert (p.global_.limit, p.global_.period, p.global_.algorithm) == (50, 1.0, "sliding")
    assert p.global_.ip_limit == 50
    assert p.global_.exempt == {"POST /interactions/{interaction_id}/{interaction_token}/callback"}
    assert p.global_.interaction_webhooks_exempt
    inv = p.invalid_requests
    assert (inv.threshold, inv.window, inv.ban_style) == (10_000, 600.0, "html")
    assert 3600.0 <= inv.ban <= 86400.0
    assert inv.statuses == {401, 403, 429}
    assert (p.interactions.token_lifetime, p.interactions.deadline) == (900.0, 3.0)
    figures = {r.name: (r.spec.limit, r.spec.period, r.spec.algorithm) for r in p.routes}
    assert figures["message_create"] == (5, 5.0, "sliding")
    assert figures["message_edit"] == (5, 5.0, "sliding")
    assert figures["message_delete_new"] == (5, 1.0, "sliding")
    assert figures["message_delete_recent"] == (3, 0.333, "sliding")
    assert figures["message_delete_old"] == (30, 4.0, "sliding")
    assert figures["bulk_delete"] == (1, 3.0, "sliding")
    assert figures["reactions"] == (1, 0.25, "sliding")
    assert figures["channel_edit"] == (10, 15.0, "sliding")
    assert figures["member_roles"][0] == 10 and figures["member_roles"][2] == "fixed"
    assert figures["webhook_execute"] == (5, 2.0, "sliding")
    assert figures["interaction_webhook"] == (5, 2.0, "sliding")
    assert p.rule("message_create").hash_group == p.rule("message_edit").hash_group
    (sub,) = p.rule("channel_edit").sublimits
    assert (sub.fields, sub.spec.limit, sub.spec.period) == ({"name", "topic"}, 2, 600.0)
    shared = p.rule("webhook_execute").shared
    assert (shared.limit, shared.period) == (30, 60.0)
    assert len(p.rule("reactions").matches) == 2
    assert not any(
        "callback" in m for r in p.routes for m in r.matches
    )  # the callback has no bucket


def test_user_file_changes_a_limit(tmp_path):
    path = write(
        tmp_path,
        """
        name = "slow"
        [global]
        limit = 10
        algorithm = "fixed"
        [invalid_requests]
        threshold = 20
        window = 5
        ban = 2
        ban_style = "json"
        """
        + MINIMAL_ROUTE.replace("limit = 5", "limit = 2"),
    )
    p = load_profile(str(path))
    assert p.name == "slow" and p.source == str(path)
    assert p.global_.limit == 10 and p.global_.ip_limit == 10  # ip_limit follows limit
    assert p.global_.algorithm == "fixed"
    assert p.invalid_requests.ban_style == "json" and p.invalid_requests.window == 5.0
    assert p.rule("message_create").spec.limit == 2
    assert p.interactions.deadline == 3.0  # omitted tables take defaults


def test_path_objects_and_name_defaults_to_the_file_stem(tmp_path):
    p = load_profile(write(tmp_path, MINIMAL_ROUTE, name="mine.toml"))
    assert p.name == "mine"


BAD = [
    (
        MINIMAL_ROUTE.replace("limit = 5", 'limit = "five"'),
        'profile.toml: routes[0].limit: expected a positive integer, got "five"',
    ),
    (
        MINIMAL_ROUTE.replace("limit = 5", "limit = 0"),
        "profile.toml: routes[0].limit: expected a positive integer, got 0",
    ),
    (
        MINIMAL_ROUTE.replace("period = 5.0", "period = -1"),
        "profile.toml: routes[0].period: expected a positive number of seconds, got -1",
    ),
    (
        MINIMAL_ROUTE.replace("period = 5.0", "perod = 5.0"),
        "profile.toml: routes[0].perod: unknown key",
    ),
    (
        MINIMAL_ROUTE.replace("period = 5.0", ""),
        "profile.toml: routes[0].period: missing (required)",
    ),
    (
        MINIMAL_ROUTE + 'algorithm = "leaky"\n',
        'profile.toml: routes[0].algorithm: expected "sliding" or "fixed", got "leaky"',
    ),
    (
        MINIMAL_ROUTE.replace("POST /channels/{channel_id}/messages", "POST /channel/{id}/msgs"),
        "profile.toml: routes[0].match[0]: expected a route of ROUTES.md",
    ),
    (
        "[global]\nlimit = 50.5\n",
        "profile.toml: global.limit: expected a positive integer, got 50.5",
    ),
    (
        "[global]\nlimit = true\n",
        "profile.toml: global.limit: expected a positive integer, got true",
    ),
    (
        '[global]\nalgorithm = "token-bucket"\n',
        'profile.toml: global.algorithm: expected one of "sliding", "fixed", "gcra", got '
        '"token-bucket"',
    ),
    ("[globle]\nlimit = 5\n", "profile.toml: globle: unknown key"),
    (
        '[invalid_requests]\nban_style = "xml"\n',
        'profile.toml: invalid_requests.ban_style: expected "html" or "json", got "xml"',
    ),
    ("global = 5\n", "profile.toml: global: expected a table, got 5"),
    ("routes = 3\n", "profile.toml: routes: expected an array of tables, got 3"),
    (
        MINIMAL_ROUTE + MINIMAL_ROUTE,
        'profile.toml: routes[1].name: expected a unique name, "message_create" repeats',
    ),
    (
        MINIMAL_ROUTE + MINIMAL_ROUTE.replace('name = "message_create"', 'name = "again"'),
        "profile.toml: routes[1].match: POST /channels/{channel_id}/messages is already matched",
    ),
    (
        MINIMAL_ROUTE + '[[routes.sublimits]]\nname = "x"\nfields = []\nlimit = 1\nperiod = 1\n',
        "profile.toml: routes[0].sublimits[0].fields: expected a non-empty array of field names",
    ),
    (
        MINIMAL_ROUTE + "[routes.shared]\nlimit = 30\n",
        "profile.toml: routes[0].shared.period: missing (required)",
    ),
    ("name = 'x'\n[[routes]\n", "profile.toml: invalid TOML:"),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_profiles_give_one_line_errors_naming_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path.parent) + "/")
    assert message.replace(str(path.parent) + "/", "").startswith(expected)


def test_shadowed_age_rule_is_an_error_but_ordered_ones_are_fine():
    route = "DELETE /channels/{channel_id}/messages/{message_id}"

    def rule(name, age=None):
        r = {"name": name, "match": [route], "limit": 1, "period": 1}
        if age is not None:
            r["max_message_age"] = age
        return r

    parse_profile({"routes": [rule("a", 10), rule("b", 100), rule("c")]}, "p.toml")
    with pytest.raises(ProfileError, match=r"p.toml: routes\[1\].match"):
        parse_profile({"routes": [rule("a", 100), rule("b", 10)]}, "p.toml")
    with pytest.raises(ProfileError, match=r"p.toml: routes\[1\].match"):
        parse_profile({"routes": [rule("a"), rule("b", 10)]}, "p.toml")


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(ProfileError) as info:
        load_profile(str(tmp_path / "nope.toml"))
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: no such file (give a path or `discord`)"


def test_with_route_limit_validates_and_copies():
    p = load_profile("discord")
    q = p.with_route_limit("message_create", limit=2)
    assert q.rule("message_create").spec.limit == 2
    assert p.rule("message_create").spec.limit == 5  # immutable original
    with pytest.raises(ProfileError, match=r"routes\.message_create\.limit"):
        p.with_route_limit("message_create", limit=0)
    with pytest.raises(KeyError):
        p.with_route_limit("nope", limit=1)
    with pytest.raises(ProfileError, match=r"global\.algorithm"):
        p.with_global(algorithm="nope")


def test_known_routes_match_the_routes_note():
    assert len(KNOWN_ROUTES) == 26
    assert "POST /interactions/{interaction_id}/{interaction_token}/callback" in KNOWN_ROUTES


def test_the_example_in_docs_profiles_md_loads(tmp_path):
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "profiles.md").read_text()
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    p = load_profile(write(tmp_path, example, name="slow-channels.toml"))
    assert p.name == "slow-channels"
    assert p.rule("message_create").spec.limit == 2
    assert p.global_.algorithm == "fixed" and p.global_.limit == 20
    assert p.invalid_requests.ban_style == "json"
