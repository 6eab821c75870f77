#!/bin/sh
# setup.sh: fetch what the traces' guest needs, from Debian bookworm (run as root, once).
# QEMU 7.2 (the recording's exact version), busybox-static for the initramfs, and the recording's kernel
# package, unpacked (not installed) into $WORK/kernel.
set -e
WORK=${WORK:-$HOME/swaptui-tcg}
mkdir -p "$WORK" && cd "$WORK"
apt-get install -y qemu-system-x86 busybox-static cpio gcc libc6-dev
apt-get download linux-image-6.1.0-56-amd64-unsigned
dpkg-deb -x linux-image-6.1.0-56-amd64-unsigned_*.deb kernel
ls kernel/boot/vmlinuz-6.1.0-56-amd64
