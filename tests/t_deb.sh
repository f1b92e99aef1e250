#!/usr/bin/env bash
# make deb: the Debian package built with debhelper from sensor/dist/debian
# (copied into a build tree; the top level holds no debian/ directory).
# Checked without installing it (dpkg -i would put files in this machine's
# /etc that other tests would read):
#   - make deb exits 0 and writes certsentry_VERSION_ARCH.deb, VERSION the
#     program's (CS_VERSION), ARCH dpkg's;
#   - its files are exactly the expected ones: /usr/bin/certsentry, both
#     units in /lib/systemd/system (Debian 12's unit directory) naming
#     /usr/bin/certsentry and /etc/certsentry, the sysusers file, the man
#     page, the docs in /usr/share/doc/certsentry (with copyright and
#     changelog), /etc/logrotate.d/certsentry, /etc/certsentry with the
#     example rules and the configuration file when the tree has one;
#   - every file under /etc is a conffile (dpkg keeps an edited one);
#   - dpkg-deb -I: Depends is the shared libraries' packages (libc6,
#     libpcap0.8, libssl3, libndpi, libhiredis) and systemd-sysusers's, no
#     -dev package; the postinst makes the user (systemd-sysusers) and does
#     not enable a unit by itself;
#   - lintian (when installed): no error, and no warning but those
#     listed below with their reason.
# Skipped without debhelper (tests/deps.sh test installs it), and in a
# sanitizer run: the package builds its own binary, checked by the plain
# run.
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok deb $1"; else echo "not ok deb $1 ${3:-}"; fi
}

if [ -n "${SANITIZED:-}" ]; then
	echo "ok deb: skipped (sanitizer run; the package builds its own binary)"
	exit 0
fi
for t in dh dpkg-buildpackage dpkg-deb; do
	if ! command -v "$t" >/dev/null; then
		echo "ok deb: skipped (no $t: apt-get install debhelper, or bash tests/deps.sh test)"
		exit 0
	fi
done

# Lintian warnings the package keeps, each with its reason:
#   maintainer-script-calls-systemctl: the postinst try-restarts the running
#     instances of certsentry@.service after an upgrade, the prerm stops
#     them on removal; deb-systemd-invoke takes unit names, and the
#     instances' names are the administrator's.
allowed_warnings="maintainer-script-calls-systemctl"

# The build tree goes into this test's directory, not the checkout's
# build-deb/; the make that may run this script is not asked (its
# jobserver and variables stay out).
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s deb DEB_BUILD="$tmp/deb" LINTIAN= > "$tmp/build.out" 2>&1
rc=$?
version=$(sed -n 's/^#define CS_VERSION *"\(.*\)"/\1/p' include/run/options.h)
arch=$(dpkg --print-architecture)
deb=$tmp/deb/certsentry_${version}_$arch.deb
check "make deb exits 0 and writes certsentry_${version}_$arch.deb" \
	"$([ "$rc" -eq 0 ] && [ -f "$deb" ]; echo $?)" "rc=$rc $(tail -15 "$tmp/build.out")"
[ -f "$deb" ] || exit 0

