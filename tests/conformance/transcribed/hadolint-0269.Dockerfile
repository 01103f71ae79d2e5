FROM debian:bookworm AS base
USER root

FROM base
RUN echo inherits the base stage user
