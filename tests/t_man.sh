#!/usr/bin/env bash
# The man page, --help and the option table cannot drift apart.
#   docs/certsentry.8   the .TP entries of OPTIONS (their tag lines)
#   certsentry --help   the option lines
#   sensor/run/options.c  the getopt_long table (struct option) and optstring,
#                         with the sinks' option tables (sensor/sink/sink_*.c)
# Checked, both ways: the long options, the short ones and which long one
# each stands for, each option's argument (the same name in --help and the
# man page; an argument in --help exactly when the table says
# required_argument), the group (.SS) each is documented under, the exit
# statuses, the required sections, every --option the page mentions
# anywhere, and that groff renders the page with no warning.  --help does
# not list itself (-h) nor --version: both are taken as listed.  Then the
# comparison is run on doctored copies (an option added to the page, one
# taken out, a wrong argument, a stray entry in the table or --help, a bad
# macro) and must fail on each: a check that cannot fail checks nothing.
# CERTSENTRY names the binary (default ./certsentry), CERTSENTRY_MAN the
# page (default docs/certsentry.8): CERTSENTRY_MAN=doctored.8 bash
# tests/t_man.sh shows the checks failing on a copy.
set -u
cd "$(dirname "$0")/.." || exit 1
bin=${CERTSENTRY:-./certsentry}
man=${CERTSENTRY_MAN:-docs/certsentry.8}
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {   # check NAME CONDITION-STATUS [details]
	if [ "$2" -eq 0 ]; then echo "ok man $1"; else echo "not ok man $1 ${3:-}"; fi
}

if [ ! -x "$bin" ]; then
	echo "not ok man: no binary $bin (run make)"
	exit 1
fi
if [ ! -f "$man" ]; then
	echo "not ok man: no man page $man"
	exit 1
fi
# The file that holds the option table, wherever it moves to.
src=$(grep -l 'struct option [a-z_]*\[\] *=' sensor/*.c sensor/*/*.c 2>/dev/null)
if [ "$(printf '%s\n' "$src" | grep -c .)" -ne 1 ]; then
	echo "not ok man: want one struct option table in sensor/, found: ${src:-none}"
	exit 1
fi
# The sinks declare their own options (struct sink_option tables in
# sensor/sink/sink_*.c), which options.c appends to getopt's table at
# start: the table compared is options.c's and the sinks' together.
cat "$src" sensor/sink/sink_*.c > "$tmp/options-and-sinks.c"
src=$tmp/options-and-sinks.c
"$bin" --help > "$tmp/help"; rc=$?
check "--help exits 0" "$rc" "rc=$rc"

cat > "$tmp/optcmp.py" <<'PY'
# optcmp.py HELP MAN SRC [CHECK]: one line per difference, exit 1 if any.
# CHECK limits the output to one family (long, short, args, groups,
# exit, sections, refs); without it, all of them.
import re
import sys

# --help lists neither of these; they are in the table and the page.
UNLISTED = {"help": "h", "version": None}
METAVAR = re.compile(r"^(\[[A-Z]+=\])?[A-Z][A-Z_]*(\.\.\.)?$|^[a-z]+(\|[a-z]+)+$")
TAG = re.compile(r"(?:-([A-Za-z]), )?--([a-z0-9][a-z0-9-]*)")


def parse_tag(s):
    """'-r, --read FILE' -> [(short, long, metavar)]; several for
    '--syslog-facility F, --syslog-level L'.  The argument is the word one
    space after the name (a description starts after two or more, or is
    not upper-case)."""
    out, pos = [], 0
    while True:
        m = TAG.match(s, pos)
        if not m:
            return out
        pos = m.end()
        arg = None
        if s[pos:pos + 1] == " " and s[pos + 1:pos + 2] not in (" ", ""):
            word = s[pos + 1:].split(" ", 1)[0]
            if word.endswith(",") and s.startswith(" -", pos + 1 + len(word)):
                word = word[:-1]   # "--syslog-facility F, --syslog-level L"
            if METAVAR.match(word):
                arg, pos = word, pos + 1 + len(word)
        out.append((m.group(1), m.group(2), arg))
        if not s.startswith(", -", pos):
            return out
        pos += 2


def parse_help(text):
    """{long: (short, metavar, group)}, exit statuses.  Option lines come
    after the usage block; a line 'word ...:' starts a group."""
    opts, group, exits = {}, 0, set()
    body = text.split("\n\n", 1)[1] if "\n\n" in text else text
    for line in body.splitlines():
        if line.startswith("exit status:"):
            exits = set(re.findall(r"\b(\d+) [a-z]", line))
        elif re.match(r"^[a-z][^:]*:$", line):
            group += 1
        elif re.match(r"^ {2,8}-", line):
            for short, name, arg in parse_tag(line.strip()):
                if name in opts:
                    print("--help lists --%s twice" % name)
                opts[name] = (short, arg, group)
    return opts, exits


