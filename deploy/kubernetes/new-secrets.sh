#!/bin/sh
# Writes a region's secrets, random, into <overlay>/secrets/ (never in git:
# deploy/kubernetes/.gitignore; never in the image: .dockerignore). A file that
# exists already is kept, so running it again only adds what is missing.
#
#   deploy/kubernetes/new-secrets.sh deploy/kubernetes/overlays/gz
#
# The overlay's secretGenerator turns each file into a Secret: ccrm-db-owner
# and ccrm-db-<service> (CloudNativePG's owner and managed roles, read by the
# migrate Job and each service), ccrm-minio-config and ccrm-minio-user (the
# MinIO Tenant's root and media's user), ccrm-auth (the sign-in code pepper).
set -eu
overlay=${1:?usage: new-secrets.sh <overlay directory>}
dir="$overlay/secrets"
mkdir -p "$dir"
umask 077

random() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }

write() {  # write <file> <content>: only if the file does not exist yet
    if [ -e "$dir/$1" ]; then
        echo "kept    $dir/$1"
    else
        printf '%s\n' "$2" > "$dir/$1"
        echo "written $dir/$1"
    fi
}

write db-owner.env "username=ccrm
password=$(random)"
for service in intake dispatch sla penalty media gateway; do
    write "db-$service.env" "username=ccrm_$service
password=$(random)"
done
write minio-config.env "export MINIO_ROOT_USER=ccrm-root
export MINIO_ROOT_PASSWORD=$(random)"
write minio-user.env "CONSOLE_ACCESS_KEY=ccrm-media
CONSOLE_SECRET_KEY=$(random)"
write auth.env "AUTH_CODE_PEPPER=$(random)"
