#!/bin/sh
# deb postrm (electron-builder.yml deb.afterRemove). Replaces electron-builder's default
# after-remove.tpl, so its steps are kept below; electron-builder fills in the two macros.

# electron-builder's defaults, in POSIX sh:
if type update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove '${executable}' '/opt/${sanitizedProductName}/${executable}'
else
    rm -f '/usr/bin/${executable}'
fi

APPARMOR_PROFILE_DEST='/etc/apparmor.d/${executable}'
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
    if apparmor_status --enabled > /dev/null 2>&1; then
        if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && command -v apparmor_parser >/dev/null 2>&1; then
            apparmor_parser --remove "$APPARMOR_PROFILE_DEST" || true
        fi
    fi
    rm -f "$APPARMOR_PROFILE_DEST"
fi

# --- managed policy directory (begin) ---
# The policy is IT's configuration, not the package's: remove and upgrade keep it, and even purge
# removes /etc/clinic-messenger/ only when it is empty (a policy.json IT placed survives, so a
# reinstall gets the same policy). CLINIC_MESSENGER_POLICY_DIR: for tests only, as in postinst.
POLICY_DIR="${CLINIC_MESSENGER_POLICY_DIR:-/etc/clinic-messenger}"
if [ "$1" = purge ] && [ -d "$POLICY_DIR" ] && [ ! -L "$POLICY_DIR" ]; then
    rmdir "$POLICY_DIR" 2>/dev/null || true
fi
# --- managed policy directory (end) ---
