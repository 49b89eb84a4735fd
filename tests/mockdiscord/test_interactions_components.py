"""Components: a user can only click what is on the message, the way a client allows."""

import pytest

from mockdiscord.interactions import InteractionInputError, iter_components, validate_component

KNOWN_USER = "200000000000000001"
MESSAGE = {
    "id": "400000000000000001",
    "components": [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 3, "label": "Accept", "custom_id": "accept:1"},
                {"type": 2, "style": 4, "label": "Old", "custom_id": "old:1", "disabled": True},
                {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"},
            ],
        },
        {
            "type": 1,
            "components": [
                {
                    "type": 3,
                    "custom_id": "race",
                    "min_values": 1,
                    "max_values": 2,
                    "options": [
                        {"label": "Zerg", "value": "z"},
                        {"label": "Terran", "value": "t"},
                        {"label": "Protoss", "value": "p"},
                    ],
                }
            ],
        },
        {"type": 1, "components": [{"type": 5, "custom_id": "pick_user"}]},
        {
            "type": 17,
            "components": [
                {
                    "type": 9,
                    "components": [{"type": 10, "content": "v2 text"}],
                    "accessory": {"type": 2, "style": 1, "custom_id": "v2:go"},
                }
            ],
        },
    ],
}


def click(request):
    return validate_component(MESSAGE, request, user_exists=lambda u: u == KNOWN_USER)


def test_iter_components_finds_buttons_and_selects_at_any_depth() -> None:
    found = [c.get("custom_id") for c in iter_components(MESSAGE["components"])]
    assert found == ["accept:1", "old:1", None, "race", "pick_user", "v2:go"]


def test_button_click_gives_component_data() -> None:
    run = click({"custom_id": "accept:1"})
    assert run.data() == {"custom_id": "accept:1", "component_type": 2}


def test_components_v2_accessory_button_is_clickable() -> None:
    assert click({"custom_id": "v2:go"}).component_type == 2


def test_string_select_values() -> None:
    run = click({"custom_id": "race", "values": ["z", "p"]})
    assert run.data() == {"custom_id": "race", "component_type": 3, "values": ["z", "p"]}


def test_user_select_values_are_resolved_users() -> None:
    run = click({"custom_id": "pick_user", "values": [KNOWN_USER]})
    assert run.user_ids == (KNOWN_USER,)


@pytest.mark.parametrize(
    ("request_", "field", "words"),
    [
        ({"custom_id": "nope"}, "custom_id", "accept:1, old:1, pick_user, race, v2:go"),
        ({}, "custom_id", "non-empty"),
        ({"custom_id": "old:1"}, "custom_id", "disabled"),
        ({"custom_id": "accept:1", "values": ["a"]}, "values", "no values"),
        ({"custom_id": "race"}, "values", "list"),
        ({"custom_id": "race", "values": []}, "values", "between 1 and 2"),
        ({"custom_id": "race", "values": ["z", "t", "p"]}, "values", "between 1 and 2"),
        ({"custom_id": "race", "values": ["x"]}, "values", "not an option"),
        ({"custom_id": "race", "values": ["z", "z"]}, "values", "repeat"),
        ({"custom_id": "pick_user", "values": ["1"]}, "values", "unknown user"),
    ],
)
def test_bad_clicks_name_the_field(request_, field, words) -> None:
    with pytest.raises(InteractionInputError) as info:
        click(request_)
    assert info.value.field == field
    assert words in info.value.message
