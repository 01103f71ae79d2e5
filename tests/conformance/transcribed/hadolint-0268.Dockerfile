FROM debian:bookworm
USER root
RUN apt-get update && apt-get install -y curl
USER www-data
