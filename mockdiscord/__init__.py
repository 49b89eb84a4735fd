"""mockdiscord: a Discord REST and interactions emulator that enforces Discord's real limits.

It is the referee of the sandbox: every figure about staying under Discord's limits is
measured here, from arrival timestamps, never taken from a bot's own account.
"""
