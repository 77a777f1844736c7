# One image for every CCRM service; docker-compose.yml picks the service with
# `nameko run --config config.yaml services.<name>.service`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Run from the source tree in /app: migrations, config.yaml and the
    # organisation file are read from there.
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN mkdir -p shared services \
    && touch shared/__init__.py services/__init__.py \
    && pip install . \
    && pip uninstall -y ccrm \
    && rm -rf shared services build *.egg-info

COPY . .
RUN pip install --no-deps . \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin ccrm \
    && mkdir -p /app/var && chown ccrm /app/var

USER ccrm
EXPOSE 8000
# docker-compose.yml sets the command per service.
CMD ["nameko", "run", "--config", "config.yaml", "services.gateway.service"]
