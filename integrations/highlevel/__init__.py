"""HighLevel API client: one client, one error tree, one retry rule, one shared rate limiter.

Import from the submodules (`integrations.highlevel.client`, `.errors`, `.types`, `.ratelimit`,
`.recording`); this package imports nothing so that importing it never touches Django settings.
"""
