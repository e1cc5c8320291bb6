"""Operations alerts: ONE place that raises them.

`alerts_evaluate(now=...)` (engine.py) checks every condition in conditions.py, raises an Alert per
condition that holds (one active alert per dedupe key), re-notifies an open one at most every
`ALERT_RENOTIFY_HOURS`, and resolves, with a note, the alerts whose condition cleared. notify.py sends the
mail to admins and records `alert.raised` / `alert.resolved` events, which destinations may subscribe to.
The `tagscope.alerts-evaluate` schedule runs it every minute; digest.py is the weekly statistics mail.
"""
