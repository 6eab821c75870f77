#!/bin/bash
# run.sh NAME  -> boots initrd-NAME.cpio.gz under TCG, log in logs/NAME.log
# Also records host CPU contention: host busy CPU-seconds vs qemu's own CPU-seconds over the boot.
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-$HOME/swaptui-tcg}
mkdir -p "$WORK" && cd "$WORK"
NAME=$1
mkdir -p logs
rm -f swap.img; truncate -s 2G swap.img
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
date -u +"RUN START %FT%TZ" > logs/$NAME.log
b0=$(busy); p0=$(awk '/^some/{print $5}' /proc/pressure/cpu | cut -d= -f2)
TIMEFORMAT="HOSTTIME: qemu_real=%R qemu_user=%U qemu_sys=%S"
{ time qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64 -smp 2 -m 1G -nographic -no-reboot \
  -kernel kernel/boot/vmlinuz-6.1.0-56-amd64 -initrd initrd-$NAME.cpio.gz \
  -append "console=ttyS0,115200 panic=-1 loglevel=5 mitigations=off" \
  -drive file=swap.img,if=virtio,format=raw </dev/null >> logs/$NAME.log 2>&1 ; echo "qemu rc=$?" >> logs/$NAME.log; } 2>> logs/$NAME.log
b1=$(busy); p1=$(awk '/^some/{print $5}' /proc/pressure/cpu | cut -d= -f2)
echo "HOSTCPU: host_busy_s=$(( (b1-b0)/100 )) cpu_pressure_some_s=$(( (p1-p0)/1000000 ))" >> logs/$NAME.log
date -u +"RUN END %FT%TZ" >> logs/$NAME.log
