"""python manage.py runsandbox prints what a developer needs and stops cleanly on Ctrl-C."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from sandbox.server import SandboxServer


def test_it_prints_the_url_credentials_and_a_pit_and_stops_on_ctrl_c(monkeypatch):
    served = []

    def interrupted(self):
        served.append(self)
        self._httpd.server_close()
        raise KeyboardInterrupt

    monkeypatch.setattr(SandboxServer, "serve_forever", interrupted)
    out = StringIO()
    call_command("runsandbox", "--port", "0", "--seed", "3", "--locations", "2", "--tags", "10", stdout=out)
    text = out.getvalue()
    server = served[0]
    assert f"HighLevel sandbox at {server.url}" in text
    assert "tagscope-sandbox" in text and "sandbox-secret" in text
    first = next(iter(server.sandbox.skeleton.locations))
    assert server.sandbox.pits[first] in text
    assert server.sandbox.config.seed == 3
    assert len(server.sandbox.skeleton.locations) == 2
    assert "Sandbox stopped." in text
