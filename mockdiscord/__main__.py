"""`python -m mockdiscord` is the `mockdiscord` command."""

from mockdiscord.cli import main

raise SystemExit(main())
