# syntax=docker/dockerfile:1
#
# µMEC platform image: the MEC 011 API server (gunicorn + uvicorn workers via the
# `mec-platform serve` console script) on Python 3.11, Debian bookworm slim.
#
#   docker build -t mec-platform .
#   docker run -p 8080:8080 -v mec-data:/var/lib/mec-platform mec-platform
#
# Stage 1 builds a wheel of the project and wheels of all its dependencies, so the
# runtime stage installs offline from that wheelhouse and carries no build tools.
# The wheelhouse is bind-mounted into the runtime RUN (BuildKit), so it never
# becomes a layer of the final image.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY mec_platform/ mec_platform/
COPY specs/ specs/
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .


FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="mec-platform" \
      org.opencontainers.image.description="µMEC platform: an ETSI MEC host (MEC 011 API framework)" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/mec-platform/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEC_DATA_DIR=/var/lib/mec-platform \
    MEC_DATABASE_URL=sqlite:////var/lib/mec-platform/mec.db \
    MEC_SPECS_DIR=/usr/share/mec-platform/specs \
    MEC_DNS_LISTEN=0.0.0.0 \
    MEC_MQTT_LISTEN=0.0.0.0

# Fixed uid/gid 10001 (user `mec`) so volume ownership stays stable across rebuilds,
# and numeric in USER so runtimes can verify "non-root" without reading /etc/passwd.
RUN groupadd --system --gid 10001 mec \
    && useradd --system --uid 10001 --gid mec \
        --home-dir /var/lib/mec-platform --no-create-home --shell /usr/sbin/nologin mec \
    && install -d -o mec -g mec -m 0750 /var/lib/mec-platform

# The data plane: dnsmasq serves ACTIVE DNS rules; nftables and iproute2 enforce traffic rules
# when the container runs as root with NET_ADMIN and MEC_TRAFFIC_RULES=true (as uid 10001 the
# platform refuses ACTIVE traffic rules with 409). Debian's stable packages follow security
# updates, so they are not pinned.
# Mosquitto is the box's MQTT broker (the platform writes its configuration and accounts);
# as uid 10001 it keeps running as that user.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends dnsmasq-base nftables iproute2 mosquitto \
    && rm -rf /var/lib/apt/lists/*

# --no-index: everything comes from the builder's wheelhouse, nothing from the network.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m venv /opt/mec-platform \
    && /opt/mec-platform/bin/pip install --no-cache-dir --no-index --find-links=/wheels /wheels/mec_platform-*.whl

# The OpenAPI documents are not package data; mec_platform finds them through
# MEC_SPECS_DIR (set above).
COPY specs/ /usr/share/mec-platform/specs/

USER 10001:10001
WORKDIR /var/lib/mec-platform
VOLUME ["/var/lib/mec-platform"]
EXPOSE 8080 8053/udp 8053/tcp 1883

# slim images have no curl: probe /healthz with the venv's Python (urlopen raises,
# hence exits non-zero, on connection errors and on any non-2xx status).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/opt/mec-platform/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

CMD ["mec-platform", "serve", "--host", "0.0.0.0", "--port", "8080"]
