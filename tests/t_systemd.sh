#!/usr/bin/env bash
# The systemd units (sensor/dist/certsentry.service and the template
# certsentry@.service), make install, and the privilege model the units
# promise.
#  0. make install PREFIX=/usr DESTDIR=D (in a copy of the files install
#     reads, with the built binary) puts exactly the expected files where
#     Debian and systemd look: /usr/bin, the man page, the docs under
#     /usr/share/doc/certsentry, both units in systemd's unit directory
#     (pkg-config's, which systemd-analyze unit-paths lists), the sysusers
#     file, /etc/logrotate.d, /etc/certsentry with the configuration file
#     (the tree's, or a sample made here when the tree has none) and the
#     example rules; the units name those paths and no @PLACEHOLDER@ is
#     left.  A second install keeps an edited configuration file and rules
#     file; make uninstall removes everything else.  PREFIX=/usr/local puts
#     the units in /usr/local/lib/systemd/system (also searched by systemd)
#     with /etc for the configuration; PREFIX=/opt/cs keeps everything under
#     /opt/cs, the compiled-in SYSCONFDIR too; without a configuration file
#     in the tree none is installed.
#  1. For each installed unit, the hardening is there: a non-root User=,
#     NoNewPrivileges=yes, a CapabilityBoundingSet with CAP_NET_RAW and
#     nothing like CAP_SYS_ADMIN or CAP_SETUID, ambient capabilities inside
#     it, ProtectSystem=strict, ProtectHome, PrivateTmp, the kernel
#     protections, AF_PACKET allowed, Restart=on-failure, reload by SIGHUP;
#     no -u in ExecStart (as a non-root user it fails), and every file
#     ExecStart writes lies in a directory the unit makes writable.  The
#     template's instances (%i expanded to two interfaces) write disjoint
#     files in disjoint directories, none under the plain unit's runtime
#     directory (systemd removes it when that unit stops).
#  2. systemd-analyze verify prints nothing about either unit (the plain
#     unit, and an instance of the template, certsentry@eth1, whose
#     ExecStart is the built binary and whose man:certsentry(8) is found in
#     docs/), and systemd-analyze security rates each exposure at most 2.5
#     (of 10).
#  3. End to end, as root: in two network namespaces joined by a veth pair
#     (made here, removed on exit), the unit's ExecStart (paths moved into
#     a temporary directory) runs as nobody with exactly the unit's
#     capabilities, no-new-privs set; an OpenSSL TLS 1.2 handshake across
#     the pair gives its tls event and its alert, SIGHUP reloads the rules,
#     SIGTERM exits 0 and removes the pid file, and the process held only
#     those capabilities.  Without them it exits 2 with libpcap's
#     "cannot capture: socket: Operation not permitted".  The template's
#     ExecStart for an instance named after the veth does the same in its
#     instance's directories.  With strace, the system calls it made are all
#     in the unit's SystemCallFilter, its sockets in RestrictAddressFamilies,
#     and no mapping was writable and executable (MemoryDenyWriteExecute).
# Traffic stays inside the namespaces this script creates.
# CERTSENTRY names the binary (default ./certsentry).
set -u
cd "$(dirname "$0")/.." || exit 1
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
tmp=$(mktemp -d)
pids=""
netns=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for n in $netns; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok systemd $1"; else echo "not ok systemd $1 ${3:-}"; fi
}

if [ ! -x "$bin" ] || [ ! -f sensor/dist/certsentry.service ]; then
	echo "not ok systemd: need $bin (run make) and sensor/dist/certsentry.service"
	exit 1
fi
abs_bin=$(realpath "$bin")

# ---- 0. make install -------------------------------------------------------
# A copy of what install reads, with the built binary as ./certsentry: the
# install runs with make -o certsentry (never rebuilt, whatever built it:
# a sanitizer build too) and outside the make that may run this script.
src=$tmp/src
mkdir -p "$src/sensor"
cp -r Makefile README.md docs rules include "$src/" && cp -r sensor/dist "$src/sensor/" &&
	cp "$abs_bin" "$src/certsentry" || { echo "not ok systemd install: cannot copy the tree"; exit 1; }
[ -f "$src/sensor/dist/certsentry.conf" ] ||
	printf '# certsentry configuration: a sample made by tests/t_systemd.sh\n' > "$src/sensor/dist/certsentry.conf"
imake() {   # imake DESTDIR ARGS...: make ARGS in the copy; output in $tmp/make.out
	(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -o certsentry SANITIZE= \
		DESTDIR="$1" "${@:2}") > "$tmp/make.out" 2>&1
}
listing() { (cd "$1" && find . ! -type d | sed 's/^\.//' | LC_ALL=C sort); }
# Where this system's systemd looks (Debian 12: /lib/systemd/system and
# /usr/lib/sysusers.d); without pkg-config's answer, systemd's upstream
# default.
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
unitdir=${unitdir:-/usr/lib/systemd/system}
sysusersdir=$(pkg-config --variable=sysusersdir systemd 2>/dev/null)
sysusersdir=${sysusersdir:-/usr/lib/sysusers.d}

