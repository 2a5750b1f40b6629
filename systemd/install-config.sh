#!/bin/sh
# install-config.sh SAMPLE DIR: installs the sample config file as
# DIR/salusd.conf (under $DESTDIR) unless a file is there already, which an
# operator may have edited; meson's install_data would overwrite it.
set -eu
sample=$1
dest="${DESTDIR:-}$2/salusd.conf"
if [ -e "$dest" ] || [ -L "$dest" ]; then
    echo "Keeping $dest (the sample is salusd --sample-config)"
    exit 0
fi
mkdir -p "$(dirname "$dest")"
install -m 0644 "$sample" "$dest"
echo "Installing $sample to $dest"
