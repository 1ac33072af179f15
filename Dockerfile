# nsbox in a FROM-scratch image: one static binary, data on /data, DNS on 53, console/API on 8080.
#   docker build -t nsbox .
#   docker run -d --name nsbox -p 53:53/udp -p 53:53/tcp -p 8080:8080 -v nsbox-data:/data nsbox
#   docker logs nsbox        # the first start prints the admin password once
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
    && mkdir -p /out/data /out/tmp && chmod 1777 /out/tmp \
    && cp target/x86_64-unknown-linux-musl/release/nsbox /out/nsbox

FROM scratch
COPY --from=build /out/nsbox /nsbox
# An empty /data owned by the unprivileged user the server runs as, and a /tmp (the admin
# backup download stages its copy there).
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/tmp /tmp
USER 65532:65532
ENV NSBOX_DATA=/data/nsbox.redb \
    NSBOX_HTTP=0.0.0.0:8080 \
    NSBOX_DNS=0.0.0.0:53
VOLUME ["/data"]
EXPOSE 53/udp 53/tcp 8080/tcp
# Port 53 without root: Docker grants CAP_NET_BIND_SERVICE to the container by default, and
# recent engines set net.ipv4.ip_unprivileged_port_start=0; elsewhere run with
# --sysctl net.ipv4.ip_unprivileged_port_start=53 or map -p 53:5353 with NSBOX_DNS=0.0.0.0:5353.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s \
    CMD ["/nsbox", "healthcheck", "--http", "127.0.0.1:8080", "--dns", "127.0.0.1:53"]
ENTRYPOINT ["/nsbox"]
CMD ["serve"]
