# syntax=docker/dockerfile:1
# citebot: the Discord and Telegram bots, in one process (every front whose token is set).
# Build: docker build -t citebot .
# Run:   docker run -d --env-file .env -v citebot-data:/data citebot

# -- Stage 1: dependencies (and the package) in a virtual environment ---------------------------
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so this layer is cached until they change: the
# required ones and the `plot` extra (matplotlib), which draws the chart of /kb stats.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['plot']))" \
        > requirements.txt \
    && pip install -r requirements.txt
# Then the package itself, without resolving dependencies again.
COPY README.md ./
COPY bot ./bot
RUN pip install --no-deps .

# -- Stage 2: runtime -------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    KNOWLEDGE_DIR=/app/knowledge \
    DATABASE_PATH=/data/citebot.sqlite3 \
    HEALTH_FILE=/tmp/citebot.health \
    MPLCONFIGDIR=/opt/matplotlib
RUN groupadd --gid 10001 citebot \
    && useradd --create-home --uid 10001 --gid 10001 citebot \
    && mkdir /data /opt/matplotlib \
    && chown citebot:citebot /data /opt/matplotlib
COPY --from=builder /opt/venv /opt/venv
# matplotlib's font cache, built once here: otherwise the first /kb stats chart builds it (seconds).
RUN python -c "import matplotlib.font_manager" && chown -R citebot:citebot /opt/matplotlib
WORKDIR /app
# The knowledge is imported into the database on the first start; /kb reload reads it again.
COPY --chown=10001:10001 knowledge ./knowledge
USER 10001:10001
VOLUME ["/data"]
# Healthy while every front is connected (the Discord gateway, Telegram's updates): the bot writes
# HEALTH_FILE (its status) every 30 s then.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot.health", "/tmp/citebot.health"]
# SIGTERM (docker stop) lets the answers in flight finish (7 s at most), writes the question log
# and closes the database, inside the default 10 s grace.
STOPSIGNAL SIGTERM
# Webhook mode (TELEGRAM_WEBHOOK_URL) listens on TELEGRAM_WEBHOOK_PORT: publish it (-p 8443:8443).
EXPOSE 8443
CMD ["python", "-m", "bot", "run"]
