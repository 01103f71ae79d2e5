# syntax=docker/dockerfile:1
# Root in the builder is fine: only the final stage becomes the image
# (hadolint flags the builder's USER root anyway).
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS build
USER root
WORKDIR /src
COPY . .
RUN <<EOF
go mod download
CGO_ENABLED=0 go build -o /tmp/worker ./cmd/worker
EOF

FROM gcr.io/distroless/static-debian12 AS runtime
ARG RUN_AS=65532:65532
COPY --from=build /tmp/worker /usr/local/bin/worker
USER ${RUN_AS}
ENTRYPOINT ["/usr/local/bin/worker"]
