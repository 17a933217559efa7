# kedactl as a container image: one static (musl) binary on distroless, run as a non-root user
# (65532, numeric so Kubernetes' runAsNonRoot can check it), with no shell in the image.
#   docker build --build-arg KEDACTL_COMMIT="$(git rev-parse HEAD)" -t kedactl .
#   docker run --rm kedactl plan --offline --cluster demo --region us-east-1
# `docker build` compiles it in the `build` stage. The release workflow replaces that stage with
# a named build context holding the released binaries as out/linux/<arch>/kedactl, so the
# published image carries exactly the attested binaries and nothing is compiled under emulation.
# Linted by hadolint in .ci/run.

FROM rust:1.89-alpine3.22 AS build
ARG TARGETOS
ARG TARGETARCH
# The build stage is thrown away, so its package versions never reach the image; pinning them
# would only break the build at Alpine's next point release.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
ARG KEDACTL_COMMIT=""
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    KEDACTL_COMMIT="${KEDACTL_COMMIT}" cargo build --release --locked \
    && mkdir -p "/out/${TARGETOS}/${TARGETARCH}" \
    && cp target/release/kedactl "/out/${TARGETOS}/${TARGETARCH}/kedactl"

FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETOS
ARG TARGETARCH
COPY --from=build "/out/${TARGETOS}/${TARGETARCH}/kedactl" /usr/local/bin/kedactl
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kedactl"]
CMD ["--help"]
