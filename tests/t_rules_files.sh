#!/usr/bin/env bash
# Rules, CA files and trust stores that are not regular files, or are
# damaged: from the command line, each is one clear "FILE:LINE: reason"
# line and exit 2 at start (--check-rules included), never a hang.
# Before fileio, a FIFO as -R, --check-rules, "approve ca" or --trust-store
# blocked for good, and /dev/zero as -R was read until memory ran out.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rogue=pcaps/fina-rogue-doh.pcap

check() {   # check NAME STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok rules-files $1"; else echo "not ok rules-files $1 ${3:-}"; fi
}
# expect NAME PATTERN ARGS...: exit 2 within 10 s, PATTERN on stderr
expect() {
	local name=$1 pat=$2 rc
	shift 2
	timeout 10 "$bin" "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	grep -q -- "$pat" "$tmp/err"
	check "$name" $((rc != 2 || $?)) "rc=$rc$([ $rc -eq 124 ] && echo " (hung, killed after 10 s)") $(head -c 300 "$tmp/err")"
}

mkfifo "$tmp/fifo"
ln -s "$PWD/pcaps/pki" "$tmp/pki"
printf 'owner o\nprotect ip 1.1.1.1\napprove ca fifo\n' > "$tmp/ca-fifo.rules"
printf 'owner o\nprotect ip 1.1.1.1\napprove ca /dev/zero\n' > "$tmp/ca-zero.rules"
mkdir "$tmp/d"
cp pcaps/test.rules "$tmp/d/10-test.rules"
ln -s "$PWD/pcaps/pki" "$tmp/d/pki"
mkfifo "$tmp/d/20-fifo.rules"

expect "FIFO as -R" "$tmp/fifo:0: cannot open: a FIFO, not a regular file" -R "$tmp/fifo" -r $rogue
expect "FIFO as --check-rules" "$tmp/fifo:0: cannot open: a FIFO" --check-rules "$tmp/fifo"
expect "/dev/zero as -R" "/dev/zero:0: cannot open: a character device" -R /dev/zero -r $rogue
expect "FIFO as approve ca" "ca-fifo.rules:3: cannot open CA file '$tmp/fifo': a FIFO" \
	-R "$tmp/ca-fifo.rules" -r $rogue
expect "FIFO as approve ca, --check-rules" "ca-fifo.rules:3: cannot open CA file" \
	--check-rules "$tmp/ca-fifo.rules"
expect "/dev/zero as approve ca" "ca-zero.rules:3: cannot open CA file '/dev/zero': a character device" \
	-R "$tmp/ca-zero.rules" -r $rogue
expect "FIFO in a rules directory" "d/20-fifo.rules:0: cannot open: a FIFO" -R "$tmp/d" -r $rogue
expect "FIFO as --trust-store" "--trust-store $tmp/fifo: a FIFO, not a regular file" \
	-R pcaps/test.rules --trust-store "$tmp/fifo" -r $rogue
expect "/dev/zero as --trust-store" "--trust-store /dev/zero: a character device" \
	-R pcaps/test.rules --trust-store /dev/zero -r $rogue

# Damaged mid-way: binary bytes after valid owners stop the start at
# their line; what came before is not loaded as if it were the whole.
{ head -c 600 pcaps/test.rules | sed '$d'; printf '\n\x00\x01\x02\xff garbage\n'; cat pcaps/test.rules; } \
	> "$tmp/damaged.rules"
cp "$tmp/damaged.rules" "$tmp/d/10-test.rules" && rm -f "$tmp/d/20-fifo.rules"
line=$(grep -a -n garbage "$tmp/damaged.rules" | cut -d: -f1)
expect "binary bytes mid-way" "damaged.rules:$line: NUL byte in line" -R "$tmp/damaged.rules" -r $rogue
sed -i 's/\x00//' "$tmp/damaged.rules"
expect "binary bytes mid-way, no NUL" "damaged.rules:$line: not text: byte 0x01 at column 1" \
	--check-rules "$tmp/damaged.rules"
# The last line without its newline is a line.
printf 'owner o\nprotect ip 1.1.1.1\napprove ca pki/approved-root.pem' > "$tmp/cut.rules"
timeout 10 "$bin" --check-rules "$tmp/cut.rules" >"$tmp/out" 2>&1
rc=$?
grep -q "approved CAs: 1" "$tmp/out"
check "a last line without a newline counts" $((rc != 0 || $?)) "rc=$rc $(cat "$tmp/out")"
