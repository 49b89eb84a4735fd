"""mockdiscord's HTTP server: Discord's REST surface under `/api/v10` and the control plane
under `/_mock`, both built by `create_app(config)`."""

from mockdiscord.server.app import (
    CONTROL_ROUTES,
    REST_ROUTES,
    STATE_KEY,
    MockConfig,
    MockState,
    create_app,
)

__all__ = ["CONTROL_ROUTES", "REST_ROUTES", "STATE_KEY", "MockConfig", "MockState", "create_app"]
