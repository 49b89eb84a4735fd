"""ladderbot: a real HTTP-interactions 1v1 ladder bot with a rate-limit-aware Discord client."""
