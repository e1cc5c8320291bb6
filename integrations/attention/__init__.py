"""What needs a marketer's attention: goals and their pacing (goals.py), statistics anomalies (anomalies.py,
detector.py) and account health: expired or expiring accounts, failed posts, an empty schedule (health.py).

Each finding is turned into an alert condition by integrations/alerts/attention.py, so the alert engine
raises it once (one Alert, one mail, one typed event such as `account.expired`), keeps it open while it
holds and resolves it when it clears. An open alert of these kinds is the location's "needs attention" item.
See docs/architecture.md, "Goals and health".
"""
