# The Tagscope image for compose.yaml and for real deployments (docs/deploy.md): web and workers run it
# with different commands. Not used by `make run` or `make test`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY . .
# WeasyPrint (report PDFs) needs Pango and a font.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
RUN pip install . && useradd --system --home /app tagscope && mkdir -p staticfiles && chown tagscope staticfiles
USER tagscope
EXPOSE 8000
CMD ["gunicorn", "-c", "python:dashboard.gunicorn_conf", "dashboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
