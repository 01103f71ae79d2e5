FROM debian:bookworm AS builder
USER root
RUN make

FROM alpine:3.20
USER daemon