def roff_args(rest):
    args, cur, q, i = [], "", False, 0
    while i < len(rest):
        c = rest[i]
        if q and c == '"' and rest[i + 1:i + 2] == '"':
            cur += '"'
            i += 1
        elif c == '"' and (q or cur == ""):
            q = not q
            if not q:
                args.append(cur)
                cur = None
        elif c == " " and not q:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur = (cur or "") + c
        i += 1
    if cur:
        args.append(cur)
    return args


def roff_text(line):
    """A macro line or a text line as the words it prints."""
    m = re.match(r"^\.(B|I|BI|IB|BR|RB|IR|RI)(?:\s+(.*))?$", line)
    if m:
        args = roff_args(m.group(2) or "")
        line = (" " if m.group(1) in ("B", "I") else "").join(args)
    line = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", line)
    line = line.replace("\\-", "-").replace("\\&", "").replace("\\(aq", "'")
    return line.replace("\\e", "\\")


def parse_man(text):
    """{long: (short, metavar, group)} from the .TP tags of OPTIONS, the
    sections, the EXIT STATUS tags, and every --name mentioned."""
    opts, sections, exits = {}, [], set()
    section, group, tag_next = None, -1, False
    for line in text.splitlines():
        if line.startswith(".SH"):
            section = roff_args(line[3:].strip())
            section = " ".join(section)
            sections.append(section)
            continue
        if section == "OPTIONS" and line.startswith(".SS"):
            group += 1
            continue
        if line.startswith(".TP"):
            tag_next = True
            continue
        if tag_next:
            tag_next = False
            tag = roff_text(line)
            if section == "EXIT STATUS":
                exits.add(tag.strip())
            elif section == "OPTIONS":
                found = parse_tag(tag)
                if not found:
                    print("man page: OPTIONS entry '%s' names no option" % tag)
                for short, name, arg in found:
                    if name in opts:
                        print("man page documents --%s twice" % name)
                    opts[name] = (short, arg, group)
    plain = re.sub(r"\\f(\(..|\[[^]]*\]|.)", "", text).replace("\\-", "-")
    refs = set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", plain))
    return opts, sections, exits, refs


def parse_src(text):
    """{long: (short, has_arg)} from the struct option table, and the
    optstring {short: has_arg}."""
    m = re.search(r"struct option [a-z_]+\[\] *= *\{(.*?)\n\};", text, re.S)
    table = {}
    if m:
        for name, has, val in re.findall(
                r'\{\s*"([a-z0-9-]+)",\s*(no_argument|required_argument|optional_argument),'
                r"\s*NULL,\s*('.'|\w+)\s*\}", m.group(1)):
            table[name] = (val[1] if val.startswith("'") else None, has)
    # The sinks' options: { "name", has_arg (0/1), parse } rows of each
    # struct sink_option table (they take no short option).
    for body in re.findall(r"struct sink_option [a-z_]+\[\] *= *\{(.*?)\n\};", text, re.S):
        for name, has in re.findall(r'\{\s*"([a-z0-9-]+)",\s*([01]),\s*\w+\s*\}', body):
            table[name] = (None, "required_argument" if has == "1" else "no_argument")
    m = re.search(r'getopt_long\([^,]+,[^,]+,\s*"([^"]*)"', text)
    optstring = {}
    for short, colon in re.findall(r"([A-Za-z])(:?)", m.group(1) if m else ""):
        optstring[short] = colon == ":"
    return table, optstring


