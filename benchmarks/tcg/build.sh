#!/bin/sh
# build.sh NAME SWAP "JOB1;JOB2;..."  -> initrd-NAME.cpio.gz
# e.g. ./build.sh zram_full zram "full 3"
set -e
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HOME/swaptui-tcg}
mkdir -p "$WORK" && cd "$WORK"
NAME=$1; SWAP=$2; JOBS=$3
gcc -O2 -static -o bench "$HERE/bench.c"
R=root-$NAME; rm -rf $R; mkdir -p $R/bin $R/sbin $R/usr/bin $R/usr/sbin $R/proc $R/sys $R/dev $R/etc $R/lib/modules $R/tmp
cp /bin/busybox $R/bin/busybox
for a in $($R/bin/busybox --list-full); do [ -e $R/$a ] || ln -s /bin/busybox $R/$a; done
M=kernel/lib/modules/6.1.0-56-amd64/kernel
for p in mm/zsmalloc drivers/block/zram/zram drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk; do
  cp $M/$p.ko $R/lib/modules/
done
cp bench $R/bin/bench
cp "$HERE/init" $R/init
printf 'SWAP=%s\nJOBS="%s"\n%s\n' "$SWAP" "$JOBS" "$EXTRA" > $R/etc/bench.conf
(cd $R && find . | cpio -o -H newc --quiet | gzip -9) > initrd-$NAME.cpio.gz
rm -rf $R
ls -l initrd-$NAME.cpio.gz
