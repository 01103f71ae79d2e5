FROM debian:bookworm
USER postgres
