"""What admins do from the operations pages that writes: retry failed runs (one or all in a filter).
Cancelling and every other change of a run's status belong to integrations/sync/runs.py."""