{
	echo /usr/bin/certsentry
	echo /lib/systemd/system/certsentry.service
	echo /lib/systemd/system/certsentry@.service
	echo /lib/systemd/system/certsentry-ct.service
	echo /usr/lib/sysusers.d/certsentry.conf
	echo /usr/share/man/man8/certsentry.8.gz
	echo /usr/share/doc/certsentry/README.md
	echo /usr/share/doc/certsentry/copyright
	echo /usr/share/doc/certsentry/changelog.gz
	for f in docs/*.md; do echo "/usr/share/doc/certsentry/$f"; done
	echo /etc/logrotate.d/certsentry
	[ ! -f sensor/dist/certsentry.conf ] || echo /etc/certsentry/certsentry.conf
	(cd rules/examples && find . -type f | sed 's#^\.#/etc/certsentry/examples#')
} | LC_ALL=C sort > "$tmp/want"
dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sed 's#^\./#/#' | LC_ALL=C sort > "$tmp/got"
check "the package holds exactly the $(wc -l < "$tmp/want") expected files" \
	"$(cmp -s "$tmp/want" "$tmp/got"; echo $?)" "$(diff "$tmp/want" "$tmp/got" | grep '^[<>]' | head -10 | paste -sd' ' -)"

mkdir -p "$tmp/x" "$tmp/ctl"
dpkg-deb -x "$deb" "$tmp/x" && dpkg-deb -e "$deb" "$tmp/ctl"
grep '^/etc/' "$tmp/want" > "$tmp/want.conf"
LC_ALL=C sort "$tmp/ctl/conffiles" > "$tmp/conffiles" 2>/dev/null
check "every file under /etc is a conffile ($(grep -c . "$tmp/want.conf"))" \
	"$(cmp -s "$tmp/want.conf" "$tmp/conffiles"; echo $?)" "$(diff "$tmp/want.conf" "$tmp/conffiles" | grep '^[<>]' | paste -sd' ' -)"
bad=""
for u in certsentry.service certsentry@.service certsentry-ct.service; do
	f=$tmp/x/lib/systemd/system/$u
	grep -q '^ExecStart=/usr/bin/certsentry .* -R /etc/certsentry ' "$f" && ! grep -qE '@[A-Z]+@' "$f" &&
		grep -qx 'Documentation=man:certsentry(8) file:/usr/share/doc/certsentry/README.md' "$f" || bad="$bad $u"
done
check "the units run /usr/bin/certsentry with the rules in /etc/certsentry, their README uncompressed" \
	"$([ -z "$bad" ] && [ -f "$tmp/x/usr/share/doc/certsentry/README.md" ]; echo $?)" "wrong:$bad"

depends=$(dpkg-deb -f "$deb" Depends)
missing=""
for p in libc6 libpcap0.8 libssl3 libndpi libhiredis libcurl4 libjansson4 systemd-sysusers; do
	echo ", $depends," | grep -qE "[ ,|]${p}[0-9.]*( |,)" || missing="$missing $p"
done
check "Depends names the shared libraries and systemd-sysusers, no -dev package ($depends)" \
	"$([ -z "$missing" ] && ! echo "$depends" | grep -q -- '-dev'; echo $?)" "missing:$missing"
check "Package certsentry, Version $version, Architecture $arch, Section net" \
	"$([ "$(dpkg-deb -f "$deb" Package)" = certsentry ] && [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] &&
	   [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] && [ "$(dpkg-deb -f "$deb" Section)" = net ]; echo $?)"
# The user comes from the sysusers file; no unit is enabled by the
# package (the sensor needs its rules and interface first): the postinst
# enables only what was enabled before (deb-systemd-helper was-enabled).
grep -q 'systemd-sysusers .*certsentry.conf' "$tmp/ctl/postinst"
check "the postinst makes the user with systemd-sysusers" $?
enables=$(grep -n 'deb-systemd-helper enable' "$tmp/ctl/postinst" | wc -l)
guarded=$(grep -c 'was-enabled' "$tmp/ctl/postinst")
check "the postinst enables no unit by itself" \
	"$([ "$enables" -eq "$guarded" ]; echo $?)" "$(grep -n 'enable' "$tmp/ctl/postinst")"
# Removal stops every instance of the template, not only the plain unit.
grep -q "systemctl stop 'certsentry@\*.service'" "$tmp/ctl/prerm" && grep -q 'certsentry.service' "$tmp/ctl/prerm"
check "the prerm stops certsentry.service and the template's instances" $? "$(cat "$tmp/ctl/prerm")"

if command -v lintian >/dev/null; then
	lintian "$tmp"/deb/*.changes > "$tmp/lintian" 2>&1
	errors=$(grep '^E: ' "$tmp/lintian")
	check "lintian: no error" "$([ -z "$errors" ]; echo $?)" "$errors"
	others=$(grep '^W: ' "$tmp/lintian" | awk '{print $3}' | sort -u | grep -vxF "$(printf '%s\n' $allowed_warnings)")
	check "lintian: no warning but the listed ones ($allowed_warnings)" "$([ -z "$others" ]; echo $?)" \
		"$(grep '^W: ' "$tmp/lintian")"
else
	echo "ok deb lintian: skipped (not installed)"
fi
