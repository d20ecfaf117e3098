# parley-server and the parley client in a small image.
#   docker build -t parley .            (podman: add --format docker to keep HEALTHCHECK)
#   docker run -d -p 127.0.0.1:7878:7878 parley
# Build stage: Debian's packages, a Release build, and the unit tests, so that a broken
# tree never becomes an image.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      cmake g++ make libasio-dev nlohmann-json3-dev libspdlog-dev catch2 libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake
COPY protocol protocol
COPY server server
COPY client client
COPY tests tests
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target parley-server parley \
      parley_protocol_tests parley_hub_tests parley_client_tests \
 && ctest --test-dir /build -L unit --output-on-failure --no-tests=error \
 && strip /build/server/parley-server /build/client/parley

# Runtime stage: the two binaries, the two shared libraries they need, a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libspdlog1.10 libfmt9 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && useradd --system --no-create-home --shell /usr/sbin/nologin parley
COPY --from=build /build/server/parley-server /build/client/parley /usr/local/bin/
# Every flag has a PARLEY_* variable (see parley-server --help); inside a container the
# server must listen on all interfaces to be reachable through a published port.
ENV PARLEY_LISTEN=0.0.0.0:7878 \
    PARLEY_LOG_LEVEL=info \
    PARLEY_DRAIN_TIMEOUT=5s
USER parley
EXPOSE 7878
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 \
  CMD ["parley", "--server", "127.0.0.1:7878", "ping", "--timeout", "2"]
ENTRYPOINT ["parley-server"]
