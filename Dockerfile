# MedConnect server image. Build: docker build -t medconnect .
# The build context leaves out target/, .local/ (the private cluster and its keys) and .env:
# see .dockerignore.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The whole program optimised at link time: 5-12 % less server CPU a request, for about
# twice the build time, paid here once (benches/README.md, "link-time optimisation tried").
ENV CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
# The server only: `medconnect train` (model training and plots) is for development.
RUN cargo build --release --locked -p medconnect-http --bin medconnect --no-default-features

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311+deb12u1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 medconnect \
    && useradd --system --uid 10001 --gid 10001 medconnect
COPY --from=build /src/target/release/medconnect /usr/local/bin/medconnect
USER 10001:10001
ENV MEDCONNECT_BIND=0.0.0.0:8000
EXPOSE 8000
# `medconnect health` asks the server's /ready (the database answers) over loopback.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s CMD ["medconnect", "health"]
ENTRYPOINT ["medconnect"]
CMD ["serve"]
