#!/bin/sh
# usemem-like runs, one boot per (swap,size,trial)
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HOME/swaptui-tcg}
mkdir -p "$WORK" && cd "$WORK"
for t in ${TRIALS:-1}; do
for cfg in zram:1536 zram:1280 zram:1792 disk:1536 disk:1280; do
  sw=${cfg%%:*}; S=${cfg##*:}
  n=usemem_${sw}_${S}_t$t
  "$HERE/build.sh" $n $sw "usemem $S" >/dev/null && "$HERE/run.sh" $n
  rm -f initrd-$n.cpio.gz
  echo "$n done $(date -u +%T)"
done
done
