#!/bin/sh
# deb postinst (electron-builder.yml deb.afterInstall). Replaces electron-builder's default
# after-install.tpl, so its steps are kept below; electron-builder fills in the two macros.

# --- managed policy directory (begin) ---
# /etc/clinic-messenger/ holds IT's policy.json (docs/deployment.md); the app refuses a policy a
# non-root user can change. Created root-owned, mode 0755. An existing directory is never
# emptied and an existing policy.json is never touched; a directory a non-root user could change
# is made root-owned and not group/world-writable. CLINIC_MESSENGER_POLICY_DIR exists only so a
# test can run this block in a temporary folder; dpkg never sets it.
POLICY_DIR="${CLINIC_MESSENGER_POLICY_DIR:-/etc/clinic-messenger}"
if [ -L "$POLICY_DIR" ] || { [ -e "$POLICY_DIR" ] && [ ! -d "$POLICY_DIR" ]; }; then
    echo "clinic-messenger: $POLICY_DIR is not a directory; left alone (the app reads no policy from it)" >&2
elif [ -d "$POLICY_DIR" ]; then
    chown root:root "$POLICY_DIR" && chmod go-w "$POLICY_DIR"
else
    mkdir -m 0755 "$POLICY_DIR" && chown root:root "$POLICY_DIR" && chmod 0755 "$POLICY_DIR"
fi
# --- managed policy directory (end) ---

# electron-builder's defaults, in POSIX sh:
if type update-alternatives >/dev/null 2>&1; then
    # Remove previous link if it doesn't use update-alternatives
    if [ -L '/usr/bin/${executable}' ] && [ -e '/usr/bin/${executable}' ] && [ "$(readlink '/usr/bin/${executable}')" != '/etc/alternatives/${executable}' ]; then
        rm -f '/usr/bin/${executable}'
    fi
    update-alternatives --install '/usr/bin/${executable}' '${executable}' '/opt/${sanitizedProductName}/${executable}' 100 || ln -sf '/opt/${sanitizedProductName}/${executable}' '/usr/bin/${executable}'
else
    ln -sf '/opt/${sanitizedProductName}/${executable}' '/usr/bin/${executable}'
fi

# SUID chrome-sandbox only on systems without working user namespaces
if ! { [ -L /proc/self/ns/user ] && unshare --user true; }; then
    chmod 4755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
else
    chmod 0755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
fi

if command -v update-mime-database >/dev/null 2>&1; then
    update-mime-database /usr/share/mime || true
fi

if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database /usr/share/applications || true
fi

# AppArmor profile (Ubuntu 24+), only where this AppArmor understands it
if apparmor_status --enabled > /dev/null 2>&1; then
    APPARMOR_PROFILE_SOURCE='/opt/${sanitizedProductName}/resources/apparmor-profile'
    APPARMOR_PROFILE_TARGET='/etc/apparmor.d/${executable}'
    if apparmor_parser --skip-kernel-load --debug "$APPARMOR_PROFILE_SOURCE" > /dev/null 2>&1; then
        cp -f "$APPARMOR_PROFILE_SOURCE" "$APPARMOR_PROFILE_TARGET"
        if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && command -v apparmor_parser >/dev/null 2>&1; then
            apparmor_parser --replace --write-cache --skip-read-cache "$APPARMOR_PROFILE_TARGET"
        fi
    else
        echo "Skipping the installation of the AppArmor profile as this version of AppArmor does not seem to support the bundled profile"
    fi
fi
