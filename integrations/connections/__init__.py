"""Connections to HighLevel: credentials, their refresh, location tokens, and the audit trail."""
