# parley-server and the parley client in one small image.
#   docker build -t parley .                   (podman: add --format docker to keep HEALTHCHECK)
#   docker run -d --name parley -p 127.0.0.1:7878:7878 parley
#   docker stop parley                         (SIGTERM: every client gets bye, exit code 0)
# Standard syntax only: builds with the classic builder, BuildKit and buildah alike.

# Build stage: Debian's packages, a Release build, and the unit tests, so that a tree that
# fails them never becomes an image.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake g++ make libasio-dev nlohmann-json3-dev libspdlog-dev catch2 libcli11-dev libssl-dev \
      libhiredis-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY protocol protocol
COPY common common
COPY web web
COPY server server
COPY client client
COPY tests tests
# Only the two programs and the unit-test binaries are built (not the integration, client
# or soak suites, which need a running server); `ctest -L unit` runs every unit test and
# fails the build if one fails or if none is found.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DPARLEY_BUILD_BENCH_TOOLS=OFF \
 && cmake --build /build -j"$(nproc)" --target parley-server parley \
      parley_protocol_tests parley_common_tests parley_hub_tests parley_auth_tests parley_client_tests \
 && ctest --test-dir /build -L unit -j"$(nproc)" --output-on-failure --no-tests=error \
 && strip /build/server/parley-server /build/client/parley

# Runtime stage: the two binaries and the shared libraries they need beyond the base
# (spdlog and fmt, 0.7 MB, OpenSSL's libssl3 and hiredis; libstdc++ is in the base image already,
# so static linking would save next to nothing), and the openssl command, which the health
# check uses when TLS is on.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libspdlog1.10 libfmt9 libssl3 libhiredis0.14 openssl \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin parley
COPY --from=build /build/server/parley-server /build/client/parley /usr/local/bin/
COPY docker/healthcheck.sh /usr/local/bin/parley-healthcheck
# Every flag of parley-server has a PARLEY_* variable (parley-server --help lists them).
# Inside a container the server listens on every interface, so a published port reaches it.
ENV PARLEY_LISTEN=0.0.0.0:7878 \
    PARLEY_HTTP_LISTEN=0.0.0.0:7880 \
    PARLEY_LOG_LEVEL=info \
    PARLEY_DRAIN_TIMEOUT=5s
# A numeric user, so that "run as non-root" policies can verify it.
USER 10001:10001
EXPOSE 7878 7880
# parley-server is PID 1 and handles SIGTERM itself: it stops listening, sends every client
# {"op":"bye","reason":"shutdown"}, flushes for at most PARLEY_DRAIN_TIMEOUT and exits 0.
# Keep the stop timeout (docker stop -t, default 10 s) above the drain timeout.
STOPSIGNAL SIGTERM
# TLS: mount the certificate and key read-only and point PARLEY_TLS_CERT and
# PARLEY_TLS_KEY at them (PARLEY_TLS_CLIENT_CA for mutual TLS); SIGHUP (docker kill -s HUP)
# reloads them. The key must be readable by user 10001.
# The health check asks the port the server listens on (taken from PARLEY_LISTEN) for a
# ping, with `parley ping` (sending PARLEY_TOKEN when one is set), or over TLS with
# openssl s_client when PARLEY_TLS_CERT is set (docker/healthcheck.sh).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["parley-healthcheck"]
ENTRYPOINT ["parley-server"]
