#!/usr/bin/env bash
# Install, as root, the system packages `make test` needs on a CI host where the suite's user
# cannot install them itself (GitHub's ubuntu-latest runs steps as a non-root user with sudo):
#   sudo scripts/ci_host_setup.sh
# Package names differ per distribution (Debian's cloud kernel does not exist on Ubuntu). The VM
# tests need a kernel that the test user can read (Ubuntu installs /boot/vmlinuz-* mode 0600): the
# chosen kernel is made readable and named in COURSE_VM_KERNEL (written to $GITHUB_ENV when set).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "error: installing system packages needs root; this runs as $(id -un)." >&2
  echo "-> Run it with sudo: sudo scripts/ci_host_setup.sh" >&2
  exit 1
fi
# shellcheck source=/dev/null
. /etc/os-release
arch="$(dpkg --print-architecture)"
case "${ID}/${arch}" in
  debian/amd64) kernel_pkg=linux-image-cloud-amd64 flavour=cloud-amd64 ;;
  ubuntu/amd64) kernel_pkg=linux-image-kvm flavour=kvm ;;
  *)
    echo "error: no VM kernel package known for ${PRETTY_NAME:-$ID} on $arch (Debian or Ubuntu on amd64 only)." >&2
    echo "-> Install qemu-system-x86, busybox-static, cpio and a kernel with virtio, then set COURSE_VM_KERNEL." >&2
    exit 1
    ;;
esac

packages=(qemu-system-x86 busybox-static cpio python3-venv "$kernel_pkg")
echo "Installing on ${PRETTY_NAME:-$ID}: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null

kernel="$(find /boot -maxdepth 1 -name "vmlinuz-*-${flavour}" | sort -V | tail -n 1)"
if [ -z "$kernel" ] || [ ! -f "/lib/modules/${kernel#/boot/vmlinuz-}/modules.dep" ]; then
  echo "error: $kernel_pkg installed no /boot/vmlinuz-*-$flavour with its modules." >&2
  exit 1
fi
chmod 0644 "$kernel"
echo "VM kernel: $kernel"
if [ -n "${GITHUB_ENV:-}" ]; then
  echo "COURSE_VM_KERNEL=$kernel" >>"$GITHUB_ENV"
fi
