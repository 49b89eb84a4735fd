"""Commands: only what a Discord client would let a user send reaches the bot."""

import base64
import itertools

import pytest

from mockdiscord.interactions import InteractionInputError, validate_command

QUEUE = {
    "id": "1100000000000000001",
    "name": "queue",
    "type": 1,
    "options": [
        {
            "name": "bw_race",
            "type": 3,
            "required": True,
            "choices": [{"name": "Zerg", "value": "bw_zerg"}, {"name": "Terran", "value": "bw_t"}],
        },
        {"name": "games", "type": 4, "min_value": 1, "max_value": 5},
        {"name": "ranked", "type": 5},
        {"name": "note", "type": 3, "max_length": 5},
    ],
}
REPORT = {
    "id": "1100000000000000002",
    "name": "ladder",
    "type": 1,
    "options": [
        {
            "name": "report",
            "type": 1,
            "options": [
                {"name": "opponent", "type": 6, "required": True},
                {"name": "replay", "type": 11},
            ],
        },
        {
            "name": "admin",
            "type": 2,
            "options": [{"name": "reset", "type": 1, "options": []}],
        },
    ],
}
USER_MENU = {"id": "1100000000000000003", "name": "Profile", "type": 2}
REGISTERED = [QUEUE, REPORT, USER_MENU]
KNOWN_USER = "200000000000000001"


def check(request):
    ids = itertools.count(300000000000000000)
    return validate_command(
        REGISTERED,
        request,
        user_exists=lambda u: u == KNOWN_USER,
        new_id=lambda: str(next(ids)),
    )


def field_of(request) -> str:
    with pytest.raises(InteractionInputError) as info:
        check(request)
    return info.value.field


def test_a_valid_command_gives_discord_shaped_options_in_definition_order() -> None:
    run = check({"name": "queue", "options": {"ranked": True, "bw_race": "bw_zerg", "games": 3}})
    assert run.name == "queue"
    assert run.command_id == QUEUE["id"]
    assert run.options == [
        {"name": "bw_race", "type": 3, "value": "bw_zerg"},
        {"name": "games", "type": 4, "value": 3},
        {"name": "ranked", "type": 5, "value": True},
    ]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"name": "dance"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "Profile"}, "name"),  # a user context menu, not a slash command
        ({"name": "queue", "options": []}, "options"),
        ({"name": "queue"}, "options.bw_race"),
        ({"name": "queue", "options": {"bw_race": "bw_protoss"}}, "options.bw_race"),
        ({"name": "queue", "options": {"bw_race": 3}}, "options.bw_race"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "games": "2"}}, "options.games"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "games": True}}, "options.games"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "games": 6}}, "options.games"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "games": 0}}, "options.games"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "ranked": "yes"}}, "options.ranked"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "note": "toolong"}}, "options.note"),
        ({"name": "queue", "options": {"bw_race": "bw_t", "colour": "red"}}, "options.colour"),
        ({"name": "queue extra", "options": {"bw_race": "bw_t"}}, "name"),
    ],
)
def test_bad_requests_name_the_field(request_, field) -> None:
    assert field_of(request_) == field


def test_unknown_command_lists_what_is_registered() -> None:
    with pytest.raises(InteractionInputError) as info:
        check({"name": "dance"})
    assert "ladder, queue" in info.value.message
    body = info.value.to_json()
    assert body["field"] == "name"
    assert body["code"] == 50035
    assert "dance" in body["message"]


def test_subcommand_by_path_resolves_users_and_uploads_attachments() -> None:
    content = b"replay bytes"
    run = check(
        {
            "name": "ladder report",
            "options": {
                "opponent": KNOWN_USER,
                "replay": {
                    "filename": "game.rep",
                    "content_b64": base64.b64encode(content).decode(),
                },
            },
        }
    )
    assert run.name == "ladder"
    (sub,) = run.options
    assert sub["name"] == "report"
    assert sub["type"] == 1
    opponent, replay = sub["options"]
    assert opponent == {"name": "opponent", "type": 6, "value": KNOWN_USER}
    assert replay["type"] == 11
    assert run.user_ids == (KNOWN_USER,)
    (upload,) = run.attachments
    assert upload.content == content
    assert upload.filename == "game.rep"
    assert replay["value"] == upload.id


def test_subcommand_nested_form_is_equivalent_to_the_path_form() -> None:
    nested = check({"name": "ladder", "options": {"report": {"opponent": int(KNOWN_USER)}}})
    path = check({"name": "ladder report", "options": {"opponent": KNOWN_USER}})
    assert nested.options == path.options


def test_subcommand_groups() -> None:
    run = check({"name": "ladder admin reset"})
    assert run.options == [
        {"name": "admin", "type": 2, "options": [{"name": "reset", "type": 1, "options": []}]}
    ]
    assert check({"name": "ladder", "options": {"admin": {"reset": {}}}}).options == run.options


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"name": "ladder"}, "options"),
        ({"name": "ladder nope"}, "name"),
        ({"name": "ladder admin"}, "name"),
        ({"name": "ladder", "options": {"nope": {}}}, "options.nope"),
        ({"name": "ladder report", "options": {"opponent": "999"}}, "options.opponent"),
        ({"name": "ladder report", "options": {"opponent": True}}, "options.opponent"),
        (
            {"name": "ladder", "options": {"report": {"opponent": "1"}}},
            "options.report.opponent",
        ),
        (
            {
                "name": "ladder report",
                "options": {"opponent": KNOWN_USER, "replay": {"filename": "a"}},
            },
            "options.replay.content_b64",
        ),
        (
            {
                "name": "ladder report",
                "options": {
                    "opponent": KNOWN_USER,
                    "replay": {"filename": "a", "content_b64": "!!notbase64"},
                },
            },
            "options.replay.content_b64",
        ),
        (
            {
                "name": "ladder report",
                "options": {
                    "opponent": KNOWN_USER,
                    "replay": {"filename": "a/b", "content_b64": ""},
                },
            },
            "options.replay.filename",
        ),
        (
            {"name": "ladder report", "options": {"opponent": KNOWN_USER, "replay": "x"}},
            "options.replay",
        ),
    ],
)
def test_bad_subcommand_requests_name_the_field(request_, field) -> None:
    assert field_of(request_) == field
