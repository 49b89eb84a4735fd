"""Interactions: how a fake player's action reaches the bot exactly as Discord delivers it.

A player "runs /queue" or "clicks a button" through the control plane. The mock checks the
request against what a Discord client would allow (`commands`, `components`), builds the
payload Discord would send (`payloads`), signs it with the application's Ed25519 key
(`signing`) and POSTs it to the bot's Interactions Endpoint URL, holding the bot to the
3-second deadline and the one-response rule (`delivery`, `ack`). Uploaded files are served
back from the mock's CDN (`cdn`).
"""

from mockdiscord.interactions.ack import (
    Acknowledgement,
    AckResult,
    AckState,
    allowed_response_types,
)
from mockdiscord.interactions.cdn import CDN_PREFIX, CdnStore, StoredFile
from mockdiscord.interactions.commands import (
    AttachmentUpload,
    CommandInvocation,
    OptionType,
    validate_command,
)
from mockdiscord.interactions.components import (
    ComponentInvocation,
    iter_components,
    validate_component,
)
from mockdiscord.interactions.delivery import (
    DEFAULT_DEADLINE_S,
    DeliveryResult,
    HandshakeResult,
    InteractionDelivery,
    Responder,
)
from mockdiscord.interactions.errors import InteractionInputError
from mockdiscord.interactions.payloads import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    PING,
    build_command,
    build_component,
    build_ping,
)
from mockdiscord.interactions.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InteractionSigner,
    verify_signature,
)

__all__ = [
    "APPLICATION_COMMAND",
    "CDN_PREFIX",
    "DEFAULT_DEADLINE_S",
    "MESSAGE_COMPONENT",
    "PING",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AckResult",
    "AckState",
    "Acknowledgement",
    "AttachmentUpload",
    "CdnStore",
    "CommandInvocation",
    "ComponentInvocation",
    "DeliveryResult",
    "HandshakeResult",
    "InteractionDelivery",
    "InteractionInputError",
    "InteractionSigner",
    "OptionType",
    "Responder",
    "StoredFile",
    "allowed_response_types",
    "build_command",
    "build_component",
    "build_ping",
    "iter_components",
    "validate_command",
    "validate_component",
    "verify_signature",
]