root=$tmp/root
imake "$root" install PREFIX=/usr
check "install: make install PREFIX=/usr DESTDIR= exits 0" $? "$(tail -5 "$tmp/make.out")"
{
	echo /usr/bin/certsentry
	echo /usr/share/man/man8/certsentry.8
	echo /usr/share/doc/certsentry/README.md
	for f in docs/*.md; do echo "/usr/share/doc/certsentry/$f"; done
	echo "$unitdir/certsentry.service"
	echo "$unitdir/certsentry@.service"
	echo "$unitdir/certsentry-ct.service"
	echo "$sysusersdir/certsentry.conf"
	echo /etc/logrotate.d/certsentry
	echo /etc/certsentry/certsentry.conf
	(cd rules/examples && find . -type f | sed 's#^\.#/etc/certsentry/examples#')
} | LC_ALL=C sort > "$tmp/want"
listing "$root" > "$tmp/got"
check "install: PREFIX=/usr installs exactly the $(wc -l < "$tmp/want") expected files" \
	"$(cmp -s "$tmp/want" "$tmp/got"; echo $?)" "$(diff "$tmp/want" "$tmp/got" | grep '^[<>]' | head -10 | paste -sd' ' -)"
cmp -s "$abs_bin" "$root/usr/bin/certsentry" && [ -x "$root/usr/bin/certsentry" ] &&
	cmp -s docs/certsentry.8 "$root/usr/share/man/man8/certsentry.8" &&
	cmp -s "$src/sensor/dist/certsentry.conf" "$root/etc/certsentry/certsentry.conf" &&
	cmp -s sensor/dist/certsentry.logrotate "$root/etc/logrotate.d/certsentry" &&
	cmp -s rules/examples/public-dns-resolver.rules "$root/etc/certsentry/examples/public-dns-resolver.rules"
check "install: the binary (executable), man page, configuration, logrotate file and rules are the tree's" $?
if command -v systemd-analyze >/dev/null; then
	systemd-analyze unit-paths 2>/dev/null | grep -qx "$unitdir"
	check "install: $unitdir is one of systemd-analyze unit-paths" $?
fi
if command -v systemd-sysusers >/dev/null; then
	# The user the units run as, made from the installed file in a scratch
	# root (not this machine's /etc).
	mkdir -p "$tmp/sysroot/etc" && touch "$tmp/sysroot/etc/passwd" "$tmp/sysroot/etc/group"
	mkdir -p "$tmp/sysroot$sysusersdir" && cp "$root$sysusersdir/certsentry.conf" "$tmp/sysroot$sysusersdir/"
	systemd-sysusers --root="$tmp/sysroot" > "$tmp/sysusers.out" 2>&1
	grep -q '^certsentry:x:[0-9]*:[0-9]*:.*:/nonexistent:/usr/sbin/nologin$' "$tmp/sysroot/etc/passwd" &&
		grep -q '^certsentry:' "$tmp/sysroot/etc/group"
	check "install: systemd-sysusers makes the user and group certsentry from the installed file" $? \
		"$(cat "$tmp/sysusers.out" "$tmp/sysroot/etc/passwd")"
fi

# The installed units' paths: this install's, and present in it.
unit_paths_ok() {   # unit_paths_ok UNIT ROOT BINDIR SYSCONFDIR DOCDIR
	local u=$1 r=$2
	! grep -qE '@[A-Z]+@' "$u" || return 1
	sed -n 's/^ExecStart=//p' "$u" | grep -q "^$3/certsentry .* -R $4/certsentry " || return 1
	[ -x "$r$3/certsentry" ] && [ -d "$r$4/certsentry" ] || return 1
	grep -qx "Documentation=man:certsentry(8) file:$5/README.md" "$u" && [ -f "$r$5/README.md" ]
}
for u in certsentry.service certsentry@.service certsentry-ct.service; do
	unit_paths_ok "$root$unitdir/$u" "$root" /usr/bin /etc /usr/share/doc/certsentry
	check "install: $u names /usr/bin/certsentry, -R /etc/certsentry and the installed README, no @PLACEHOLDER@ left" $? \
		"$(grep -E '@[A-Z]+@|^ExecStart|^Documentation' "$root$unitdir/$u" | head -4)"
done

# The administrator's files survive a second install and an uninstall
# (in a root of their own: the units in $root are checked below).
r2=$tmp/root2
imake "$r2" install PREFIX=/usr
echo "# edited" >> "$r2/etc/certsentry/certsentry.conf"
echo "# edited" >> "$r2/etc/certsentry/examples/public-dns-resolver.rules"
cp "$r2/etc/certsentry/certsentry.conf" "$tmp/conf.edited"
imake "$r2" install PREFIX=/usr
rc=$?
cmp -s "$tmp/conf.edited" "$r2/etc/certsentry/certsentry.conf" &&
	tail -1 "$r2/etc/certsentry/examples/public-dns-resolver.rules" | grep -qx '# edited' &&
	grep -q 'kept .*/etc/certsentry/certsentry.conf' "$tmp/make.out"
check "install: a second install keeps the edited configuration and rules, and says so" \
	"$(( rc || $? ))" "rc=$rc $(cat "$tmp/make.out")"
imake "$r2" uninstall PREFIX=/usr
rc=$?
listing "$r2" > "$tmp/left"
printf '%s\n' /etc/certsentry/certsentry.conf /etc/certsentry/examples/public-dns-resolver.rules > "$tmp/want.left"
check "install: make uninstall removes all but the two edited files" \
	"$(( rc || $(cmp -s "$tmp/want.left" "$tmp/left"; echo $?) ))" "rc=$rc left: $(paste -sd' ' "$tmp/left")"

# The default prefix: the program under /usr/local, the configuration in
# /etc, the units in /usr/local/lib/systemd/system.
imake "$tmp/local" install
rc=$?
u=$tmp/local/usr/local/lib/systemd/system/certsentry@.service
[ "$rc" -eq 0 ] && [ -f "$tmp/local/usr/local/lib/systemd/system/certsentry.service" ] &&
	unit_paths_ok "$u" "$tmp/local" /usr/local/bin /etc /usr/local/share/doc/certsentry &&
	[ -f "$tmp/local/usr/local/lib/sysusers.d/certsentry.conf" ] &&
	[ -f "$tmp/local/etc/certsentry/certsentry.conf" ] && [ -f "$tmp/local/usr/local/share/man/man8/certsentry.8" ]
check "install: the default PREFIX=/usr/local: units in /usr/local/lib/systemd/system naming /usr/local/bin/certsentry, configuration in /etc" \
	$? "rc=$rc $(listing "$tmp/local" | head -20 | paste -sd' ' -)"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze unit-paths 2>/dev/null | grep -qx /usr/local/lib/systemd/system
	check "install: /usr/local/lib/systemd/system is one of systemd-analyze unit-paths" $?
fi

# A private prefix keeps everything under it, the compiled-in SYSCONFDIR
# too; without a configuration file in the tree, none is installed.
rm -f "$src/sensor/dist/certsentry.conf"
imake "$tmp/opt" install PREFIX=/opt/cs
rc=$?
outside=$(listing "$tmp/opt" | grep -v '^/opt/cs/')
unit_paths_ok "$tmp/opt/opt/cs/lib/systemd/system/certsentry.service" "$tmp/opt" /opt/cs/bin /opt/cs/etc /opt/cs/share/doc/certsentry
ok=$?
check "install: PREFIX=/opt/cs installs only under /opt/cs (configuration in /opt/cs/etc), no configuration file when the tree has none" \
	"$([ "$rc" -eq 0 ] && [ "$ok" -eq 0 ] && [ -z "$outside" ] && [ -f "$tmp/opt/opt/cs/etc/certsentry/examples/public-dns-resolver.rules" ] &&
	   [ ! -e "$tmp/opt/opt/cs/etc/certsentry/certsentry.conf" ]; echo $?)" "rc=$rc outside: $outside"
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s PREFIX=/opt/cs \
	--eval 'cflags: ; @echo $(CFLAGS)' cflags 2>/dev/null) | grep -qF -- '-DCERTSENTRY_SYSCONFDIR="/opt/cs/etc"'