def main():
    help_opts, help_exits = parse_help(open(sys.argv[1]).read())
    man_text = open(sys.argv[2]).read()
    man_opts, sections, man_exits, refs = parse_man(man_text)
    table, optstring = parse_src(open(sys.argv[3]).read())
    only = sys.argv[4] if len(sys.argv) > 4 else None
    diffs = []

    def say(family, msg):
        if only in (None, family):
            diffs.append(msg)

    listed = dict(help_opts)
    for name, short in UNLISTED.items():
        listed.setdefault(name, (short, None, None))
    if not table:
        say("long", "no struct option table found")
    for name in sorted(set(listed) - set(table)):
        say("long", "--%s: in --help, not in the option table" % name)
    for name in sorted(set(table) - set(listed)):
        say("long", "--%s: in the option table, not in --help" % name)
    for name in sorted(set(listed) - set(man_opts)):
        say("long", "--%s: in --help, not in the man page's OPTIONS" % name)
    for name in sorted(set(man_opts) - set(listed)):
        say("long", "--%s: in the man page's OPTIONS, not in --help" % name)

    def shorts(d, key=lambda v: v[0]):
        return {key(v): n for n, v in d.items() if key(v)}
    s_help, s_man, s_tab = shorts(listed), shorts(man_opts), shorts(table)
    for what, d in (("the man page", s_man), ("the option table", s_tab)):
        for s in sorted(set(s_help) | set(d)):
            if s_help.get(s) != d.get(s):
                say("short", "-%s: --help says --%s, %s says --%s"
                    % (s, s_help.get(s), what, d.get(s)))
    for s in sorted(set(s_tab) | set(optstring)):
        if s not in optstring:
            say("short", "-%s: in the option table, not in getopt_long's optstring" % s)
        elif s not in s_tab:
            say("short", "-%s: in the optstring, not in the option table" % s)

    for name in sorted(set(listed) & set(man_opts)):
        if listed[name][1] != man_opts[name][1]:
            say("args", "--%s: argument %s in --help, %s in the man page"
                % (name, listed[name][1], man_opts[name][1]))
    for name in sorted(set(listed) & set(table)):
        arg = listed[name][1]
        takes = arg is not None and not arg.endswith("...")   # PATH...: operands
        if takes != (table[name][1] == "required_argument"):
            say("args", "--%s: --help shows argument %s, the table says %s"
                % (name, arg, table[name][1]))
        s = table[name][0]
        if s in optstring and optstring[s] != (table[name][1] == "required_argument"):
            say("args", "-%s: the optstring and the table disagree on its argument" % s)

    for name in sorted(set(help_opts) & set(man_opts)):
        if help_opts[name][2] != man_opts[name][2]:
            say("groups", "--%s: group %d of --help, .SS %d of the man page"
                % (name, help_opts[name][2], man_opts[name][2]))

    if help_exits != {"0", "1", "2"} or man_exits != help_exits:
        say("exit", "exit statuses: --help %s, man page %s"
            % (sorted(help_exits), sorted(man_exits)))

    for want in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "SIGNALS",
                 "FILES", "EXAMPLES", "SEE ALSO"):
        if want not in sections:
            say("sections", "man page: no .SH %s" % want)

    for name in sorted(refs - set(listed)):
        say("refs", "man page mentions --%s, which --help does not list" % name)

    for d in diffs:
        print(d)
    return 1 if diffs else 0


sys.exit(main())
PY

cmp_opts() {   # cmp_opts HELP MAN SRC [FAMILY] > differences
	$py "$tmp/optcmp.py" "$@"
}

for fam in long short args groups exit sections refs; do
	cmp_opts "$tmp/help" "$man" "$src" "$fam" > "$tmp/d.$fam" 2>&1
	case $fam in
	long) what="long options: --help = $src's table = man page OPTIONS" ;;
	short) what="short options: --help = table = optstring = man page" ;;
	args) what="arguments: --help = man page, and = the table's has_arg" ;;
	groups) what="each option under the man page group of its --help group" ;;
	exit) what="exit statuses 0 1 2 in --help and EXIT STATUS" ;;
	sections) what="man page has NAME ... SEE ALSO" ;;
	refs) what="every --option the man page mentions exists" ;;
	esac
	check "$what" "$([ -s "$tmp/d.$fam" ]; echo $((!$?)))" "$(head -20 "$tmp/d.$fam")"
done
n=$($py - "$tmp/help" <<'PY'
import re, sys
print(len(set(re.findall(r"--([a-z0-9][a-z0-9-]*)", open(sys.argv[1]).read().split("\n\n", 1)[1]))))
PY
)
check "--help lists options at all ($n)" "$((n < 50))"
# The numbers in include/run/options.h are the ones documented.
st=$(sed -n 's/^#define EXIT_\(CLEAN\|ALERT\|TROUBLE\) *\([0-9]*\).*/\1=\2/p' include/run/options.h | paste -sd' ' -)
check "include/run/options.h exit codes are 0 1 2 ($st)" "$([ "$st" = "CLEAN=0 ALERT=1 TROUBLE=2" ]; echo $?)"

