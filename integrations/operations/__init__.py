"""What admins do from the operations pages that writes: retry failed runs (one or all in a filter) and
cancel queued ones. Built on integrations/sync/'s run bookkeeping (run_create, run_finish, enqueue_unit)."""