check "install: the compiler is told -DCERTSENTRY_SYSCONFDIR=\"/opt/cs/etc\" for PREFIX=/opt/cs" $?

# ---- 1. the directives -----------------------------------------------------
# The [Service] settings of a unit, continuation lines joined: KEY=VALUE a
# line (a key given twice keeps both lines), in $tmp/settings.NAME.
settings_of() {   # settings_of UNIT NAME
	$py - "$1" > "$tmp/settings.$2" <<'PY'
import sys
section, cur = None, ""
for raw in open(sys.argv[1]):
    line = raw.rstrip("\n")
    if cur:
        line, cur = cur + " " + line.strip(), ""
    if line.endswith("\\"):
        cur = line[:-1].rstrip()
        continue
    s = line.strip()
    if not s or s[0] in "#;":
        continue
    if s.startswith("["):
        section = s
    elif section == "[Service]" and "=" in s:
        print(s)
PY
}
sfile=""
get() { sed -n "s/^$1=//p" "$sfile"; }
# The words ExecStart passes for instance INST: $VAR and ${VAR} from the
# unit's Environment= (an empty one is no word), %i the instance.
exec_words() {   # exec_words INST: the words, one a line
	local w v name inst=$1
	# systemd splits ExecStart at spaces, as the shell does here.
	# shellcheck disable=SC2046
	set -- $(get ExecStart)
	for w in "$@"; do
		case $w in
		'$'*)
			name=${w#\$}; name=${name#\{}; name=${name%\}}
			v=$(get Environment | sed -n "s/^\"\{0,1\}$name=\(.*\)/\1/p" | sed 's/"$//' | tail -1)
			# shellcheck disable=SC2086
			[ -n "$v" ] && printf '%s\n' $v
			;;
		*) printf '%s\n' "${w//%i/$inst}" ;;
		esac
	done
}

