"""HighLevel API client: one client, one error tree, one retry rule, built from one ClientConfig with its
rate limiter, recorder and connection hook handed in.

    from integrations.highlevel import ClientConfig, HighLevelClient, errors

This package needs neither Django nor the rest of integrations (tests/test_import_rules.py guards it);
integrations/clients/ builds clients from settings with the shared limiter and the database recorder.
"""

from integrations.highlevel import errors
from integrations.highlevel.client import HighLevelClient
from integrations.highlevel.config import ClientConfig

__all__ = ["ClientConfig", "HighLevelClient", "errors"]
