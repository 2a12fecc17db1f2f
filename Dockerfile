# The outyet image, built from the outyet that the build stages; nothing is
# downloaded. From the repository root, after building (see README.md):
#   docker build -t outyet-image .
#   podman build --storage-driver=vfs --isolation=chroot -t outyet-image .
# A build directory other than build/: --build-arg ROOTFS=<dir>/image/rootfs
# (it must lie inside the context; .dockerignore admits build*/image/rootfs).
#
# build/image/rootfs holds: /outyet (static, stripped), /etc/passwd and
# /etc/group (user outyet, uid 65532), /etc/nsswitch.conf (hosts: files dns)
# and /etc/ssl/certs/ca-certificates.crt (the system CA bundle).
FROM scratch
ARG ROOTFS=build/image/rootfs
COPY ${ROOTFS}/ /
# OpenSSL's compiled-in default (/usr/lib/ssl/cert.pem) does not exist here.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER outyet:outyet
EXPOSE 8080
ENTRYPOINT ["/outyet"]
