#!/usr/bin/env bash
# The README's commands run as written on the shipped tree.  Every line of
# its ```sh blocks (continuation lines joined, "a && b" taken apart) is run
# from the top of the checkout and must exit 0, or 1 for a certsentry run
# (1: alerts, as the README says), with nothing on standard error that
# reads as an error.  Skipped, each for the reason listed in SKIP below:
# installing packages, building, the test suite itself, and the span-port
# lines (a real interface, the installed binary, root).  Paths under /tmp/
# become this test's own directory (so that runs in parallel do not
# meet); ./certsentry becomes $CERTSENTRY when set (to try another build).
# Then the sample summary the README shows must be what the first command
# prints: each of its lines (but "...") is a line of the real summary.
set -u
cd "$(dirname "$0")/.."
bin=${CERTSENTRY:-./certsentry}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The machine's configuration file must not change what the README shows.
export CERTSENTRY_CONF=$tmp/no-such.conf

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok readme $1"; else echo "not ok readme $1 ${3:-}"; fi
}

# One command a line (NUL-separated), from the README's sh blocks.
$py - README.md > "$tmp/cmds" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
out = []
for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
    cur = ""
    for line in block.splitlines():
        if line.endswith("\\"):
            cur += line[:-1]
            continue
        cur += line
        if cur.strip():
            for part in re.split(r"\s+&&\s+", cur.strip()):
                out.append(part)
        cur = ""
sys.stdout.write("".join(c + "\0" for c in out))
PY

# SKIP: pattern and reason, checked in order.
skip_reason() {
	case $1 in
	"bash tests/deps.sh"*) echo "installs Debian packages (apt-get, root)" ;;
	make|"make test"*) echo "builds or runs the whole suite: this test runs inside it on a built tree" ;;
	"ip link"*|"ethtool "*) echo "span-port setup: a real interface and root" ;;
	"certsentry -i "*) echo "live capture on a span port with the installed binary (make install) and a user" ;;
	"curl "*"https://"*) echo "downloads from the Internet (tests reach only loopback)" ;;
	"certsentry --ct-follow "*) echo "follows the Internet's CT logs with the installed binary (t_ct_follow.sh follows logs on loopback)" ;;
	*) return 1 ;;
	esac
}

n_run=0
n_skip=0
while IFS= read -r -d '' cmd; do
	if why=$(skip_reason "$cmd"); then
		echo "# readme: skipped ($why): $cmd"
		n_skip=$((n_skip + 1))
		continue
	fi
	run=${cmd//\/tmp\//$tmp\/}
	run=${run//.\/certsentry/$bin}
	bash -c "$run" > "$tmp/out" 2> "$tmp/err"; rc=$?
	allowed=0
	case $cmd in ./certsentry*) allowed=1 ;; esac
	errs=$(grep -E "No such file|cannot |[Uu]nknown option|unexpected argument|Try 'certsentry|not valid|Is a directory|[Ee]rror:|: invalid|command not found" "$tmp/err" | head -3)
	[ "$rc" -eq 0 ] || [ "$rc" -le "$allowed" ]
	ok_rc=$?
	check "runs as written (exit $rc): $cmd" $(( ok_rc != 0 || ${#errs} != 0 )) "$errs $(head -3 "$tmp/err")"
	n_run=$((n_run + 1))
	# The first certsentry command's summary, for the sample below.
	case $cmd in ./certsentry*) [ -e "$tmp/first.err" ] || cp "$tmp/err" "$tmp/first.err" ;; esac
done < "$tmp/cmds"
check "README commands: $n_run run, $n_skip skipped for a listed reason" $(( n_run < 10 ))

# The sample summary: the block after "The first command of this page prints:".
$py - README.md "$tmp/first.err" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"The first command of this page prints:\n\n```\n(.*?)```", text, re.S)
real = open(sys.argv[2]).read().splitlines() if m else []
sample = [l for l in (m.group(1).splitlines() if m else []) if l.strip() != "..."]
missing = [l for l in sample if l not in real]
ok = m is not None and sample and not missing
print(("ok" if ok else "not ok") + " readme the sample summary (%d lines) is the first command's"
      % len(sample) + ("" if ok else ": not in a real run: %r" % missing[:3]))
PY
