# Hearth in a container: `docker build -t hearth .` then
#   docker run -v hearth-data:/data -e HEARTH_TELEGRAM_TOKEN=... hearth
# Config is read from /data/hearth.toml if present; the SQLite database lives in /data too.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HEARTH_DATABASE_URL=sqlite+aiosqlite:////data/hearth.db

# A font with Chinese characters for digest charts in Chinese communities.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
RUN pip install . \
    && useradd --create-home --uid 10001 hearth \
    && mkdir -p /data \
    && chown hearth:hearth /data

USER hearth
WORKDIR /data
VOLUME ["/data"]
ENTRYPOINT ["hearth"]
CMD ["run"]