# Rendering: groff's warnings (-ww) and man's (--warnings) must be none.
if command -v groff >/dev/null; then
	groff -man -ww -z "$man" > "$tmp/groff" 2>&1; rc=$?
	check "groff -man -ww renders with no warning" "$([ "$rc" -eq 0 ] && [ ! -s "$tmp/groff" ]; echo $?)" \
		"rc=$rc $(head -10 "$tmp/groff")"
	if command -v man >/dev/null; then
		MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null | grep -v '^$' > "$tmp/manw"
		check "man --warnings -l renders with no warning" "$([ ! -s "$tmp/manw" ]; echo $?)" \
			"$(head -10 "$tmp/manw")"
	fi
else
	echo "ok man renders with no warning (skipped: no groff)"
fi

# ---- the checks can fail: doctored copies ----------------------------------
# must_differ NAME FAMILY PATTERN HELP MAN SRC: the comparison of the
# copies reports PATTERN.
must_differ() {
	local name=$1 fam=$2 pat=$3
	shift 3
	cmp_opts "$@" "$fam" > "$tmp/sd" 2>&1; rc=$?
	grep -q -- "$pat" "$tmp/sd"
	check "self-test: $name is caught" "$(( rc == 0 || $? != 0 ))" "rc=$rc $(head -5 "$tmp/sd")"
}
# A fake option documented in OPTIONS.
awk '{print} /^\.SS Limits/ {print ".TP"; print ".BI \"\\-\\-frobnicate \" N"; print "Fake."}' \
	"$man" > "$tmp/fake.8"
must_differ "an option only in the man page" long "frobnicate: in the man page's OPTIONS, not in --help" \
	"$tmp/help" "$tmp/fake.8" "$src"
# An option left out of the page (its .TP, tag and description).
sed '/^\.TP$/{N;/\n\.BI "\\-\\-max\\-certs " N$/{N;d}}' "$man" > "$tmp/missing.8"
must_differ "an option missing from the man page" long "max-certs: in --help, not in the man page" \
	"$tmp/help" "$tmp/missing.8" "$src"
# A wrong argument name.
sed 's/^\.BI "\\-\\-snaplen " N$/.BI "\\-\\-snaplen " BYTES/' "$man" > "$tmp/arg.8"
must_differ "a wrong argument in the man page" args "snaplen: argument N in --help, BYTES in the man page" \
	"$tmp/help" "$tmp/arg.8" "$src"
# An option under another group (a heading slipped in before it).
sed '/^\.TP$/{N;s/^\.TP\n\.B \\-\\-any\\-port$/.SS Extra\n&/}' "$man" > "$tmp/group.8"
must_differ "an option under the wrong group" groups "any-port: group 0 of --help, .SS 1" \
	"$tmp/help" "$tmp/group.8" "$src"
# A stray option in the table (a copy of the source: main.c and options.c
# are never touched).
sed 's/^\(\t{ "version", .*\)$/\1\n\t{ "frobnicate",      no_argument,       NULL, OPT_VERSION },/' \
	"$src" > "$tmp/src.c"
must_differ "an option only in the table" long "frobnicate: in the option table, not in --help" \
	"$tmp/help" "$man" "$tmp/src.c"
# A sink option its sink's table no longer declares.
sed '/{ "redis-maxlen", 1, /d' "$src" > "$tmp/src3.c"
must_differ "a sink option missing from its sink's table" long "redis-maxlen: in --help, not in the option table" \
	"$tmp/help" "$man" "$tmp/src3.c"
# A short option the optstring lacks.
sed 's/\(getopt_long([^"]*"[^"]*\)u:\([^"]*"\)/\1\2/' "$src" > "$tmp/src2.c"
must_differ "a short option missing from the optstring" short "-u: in the option table, not in getopt_long" \
	"$tmp/help" "$man" "$tmp/src2.c"
# An option in --help only.
sed 's/^\(  -q, --quiet .*\)$/\1\n  -Z, --zap N            fake/' "$tmp/help" > "$tmp/help2"
must_differ "an option only in --help" long "zap: in --help, not in the option table" \
	"$tmp/help2" "$man" "$src"
# A stale reference in the prose.
printf '.PP\nSee also \\fB\\-\\-old\\-flag\\fR.\n' >> "$tmp/fake.8"
must_differ "a mention of an option that does not exist" refs "mentions --old-flag" \
	"$tmp/help" "$tmp/fake.8" "$src"
if command -v groff >/dev/null; then
	sed 's/^\.SH SIGNALS$/.SH SIGNALS\n.XX bogus macro/' "$man" > "$tmp/warn.8"
	groff -man -ww -z "$tmp/warn.8" > "$tmp/groff" 2>&1
	check "self-test: a groff warning is caught" "$([ -s "$tmp/groff" ]; echo $?)"
fi
