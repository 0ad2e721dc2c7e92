# MedConnect server image. Build: docker build -t medconnect .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p medconnect-http --bin medconnect

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 medconnect
COPY --from=build /src/target/release/medconnect /usr/local/bin/medconnect
USER medconnect
ENV MEDCONNECT_BIND=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"]
ENTRYPOINT ["medconnect"]
CMD ["serve"]