units_checked=""
for uname in certsentry.service certsentry@.service; do
	unit=$root$unitdir/$uname
	[ -f "$unit" ] || { check "$uname installed" 1; continue; }
	units_checked="$units_checked $uname"
	# The plain unit's checks keep the names they always had.
	pre=""
	[ "$uname" = certsentry.service ] || pre="$uname: "
	settings_of "$unit" "$uname"
	sfile=$tmp/settings.$uname
	has() {   # has KEY=VALUE
		grep -qx -- "$1" "$sfile"
		check "$pre$1" $?
	}
	has NoNewPrivileges=yes
	has ProtectSystem=strict
	has ProtectHome=yes
	has PrivateTmp=yes
	has ProtectKernelTunables=yes
	has ProtectKernelModules=yes
	has ProtectKernelLogs=yes
	has ProtectControlGroups=yes
	has RestrictNamespaces=yes
	has LockPersonality=yes
	has MemoryDenyWriteExecute=yes
	has SystemCallArchitectures=native
	has Restart=on-failure
	# shellcheck disable=SC2016 # $MAINPID is the unit's, not ours
	has 'ExecReload=/bin/kill -HUP $MAINPID'
	user=$(get User)
	check "${pre}User=$user, not root" "$([ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ]; echo $?)"
	group=$(get Group)
	check "${pre}Group=$group, not root" "$([ -n "$group" ] && [ "$group" != root ] && [ "$group" != 0 ]; echo $?)"
	bound=$(get CapabilityBoundingSet)
	ambient=$(get AmbientCapabilities)
	echo "$bound" | grep -qw CAP_NET_RAW && ! echo "$bound" | grep -qE '(^|[ ~])(CAP_SYS_ADMIN|CAP_SETUID|CAP_SETGID|CAP_SETPCAP|CAP_DAC_OVERRIDE|CAP_SYS_PTRACE)( |$)' &&
		! echo "$bound" | grep -q '~'
	check "${pre}CapabilityBoundingSet=$bound: CAP_NET_RAW, no CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID" $?
	extra=""
	for c in $ambient; do echo " $bound " | grep -q " $c " || extra="$extra $c"; done
	check "${pre}AmbientCapabilities=$ambient within the bounding set" "$([ -n "$ambient" ] && [ -z "$extra" ]; echo $?)" "outside:$extra"
	get RestrictAddressFamilies | grep -qw AF_PACKET
	check "${pre}RestrictAddressFamilies allows AF_PACKET ($(get RestrictAddressFamilies))" $?
	mapfile -t words < <(exec_words eth1)
	bad=""
	for w in "${words[@]}"; do case $w in -u|--user|--user=*) bad="$w" ;; esac; done
	check "${pre}ExecStart has no -u (User= is set; as non-root -u fails)" "$([ -z "$bad" ]; echo $?)" "$bad"
	# Every path certsentry writes must be writable under ProtectSystem=strict.
	writable="/run/$(get RuntimeDirectory) /var/log/$(get LogsDirectory) /var/lib/$(get StateDirectory) $(get ReadWritePaths)"
	writable=${writable//%i/eth1}
	bad=""
	for i in "${!words[@]}"; do
		case ${words[$i]} in
		-o|--output|--pidfile|--state|--metrics|--evidence|--learn)
			p=${words[$((i + 1))]}
			ok=1
			for d in $writable; do case $p in "$d"/*) ok=0 ;; esac; done
			[ "$ok" -eq 0 ] || bad="$bad ${words[$i]} $p"
			;;
		esac
	done
	check "${pre}ExecStart writes only under $writable" "$([ -z "$bad" ]; echo $?)" "not writable:$bad"
	# The installed logrotate file rotates the EVE file the unit writes,
	# and makes the new one for the unit's user.
	out=""
	for i in "${!words[@]}"; do [ "${words[$i]}" = -o ] && out=${words[$((i + 1))]}; done
	lr=$root/etc/logrotate.d/certsentry
	rotated=1
	for pat in $(sed -n 's/^\(\/[^{]*\){.*/\1/p' "$lr"); do
		# shellcheck disable=SC2053 # the logrotate path is a glob
		[[ -n $out && $out == $pat ]] && rotated=0
	done
	check "${pre}logrotate rotates $out and creates it for $user" \
		"$([ "$rotated" -eq 0 ] && grep -qE "^[[:space:]]*create [0-7]+ $user " "$lr"; echo $?)" "$(head -8 "$lr" | tail -2)"
done

# Two instances of the template, and the plain unit beside them: no file
# written by two, no directory of one inside another's (systemd removes a
# unit's RuntimeDirectory when it stops, with whatever lies below it).
sfile=$tmp/settings.certsentry.service
plain_run=/run/$(get RuntimeDirectory)
sfile=$tmp/settings.certsentry@.service
: > "$tmp/inst"
for inst in eth1 eth2; do
	mapfile -t words < <(exec_words "$inst")
	for i in "${!words[@]}"; do
		case ${words[$i]} in
		-o|--pidfile|--state) echo "file ${words[$((i + 1))]}" >> "$tmp/inst" ;;
		esac
	done
	echo "dir /run/$(get RuntimeDirectory | sed "s/%i/$inst/g") runtime" >> "$tmp/inst"
	echo "dir /var/log/$(get LogsDirectory | sed "s/%i/$inst/g") logs" >> "$tmp/inst"
	echo "dir /var/lib/$(get StateDirectory | sed "s/%i/$inst/g") state" >> "$tmp/inst"
done
dup=$(awk '$1 == "file" {print $2}' "$tmp/inst" | sort | uniq -d)
dirs=$(awk '$1 == "dir" {print $2}' "$tmp/inst" | sort)
nested=$(printf '%s\n' "$dirs" | awk '{d[NR] = $1} END {for (i = 1; i <= NR; i++) for (j = 1; j <= NR; j++)
	if (i != j && (d[j] == d[i] || index(d[j], d[i] "/") == 1)) print d[i] " holds " d[j]}')
