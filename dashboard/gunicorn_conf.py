"""gunicorn's settings (`gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi`): an access log on stdout,
with secrets masked, since a request line can hold an OAuth `code=` and headers a Basic or Bearer credential."""

from __future__ import annotations

from gunicorn.glogging import Logger

from integrations.redact import MASK, redact

accesslog = "-"
logger_class = "dashboard.gunicorn_conf.RedactingLogger"

_SECRET_HEADERS = ("{authorization}i", "{cookie}i", "{proxy-authorization}i", "{set-cookie}o")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in _SECRET_HEADERS:
                atoms[key] = MASK
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
