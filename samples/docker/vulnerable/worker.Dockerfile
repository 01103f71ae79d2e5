# syntax=docker/dockerfile:1
# The builder drops to a user, but the runtime stage is built FROM another image:
# the builder's USER never reaches the image (Checkov accepts this file).
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
RUN useradd --uid 10001 builder
USER builder
WORKDIR /src
COPY --chown=builder . .
RUN <<EOF
go mod download
CGO_ENABLED=0 go build -o /tmp/worker ./cmd/worker
EOF

FROM alpine:3.20 AS runtime
ARG RUN_AS=root
COPY --from=build /tmp/worker /usr/local/bin/worker
USER ${RUN_AS}
ENTRYPOINT ["/usr/local/bin/worker"]