under_plain=$(awk '$1 == "dir" && $3 == "runtime" {print $2}' "$tmp/inst" | grep -F "$plain_run/")
check "certsentry@.service: instances eth1 and eth2 write $(grep -c '^file' "$tmp/inst") distinct files in $(printf '%s\n' "$dirs" | grep -c .) distinct directories, none under $plain_run" \
	"$([ -z "$dup" ] && [ -z "$nested" ] && [ -z "$under_plain" ] && [ "$(grep -c '^file' "$tmp/inst")" -eq 6 ]; echo $?)" \
	"shared: $dup nested: $nested under $plain_run: $under_plain"

# ---- 2. systemd-analyze ----------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
	echo "ok systemd: skipped (no systemd-analyze)"
else
	mkdir -p "$tmp/verify" "$tmp/man/man8"
	cp docs/certsentry.8 "$tmp/man/man8/"
	# verify loads the unit's dependencies from the host (multi-user.target,
	# network-online.target and what they pull in).  What the host's own
	# units say is not ours: --recursive-errors=no makes only our unit's
	# warnings set the exit status, and of the printed lines only those
	# naming our unit (its file or "certsentry") count; the others are shown
	# as comments.  MANPATH lets Documentation=man:certsentry(8) find the
	# page of this tree instead of failing on a host without it installed.
	# The template is verified as an instance (certsentry@eth1.service),
	# which systemd-analyze loads from the template file beside it.
	verify() {   # verify NAME: systemd-analyze verify in $tmp/verify, output in $tmp/verify.out
		(cd "$tmp/verify" && MANPATH="$tmp/man" systemd-analyze verify --recursive-errors=no "$1") \
			> "$tmp/verify.out" 2>&1
	}
	for uname in $units_checked; do
		pre=""
		[ "$uname" = certsentry.service ] || pre="$uname: "
		sed "s#^ExecStart=/usr/bin/certsentry #ExecStart=$abs_bin #" "$root$unitdir/$uname" > "$tmp/verify/$uname"
		name=${uname/@./@eth1.}
		verify "$name"
		rc=$?
		grep -i certsentry "$tmp/verify.out" > "$tmp/verify.ours"
		grep -iv certsentry "$tmp/verify.out" | sed 's/^/# systemd-analyze (host): /'
		check "${pre}systemd-analyze verify $name: no warning about the unit" \
			"$([ "$rc" -eq 0 ] && [ ! -s "$tmp/verify.ours" ]; echo $?)" "rc=$rc $(head -10 "$tmp/verify.ours")"
		# The same check on a copy with a misspelt directive must fail.
		bad=${uname/certsentry/certsentry-bad}
		sed 's/^PrivateTmp=yes/PrivateTmp=yes\nProtectKernelTunnables=yes/' "$tmp/verify/$uname" > "$tmp/verify/$bad"
		verify "${bad/@./@eth1.}"
		grep -q "ProtectKernelTunnables" "$tmp/verify.out"
		check "${pre}self-test: systemd-analyze verify catches a misspelt directive" $?
		rm -f "$tmp/verify/$bad"
		systemd-analyze security --offline=yes --threshold=25 "$tmp/verify/$name" > "$tmp/security" 2>&1
		rc=$?
		level=$(sed -n 's/.*Overall exposure level for [^:]*: //p' "$tmp/security")
		check "${pre}systemd-analyze security: exposure $level, at most 2.5" "$rc" "$(tail -3 "$tmp/security")"
	done
fi

# ---- 3. the privilege model, end to end -----------------------------------
skip=""
[ "$(id -u)" -eq 0 ] || skip="needs root for network namespaces"
for t in ip openssl setpriv ss; do
	[ -n "$skip" ] || command -v "$t" >/dev/null || skip="no $t"
done
[ -n "$skip" ] || getent passwd nobody >/dev/null || skip="no user nobody"
if [ -n "$skip" ]; then
	echo "ok systemd privileges: skipped ($skip)"
	exit 0
fi
nobody_group=$(id -gn nobody)

tag=cs$$
srv=${tag}s
sen=${tag}c
ip netns add "$srv" && netns="$srv" && ip netns add "$sen" && netns="$srv $sen" &&
ip link add "${tag}a" type veth peer name "${tag}b" &&
ip link set "${tag}a" netns "$srv" && ip link set "${tag}b" netns "$sen" &&
ip -n "$srv" addr add 198.18.7.1/24 dev "${tag}a" && ip -n "$sen" addr add 198.18.7.2/24 dev "${tag}b" &&
ip -n "$srv" link set "${tag}a" up && ip -n "$sen" link set "${tag}b" up &&
ip -n "$srv" link set lo up && ip -n "$sen" link set lo up ||
	{ echo "not ok systemd privileges: cannot build the namespaces"; exit 1; }

# The directories systemd would make: the rules read-only (root's), the
# runtime, log and state directories the service user's.  The binary is
# copied beside them: the checkout may sit where nobody cannot reach it.
chmod 755 "$tmp"
mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/run" "$tmp/log" "$tmp/lib"
cp "$abs_bin" "$tmp/bin/certsentry"
chmod 755 "$tmp/bin" "$tmp/bin/certsentry" "$tmp/etc"
chown nobody:"$nobody_group" "$tmp/run" "$tmp/log" "$tmp/lib"
chmod 700 "$tmp/lib"
# A self-signed server certificate for the protected address, and an
# approved CA that did not sign it: a self-signed alert.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$tmp/srv.key" -out "$tmp/srv.pem" -subj /CN=198.18.7.1 \
	-addext subjectAltName=IP:198.18.7.1 2>/dev/null &&
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$tmp/ca.key" -out "$tmp/etc/approved.pem" -subj /CN=approved-ca 2>/dev/null ||
	{ echo "not ok systemd privileges: openssl cannot make certificates"; exit 1; }
