#!/usr/bin/env bash
# Build the sample app's image localhost/umec-sample-app:1.0 without any registry: a root
# file system holding a static busybox and the app's scripts, imported with `podman import`.
#
#   ./build-image.sh               build (or keep the image when nothing changed)
#   ./build-image.sh --save FILE   also write the image as a docker-archive, for a package
#
# Podman reads CONTAINERS_CONF from the environment as usual; BUSYBOX names the static busybox
# to copy (default /bin/busybox from Debian's busybox-static), PODMAN the podman binary.
set -euo pipefail

IMAGE=localhost/umec-sample-app:1.0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
PODMAN="${PODMAN:-podman}"
# Label holding a digest of everything the image is made of: equal digest, nothing to do.
SOURCE_LABEL=io.umec.sample-app.source-digest
# The applets the scripts call (busybox sh builtins need no link).
APPLETS=(sh httpd wget timeout sleep date cat head tail sed grep tr od mkdir rm mv hostname ip
    kill dirname id ls ps)
# The app runs as this unprivileged user; it owns nothing in the image but its /tmp files.
APP_UID=1000
CHANGES=(
    'CMD ["/app/run"]'
    'EXPOSE 8080/tcp'
    'STOPSIGNAL SIGTERM'
    'ENV PATH=/bin'
    'ENV MEC_APP_PORT=8080'
    "USER $APP_UID:$APP_UID"
    'WORKDIR /app'
    'LABEL org.opencontainers.image.title=umec-sample-app'
    'LABEL org.opencontainers.image.version=1.0'
    'LABEL org.opencontainers.image.description="uMEC sample MEC app (MEC 011 client, busybox)"'
)

die() { printf 'build-image.sh: %s\n' "$*" >&2; exit 1; }
say() { printf 'build-image.sh: %s\n' "$*" >&2; }

usage() {
    sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

SAVE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --save)
            SAVE="${2:-}"
            [ -n "$SAVE" ] || die "--save needs a file name"
            shift 2
            ;;
        --save=*) SAVE="${1#--save=}"; [ -n "$SAVE" ] || die "--save needs a file name"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

command -v "$PODMAN" >/dev/null || die "podman not found (set PODMAN or install podman)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: apt-get install busybox-static"
# A dynamically linked busybox would find no libc in the image.
linkage="$(LC_ALL=C ldd "$BUSYBOX" 2>&1 || true)"
if [[ "$linkage" != *"not a dynamic executable"* ]]; then
    die "$BUSYBOX is not statically linked: apt-get install busybox-static"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
ROOT="$WORK/rootfs"

make_rootfs() {
    mkdir -p "$ROOT"/{bin,etc,tmp,app/www/cgi-bin}
    chmod 1777 "$ROOT/tmp"
    install -m 755 "$BUSYBOX" "$ROOT/bin/busybox"
    for applet in "${APPLETS[@]}"; do
        ln -s busybox "$ROOT/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\napp:x:%s:%s:sample app:/tmp:/bin/sh\n' \
        "$APP_UID" "$APP_UID" >"$ROOT/etc/passwd"
    printf 'root:x:0:\napp:x:%s:\n' "$APP_UID" >"$ROOT/etc/group"
    install -m 755 "$HERE/app/run" "$ROOT/app/run"
    install -m 644 "$HERE/app/lib.sh" "$ROOT/app/lib.sh"
    install -m 755 "$HERE/app/www/cgi-bin/index.cgi" "$HERE/app/www/cgi-bin/terminate" \
        "$ROOT/app/www/cgi-bin/"
}

# A reproducible tarball: same inputs, same bytes, so the digest tells whether to rebuild.
make_tarball() {
    tar --create --file "$WORK/rootfs.tar" --directory "$ROOT" --sort=name \
        --owner=0 --group=0 --numeric-owner --mtime=@0 --format=gnu .
}

source_digest() {
    { sha256sum "$WORK/rootfs.tar" | cut -d' ' -f1; printf '%s\n' "${CHANGES[@]}"; } |
        sha256sum | cut -d' ' -f1
}

current_digest() {
    "$PODMAN" image inspect --format "{{index .Config.Labels \"$SOURCE_LABEL\"}}" "$IMAGE" \
        2>/dev/null || true
}

import_image() {
    local arguments=()
    for change in "${CHANGES[@]}" "LABEL $SOURCE_LABEL=$1"; do
        arguments+=(--change "$change")
    done
    "$PODMAN" import --quiet "${arguments[@]}" --message "umec sample app" \
        "$WORK/rootfs.tar" "$IMAGE" >/dev/null
}

save_archive() {
    local partial
    partial="$(dirname "$SAVE")/.$(basename "$SAVE").partial"
    rm -f "$partial"
    "$PODMAN" save --quiet --format docker-archive --output "$partial" "$IMAGE"
    mv -f "$partial" "$SAVE"
    say "saved $IMAGE to $SAVE"
}

make_rootfs
make_tarball
digest="$(source_digest)"
if [ "$(current_digest)" = "$digest" ]; then
    say "$IMAGE is up to date"
else
    previous="$("$PODMAN" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    import_image "$digest"
    # The replaced image is left without a name; drop it unless a container still uses it.
    [ -z "$previous" ] || "$PODMAN" image rm "$previous" >/dev/null 2>&1 || true
    say "built $IMAGE"
fi
[ -z "$SAVE" ] || save_archive
# The image id is what the AppD's swImageDescriptor checksum holds (SHA-256).
"$PODMAN" image inspect --format '{{.Id}}' "$IMAGE"
