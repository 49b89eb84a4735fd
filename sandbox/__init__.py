"""sandbox: the operator's side (stack, fake players, scenarios, benchmarks, TUI)."""
