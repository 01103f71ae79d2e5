FROM debian:bookworm
USER root