printf 'owner sensor-test\nprotect ip 198.18.7.1\napprove ca approved.pem\n' > "$tmp/etc/test.rules"
chmod 644 "$tmp/etc/"*

# A unit's ExecStart with its paths moved here, capturing on the veth
# (-i's word; an instance of the template is named after it); --syslog
# left out so that the diagnostics come to this script (the unit sends
# them to the journal).  Sets cmd, pidfile and eve; makes the runtime, log
# and state directories the unit's settings name, as systemd would.
unit_cmd() {   # unit_cmd SETTINGS
	local w i d prev=""
	sfile=$1
	cmd=()
	while read -r w; do
		case $w in --syslog) continue ;; esac
		[ "$prev" = -i ] && w=${tag}b
		prev=$w
		[ ${#cmd[@]} -eq 0 ] && w=$tmp/bin/certsentry
		w=${w/#\/etc\/certsentry/$tmp/etc}
		w=${w/#\/run\/certsentry/$tmp/run}
		w=${w/#\/var\/log\/certsentry/$tmp/log}
		w=${w/#\/var\/lib\/certsentry/$tmp/lib}
		cmd+=("$w")
	done < <(exec_words "${tag}b")
	for d in "/run/$(get RuntimeDirectory)" "/var/log/$(get LogsDirectory)" "/var/lib/$(get StateDirectory)"; do
		d=${d//%i/${tag}b}
		d=${d/#\/run\/certsentry/$tmp/run}
		d=${d/#\/var\/log\/certsentry/$tmp/log}
		d=${d/#\/var\/lib\/certsentry/$tmp/lib}
		mkdir -p "$d" && chown nobody:"$nobody_group" "$d"
		case $d in "$tmp/lib"*) chmod 700 "$d" ;; esac
	done
	pidfile=""
	for i in "${!cmd[@]}"; do [ "${cmd[$i]}" = --pidfile ] && pidfile=${cmd[$((i + 1))]}; done
	eve=""
	for i in "${!cmd[@]}"; do [ "${cmd[$i]}" = -o ] && eve=${cmd[$((i + 1))]}; done
	echo "# ExecStart here: ${cmd[*]}"
}
unit_cmd "$tmp/settings.certsentry.service"
ambient=$(get AmbientCapabilities)
bound=$(get CapabilityBoundingSet)

# The unit's capabilities as setpriv spells them (CAP_NET_RAW -> +net_raw).
caps() { echo "$1" | tr ' ' '\n' | grep . | sed 's/^CAP_//' | tr '[:upper:]' '[:lower:]' | sed 's/^/+/' | paste -sd, -; }
amb=$(caps "$ambient")
bnd=$(caps "$bound")
nnp=""
grep -qx NoNewPrivileges=yes "$sfile" && nnp=--no-new-privs
# svc CAPS BOUNDING: the prefix that runs a command as the service would,
# as nobody with only those capabilities, in the sensor's namespace.
svc() {
	svc=(ip netns exec "$sen" setpriv --reuid=nobody --regid="$nobody_group" --clear-groups
		"--inh-caps=-all${1:+,$1}" "--ambient-caps=-all${1:+,$1}" "--bounding-set=-all${2:+,$2}" ${nnp:+"$nnp"})
}
as_service() {   # as_service CAPS BOUNDING COMMAND...: run so, umask 027 (UMask=)
	svc "$1" "$2"
	shift 2
	(umask 027; exec "${svc[@]}" "$@")
}
# The bits the unit's capabilities should leave in CapEff and CapBnd, by
# setpriv's numbering of capability names.
mask() {
	setpriv --list-caps | awk -v want="$(echo "$1" | tr -d +)" '
		BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) set[w[i]] = 1 }
		{ if ($1 in set) m += 2 ^ (NR - 1) } END { printf "%016x\n", m }'
}
want_eff=$(mask "$amb")
want_bnd=$(mask "$bnd")

wait_for() {   # wait_for SECONDS COMMAND...: until COMMAND succeeds
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

# One session of the sensor: start it (WRAPPER... before the command, in a
# subshell with UMask='s umask), make a TLS 1.2 handshake across the veth,
# SIGHUP, SIGTERM (to the pid the pid file names: the wrapper may be a
# tracer).  Leaves the exit status in $tmp/NAME.rc, stderr in
# $tmp/NAME.err, the sensor's /proc/PID/status in $tmp/NAME.status.
session() {
	local name=$1 pid spid srvpid
	shift
	rm -f "$eve" "$pidfile"
	(umask 027; exec "$@" "${cmd[@]}") 2> "$tmp/$name.err" &
	pid=$!
	pids="$pids $pid"
	if ! wait_for 10 grep -q "capturing on" "$tmp/$name.err" || [ ! -s "$pidfile" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid"
		echo $? > "$tmp/$name.rc"
		return
	fi
	spid=$(cat "$pidfile")
	pids="$pids $spid"
	cat "/proc/$spid/status" > "$tmp/$name.status" 2>/dev/null
	ip netns exec "$srv" openssl s_server -accept 443 -cert "$tmp/srv.pem" -key "$tmp/srv.key" \
		-tls1_2 -quiet -naccept 1 > /dev/null 2>&1 &
	srvpid=$!
	pids="$pids $srvpid"
	wait_for 5 sh -c "ip netns exec $srv ss -ltn | grep -q ':443 '"
	echo Q | ip netns exec "$sen" timeout 10 openssl s_client -connect 198.18.7.1:443 -tls1_2 \
		> "$tmp/$name.client" 2>&1
	wait_for 5 grep -q '"event_type":"alert"' "$eve"
	kill -HUP "$spid"
	wait_for 5 grep -q "rules reloaded" "$tmp/$name.err"
	kill -TERM "$spid"
	wait "$pid"
	echo $? > "$tmp/$name.rc"
	kill "$srvpid" 2>/dev/null
	wait "$srvpid" 2>/dev/null
}

svc "$amb" "$bnd"
session run "${svc[@]}"
rc=$(cat "$tmp/run.rc")
grep -q "capturing on" "$tmp/run.err"
check "privileges: as nobody with only $ambient, the capture opens" $? "$(head -5 "$tmp/run.err")"
uid=$(awk '/^Uid:/ {print $2}' "$tmp/run.status")
eff=$(awk '/^CapEff:/ {print $2}' "$tmp/run.status")
bnd_now=$(awk '/^CapBnd:/ {print $2}' "$tmp/run.status")
nnp_now=$(awk '/^NoNewPrivs:/ {print $2}' "$tmp/run.status")
check "privileges: uid $uid (nobody), CapEff $eff, CapBnd $bnd_now as the unit's ($want_eff, $want_bnd), NoNewPrivs $nnp_now" \
	"$([ "$uid" = "$(id -u nobody)" ] && [ "$eff" = "$want_eff" ] && [ "$bnd_now" = "$want_bnd" ] &&
	   { [ -z "$nnp" ] || [ "$nnp_now" = 1 ]; }; echo $?)"
n_tls=$($py tests/evetool.py count "$eve" tls 2>/dev/null)
got=$($py tests/evetool.py alerts "$eve" 2>/dev/null)
check "privileges: the handshake across the veth gives its tls event and alert ($got)" \
	"$([ "${n_tls:-0}" -ge 1 ] && [ "$got" = "sensor-test:self-signed" ]; echo $?)" \
	"tls=$n_tls alerts='$got' $(tail -3 "$tmp/run.client") $(cat "$tmp/run.err")"
grep -q '"dest_ip":"198.18.7.1","dest_port":443' "$eve"
check "privileges: the event names the server 198.18.7.1:443" $?
grep -q "rules reloaded" "$tmp/run.err"
check "privileges: SIGHUP reloads the rules as nobody" $? "$(cat "$tmp/run.err")"
check "privileges: SIGTERM exits 0" "$rc" "rc=$rc $(cat "$tmp/run.err")"
state=$(ls "$tmp/lib")
check "privileges: the alert windows are kept in the state directory ($state)" \
	"$([ -n "$state" ] && [ "$(stat -c %U "$tmp/lib/$state")" = nobody ]; echo $?)"
check "privileges: the pid file in the runtime directory is removed" "$([ -n "$pidfile" ] && [ ! -e "$pidfile" ]; echo $?)"
if [ -x ../shared/eve/validate ]; then
	../shared/eve/validate "$eve" > "$tmp/v" 2>&1
	check "privileges: EVE schema: $(tail -1 "$tmp/v")" $?
fi

# The template's ExecStart, as the instance named after the veth: the same
# session in the instance's own directories.
unit_cmd "$tmp/settings.certsentry@.service"
inst_eve=$eve
inst_pid=$pidfile
svc "$(caps "$(get AmbientCapabilities)")" "$(caps "$(get CapabilityBoundingSet)")"
session inst "${svc[@]}"
rc=$(cat "$tmp/inst.rc")
got=$($py tests/evetool.py alerts "$inst_eve" 2>/dev/null)
inst_state=$(ls "$tmp/lib/${tag}b" 2>/dev/null)
check "privileges: certsentry@${tag}b captures, alerts ($got) into ${inst_eve#"$tmp"/}, keeps its windows in lib/${tag}b/, exits 0, removes ${inst_pid#"$tmp"/}" \
	"$([ "$rc" -eq 0 ] && [ "$got" = "sensor-test:self-signed" ] && [ "$inst_eve" = "$tmp/log/${tag}b/eve.json" ] &&
	   [ -n "$inst_state" ] && [ -n "$inst_pid" ] && [ ! -e "$inst_pid" ] &&
	   grep -q "rules reloaded" "$tmp/inst.err"; echo $?)" \
	"rc=$rc alerts='$got' eve=$inst_eve state='$inst_state' $(cat "$tmp/inst.err")"
unit_cmd "$tmp/settings.certsentry.service" > /dev/null

# Without the capabilities: exit 2, and the reason said.
as_service "" "" "${cmd[@]}" > /dev/null 2> "$tmp/nocap.err" &
p=$!
pids="$pids $p"
wait_for 10 sh -c "! kill -0 $p 2>/dev/null"
kill "$p" 2>/dev/null
wait "$p"
rc=$?
grep -q "${tag}b: cannot capture: socket: Operation not permitted" "$tmp/nocap.err"
check "privileges: without the capabilities, exit 2 and 'cannot capture: ... not permitted'" \
	"$(( rc != 2 || $? ))" "rc=$rc $(cat "$tmp/nocap.err")"

# Notes, not checks: what the unit could do without.
as_service +net_raw +net_raw timeout -s TERM 2 "${cmd[@]}" > /dev/null 2> "$tmp/raw.err"
grep -q "capturing on" "$tmp/raw.err" &&
	echo "# note: CAP_NET_RAW alone also opens the capture here (CAP_NET_ADMIN is not used by this libpcap)"
as_service "$amb" "$bnd" timeout -s TERM 2 "${cmd[@]}" -u nobody > /dev/null 2> "$tmp/u.err"
grep -q "cannot drop privileges" "$tmp/u.err" &&
	echo "# note: -u as a non-root user fails ($(head -1 "$tmp/u.err")), so the unit does not pass it"

# The sandbox's promises against what the process does, traced.
if ! command -v strace >/dev/null || ! command -v systemd-analyze >/dev/null; then
	echo "ok systemd syscalls: skipped (no strace or systemd-analyze)"
	exit 0
fi
# A sanitizer runtime makes calls of its own (LeakSanitizer ptraces the
# process at exit, which it cannot do under strace anyway): only a plain
# build says what certsentry itself needs.
if ldd "$abs_bin" 2>/dev/null | grep -qE 'lib(a|t|ub|l)san'; then
	echo "ok systemd syscalls: skipped (sanitizer build)"
	exit 0
fi
svc "$amb" "$bnd"
session traced strace -f -qq -o "$tmp/trace" "${svc[@]}"
rc=$(cat "$tmp/traced.rc")
# A second start: the alert windows the first wrote into the state
# directory (--state) hold, so the same chain at the same server is a
# repeat, not a new alert (why the unit keeps them: Restart=on-failure).
got=$($py tests/evetool.py alerts "$eve" 2>/dev/null)
n_tls=$($py tests/evetool.py count "$eve" tls 2>/dev/null)
n_rep=$($py tests/evetool.py count "$eve" alert_repeat 2>/dev/null)
check "syscalls: the traced session sees the handshake, exits 0; its alert window came from the state directory" \
	"$([ "$rc" -eq 0 ] && [ "${n_tls:-0}" -ge 1 ] && [ "$got" = - ] && [ "${n_rep:-0}" -eq 1 ]; echo $?)" \
	"rc=$rc tls=$n_tls alerts='$got' repeats=$n_rep $(ls -l "$tmp/lib") $(cat "$tmp/traced.err")"
# What the filter allows, its groups expanded: allowed minus denied.
expand() {
	systemd-analyze syscall-filter "$1" | sed -n 's/^    \([a-z0-9_@-]*\).*/\1/p' |
	while read -r s; do case $s in @*) expand "$s" ;; *) echo "$s" ;; esac; done
}
: > "$tmp/allow"
: > "$tmp/deny"
while read -r f; do
	case $f in
	"~"*) for s in ${f#\~}; do case $s in @*) expand "$s" ;; *) echo "$s" ;; esac; done >> "$tmp/deny" ;;
	*) for s in $f; do case $s in @*) expand "$s" ;; *) echo "$s" ;; esac; done >> "$tmp/allow" ;;
	esac
done < <(get SystemCallFilter)
sort -u -o "$tmp/allow" "$tmp/allow"
sort -u -o "$tmp/deny" "$tmp/deny"
comm -23 "$tmp/allow" "$tmp/deny" > "$tmp/allowed"
# The calls made after certsentry's execve, by every thread.
awk -v b="$tmp/bin/certsentry" 'index($0, "execve(\"" b "\"") {on = 1} on' "$tmp/trace" |
	sed -E 's/^[0-9]+ +//; s/^<\.\.\. ([a-z0-9_]+) resumed>.*/\1(/' |
	grep -oE '^[a-z_0-9]+\(' | tr -d '(' | sort -u > "$tmp/used"
outside=$(comm -23 "$tmp/used" "$tmp/allowed" | paste -sd' ' -)
check "syscalls: the $(wc -l < "$tmp/used") calls made are all allowed by SystemCallFilter" \
	"$([ -s "$tmp/used" ] && [ -s "$tmp/allowed" ] && [ -z "$outside" ]; echo $?)" "outside: $outside"
families=$(grep -oE 'socket\(AF_[A-Z0-9]+' "$tmp/trace" | sed 's/socket(//' | sort -u | paste -sd' ' -)
bad=""
for f in $families; do echo " $(get RestrictAddressFamilies) " | grep -q " $f " || bad="$bad $f"; done
check "syscalls: sockets $families within RestrictAddressFamilies" "$([ -z "$bad" ]; echo $?)" "outside:$bad"
wx=$(grep -E 'PROT_(WRITE|EXEC)\|PROT_(WRITE|EXEC)|PROT_READ\|PROT_WRITE\|PROT_EXEC' "$tmp/trace" |
	grep -E 'PROT_WRITE' | grep -E 'PROT_EXEC' | head -3)
check "syscalls: no writable and executable mapping (MemoryDenyWriteExecute)" "$([ -z "$wx" ]; echo $?)" "$wx"
