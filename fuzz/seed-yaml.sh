#!/bin/sh
# Copies the repository's YAML files (and the shared corpus's, when present) into the
# yaml_differential fuzz corpus: `sh fuzz/seed-yaml.sh` from the repository root.
set -eu
dest=fuzz/corpus/yaml_differential
mkdir -p "$dest"
for dir in tests samples policies ../shared/corpus; do
    [ -d "$dir" ] || continue
    find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) -size -64k | while read -r f; do
        cp "$f" "$dest/$(printf '%s' "$f" | sha1sum | cut -c1-16)"
    done
done
ls "$dest" | wc -l
