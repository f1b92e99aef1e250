/*
 * options.c - the command line and the configuration file: the option
 * table, --help, and the file's settings then argv into a struct options
 * (include/run/options.h) with the defaults of cs_limits.h and of each
 * module.  The file's names are the table's long names and its values go
 * through the same handlers as argv's, so the two accept the same things;
 * config.c knows the file's syntax only.
 *
 * Errors: on the command line "certsentry: reason" and a pointer to
 * --help; in the file "FILE:LINE: reason".  Exit 2 either way (main.c).
 *
 * Must not: open files other than the configuration file, load rules or
 * start anything (main.c does, with what this returns).
 */
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/decode.h"
#include "run/dispatch.h"
#include "verdict/coverage.h"
#include "engine/engine.h"
#include "verdict/fingerprint.h"
#include "secrets/keylog.h"
#include "core/cs_limits.h"
#include "run/live.h"
#include "event/dedup.h"
#include "event/evidence.h"
#include "event/metrics.h"
#include "run/certfile.h"
#include "run/ctlog.h"
#include "event/output.h"
#include "verdict/policy.h"
#include "core/stats.h"
#include "verdict/truststore.h"
#include "run/config.h"
#include "run/options.h"
#include "analyser/tls.h"

enum {
	OPT_PORTS = 256, OPT_ANY_PORT, OPT_CHECK_RULES, OPT_MAX_FLOWS, OPT_FLOW_TIMEOUT,
	OPT_FLOW_MEMCAP, OPT_MEMCAP, OPT_MAX_OOO, OPT_MAX_HS, OPT_MAX_CERTS,
	OPT_MAX_CERT_SIZE, OPT_MAX_PREHS, OPT_CHAIN_CACHE, OPT_TLS_CHAIN, OPT_NO_NDPI, OPT_VERSION,
	OPT_CHECKSUM, OPT_MAX_FRAG, OPT_FRAG_TIMEOUT, OPT_FRAG_MEMCAP,
	OPT_BPF, OPT_SNAPLEN, OPT_BUFFER, OPT_STATS, OPT_PIDFILE, OPT_SYSLOG, OPT_WORKERS,
	OPT_OUTPUT_TYPE, OPT_SINK, OPT_KEYLOG, OPT_KEYLOG_WAIT,
	OPT_BASELINE, OPT_LEARN, OPT_FP_TOLERANCE, OPT_CLOSE_GRACE,
	OPT_TRUST_STORE, OPT_ALERT_WINDOW, OPT_MAX_ALERT_KEYS, OPT_STATE, OPT_TLS_LOG,
	OPT_CERT_LOG, OPT_EVIDENCE, OPT_EVIDENCE_BYTES, OPT_METRICS, OPT_CERTS, OPT_CT_JSON,
	OPT_CT_START, OPT_CT_MAX_JSON, OPT_QUIC_GAP, OPT_QUIC_MAX,
	OPT_SENSOR_NAME, OPT_CID_SEED, OPT_NO_CONFIG, OPT_CHECK_CONFIG,
	OPT_CT_FOLLOW, OPT_CT_STATE, OPT_CT_FROM, OPT_CT_ONCE, OPT_CT_POLL, OPT_CT_PARALLEL,
	OPT_CT_RATE, OPT_CT_BATCH, OPT_CT_CA_FILE,
};

/* getopt_long's code for an operand (optstring starts with '-': operands
 * come back in order, so "-r a b -r c" reads a, b, c). */
#define OPT_OPERAND 1

/* getopt's table, but for the sinks' own options (--syslog-*, --redis-*):
 * those are declared, parsed, checked, documented and defaulted by the
 * sink that takes them (sink_int.h), and options_table appends them from
 * the sinks' registry at start, so a new sink's options need no line
 * here.  tests/t_man.sh reads this table and the sinks' option tables
 * from the sources. */
static const struct option base_opts[] = {
	{ "read",            required_argument, NULL, 'r' },
	{ "interface",       required_argument, NULL, 'i' },
	{ "user",            required_argument, NULL, 'u' },
	{ "bpf",             required_argument, NULL, OPT_BPF },
	{ "snaplen",         required_argument, NULL, OPT_SNAPLEN },
	{ "buffer-size",     required_argument, NULL, OPT_BUFFER },
	{ "stats-interval",  required_argument, NULL, OPT_STATS },
	{ "pidfile",         required_argument, NULL, OPT_PIDFILE },
	{ "syslog",          no_argument,       NULL, OPT_SYSLOG },
	{ "workers",         required_argument, NULL, OPT_WORKERS },
	{ "output-type",     required_argument, NULL, OPT_OUTPUT_TYPE },
	{ "metrics",         required_argument, NULL, OPT_METRICS },
	{ "certs",           no_argument,       NULL, OPT_CERTS },
	{ "ct-json",         no_argument,       NULL, OPT_CT_JSON },
	{ "ct-start",        required_argument, NULL, OPT_CT_START },
	{ "ct-max-json",     required_argument, NULL, OPT_CT_MAX_JSON },
	{ "ct-follow",       required_argument, NULL, OPT_CT_FOLLOW },
	{ "ct-state",        required_argument, NULL, OPT_CT_STATE },
	{ "ct-from",         required_argument, NULL, OPT_CT_FROM },
	{ "ct-once",         no_argument,       NULL, OPT_CT_ONCE },
	{ "ct-poll",         required_argument, NULL, OPT_CT_POLL },
	{ "ct-parallel",     required_argument, NULL, OPT_CT_PARALLEL },
	{ "ct-rate",         required_argument, NULL, OPT_CT_RATE },
	{ "ct-batch",        required_argument, NULL, OPT_CT_BATCH },
	{ "ct-ca-file",      required_argument, NULL, OPT_CT_CA_FILE },
	{ "trust-store",     required_argument, NULL, OPT_TRUST_STORE },
	{ "alert-window",    required_argument, NULL, OPT_ALERT_WINDOW },
	{ "max-alert-keys",  required_argument, NULL, OPT_MAX_ALERT_KEYS },
	{ "state",           required_argument, NULL, OPT_STATE },
	{ "tls-log",         required_argument, NULL, OPT_TLS_LOG },
	{ "cert-log",        required_argument, NULL, OPT_CERT_LOG },
	{ "evidence",        required_argument, NULL, OPT_EVIDENCE },
	{ "evidence-bytes",  required_argument, NULL, OPT_EVIDENCE_BYTES },
	{ "rules",           required_argument, NULL, 'R' },
	{ "output",          required_argument, NULL, 'o' },
	{ "quiet",           no_argument,       NULL, 'q' },
	{ "help",            no_argument,       NULL, 'h' },
	{ "ports",           required_argument, NULL, OPT_PORTS },
	{ "any-port",        no_argument,       NULL, OPT_ANY_PORT },
	{ "check-rules",     required_argument, NULL, OPT_CHECK_RULES },
	{ "max-flows",       required_argument, NULL, OPT_MAX_FLOWS },
	{ "flow-timeout",    required_argument, NULL, OPT_FLOW_TIMEOUT },
	{ "close-grace",     required_argument, NULL, OPT_CLOSE_GRACE },
	{ "flow-memcap",     required_argument, NULL, OPT_FLOW_MEMCAP },
	{ "memcap",          required_argument, NULL, OPT_MEMCAP },
	{ "max-ooo-segments",required_argument, NULL, OPT_MAX_OOO },
	{ "max-handshake",   required_argument, NULL, OPT_MAX_HS },
	{ "max-certs",       required_argument, NULL, OPT_MAX_CERTS },
	{ "max-cert-size",   required_argument, NULL, OPT_MAX_CERT_SIZE },
	{ "max-prehandshake",required_argument, NULL, OPT_MAX_PREHS },
	{ "quic-crypto-gap", required_argument, NULL, OPT_QUIC_GAP },
	{ "quic-crypto-max", required_argument, NULL, OPT_QUIC_MAX },
	{ "chain-cache",     required_argument, NULL, OPT_CHAIN_CACHE },
	{ "tls-chain",       no_argument,       NULL, OPT_TLS_CHAIN },
	{ "sensor-name",     required_argument, NULL, OPT_SENSOR_NAME },
	{ "community-id-seed", required_argument, NULL, OPT_CID_SEED },
	{ "no-ndpi",         no_argument,       NULL, OPT_NO_NDPI },
	{ "checksum-checks", required_argument, NULL, OPT_CHECKSUM },
	{ "max-frag-datagrams", required_argument, NULL, OPT_MAX_FRAG },
	{ "frag-timeout",    required_argument, NULL, OPT_FRAG_TIMEOUT },
	{ "frag-memcap",     required_argument, NULL, OPT_FRAG_MEMCAP },
	{ "keylog",          required_argument, NULL, OPT_KEYLOG },
	{ "keylog-wait",     required_argument, NULL, OPT_KEYLOG_WAIT },
	{ "baseline",        required_argument, NULL, OPT_BASELINE },
	{ "learn",           required_argument, NULL, OPT_LEARN },
	{ "fp-tolerance",    required_argument, NULL, OPT_FP_TOLERANCE },
	{ "version",         no_argument,       NULL, OPT_VERSION },
	{ "config",          required_argument, NULL, 'c' },
	{ "no-config",       no_argument,       NULL, OPT_NO_CONFIG },
	{ "check-config",    no_argument,       NULL, OPT_CHECK_CONFIG },
	{ NULL, 0, NULL, 0 }
};

/* What getopt reads: base_opts, then every sink's options (OPT_SINK). */
#define N_BASE_OPTS (sizeof(base_opts) / sizeof(base_opts[0]) - 1)
#define MAX_SINK_OPTS 64
static struct option long_opts[N_BASE_OPTS + MAX_SINK_OPTS + 1];
_Static_assert(N_BASE_OPTS + MAX_SINK_OPTS <= OPTIONS_MAX_OPTS,
               "struct options' cli[] holds a flag per option getopt knows");

/* Options the configuration file may not set: answers and modes of one
 * invocation, not settings of the sensor. */
static const int cli_only[] = {
	'h', OPT_VERSION, 'c', OPT_NO_CONFIG, OPT_CHECK_CONFIG, OPT_CHECK_RULES, OPT_CERTS,
	OPT_CT_JSON,
};

/* Options a SIGHUP applies from a changed file: each is read only by the
 * main thread of a live run (the rules path by the reload thread, under
 * its lock), so changing it races with no worker.  Everything else sizes
 * or wires what the workers hold, and needs a restart. */
static const int runtime_opts[] = { 'R', OPT_STATS };

static int in_codes(const int *codes, size_t n, int c)
{
	for (size_t i = 0; i < n; i++)
		if (codes[i] == c)
			return 1;
	return 0;
}

#define CONFIG_NONE "none"   /* -c none: no configuration file */

/* ---- errors --------------------------------------------------------------- */

/* Where an option's value came from, for its error: the command line
 * (buf NULL: said on stderr as "certsentry: ...") or a line of the file
 * (the message goes to buf; config.c prefixes FILE:LINE). */
static struct {
	char *buf;
	size_t cap;
	const char *dash;     /* "--" before an option's name, or "" in the file */
} g_err = { NULL, 0, "--" };

static void opt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void opt_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (g_err.buf) {
		vsnprintf(g_err.buf, g_err.cap, fmt, ap);
	} else {
		fputs("certsentry: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static void usage(FILE *f)
{
	char types[256];

	fputs(
"usage: certsentry -r FILE [FILE...] [-R RULES] [-o OUT] [options]\n"
"       certsentry -i IFACE [-i IFACE...] [-R RULES] [-o OUT] [options]\n"
"       certsentry --certs [-R RULES] [-o OUT] PATH...\n"
"       certsentry --ct-json [--ct-start N] [-R RULES] [-o OUT] FILE...\n"
"       certsentry --ct-follow LOGLIST [--ct-state FILE] [-R RULES] [-o OUT]\n"
"       certsentry --check-rules RULES\n"
"       certsentry [-c FILE] --check-config\n"
"\n"
"  -r, --read FILE        pcap or pcapng file, or a directory of them (read\n"
"                         in name order); '-' reads standard input; more\n"
"                         files may follow as operands\n"
"      --certs PATH...    judge certificate files (PEM or DER, a chain a file,\n"
"                         leaf first; or directories of them) without packets\n"
"      --ct-json FILE...  judge CT log entries: get-entries JSON, or one entry\n"
"                         object a line ('-': standard input)\n"
"      --ct-start N       the index of the first entry, as the log numbers it (0)\n"
"      --ct-max-json BYTES  bytes one JSON value (an answer, an entry) may take\n"
"                         (67108864); the input is read a value at a time\n"
"      --ct-follow LOGLIST  follow the CT logs of a log list (Chrome's\n"
"                         log_list.json v3, or 'rfc6962 URL KEY' / 'static URL\n"
"                         KEY ORIGIN' lines): heads verified, entries proved in\n"
"                         the signed tree, then judged; until SIGTERM\n"
"      --ct-state FILE    each log's position and verified head, kept across\n"
"                         restarts (default: none)\n"
"      --ct-from START    a log without state is read from START: an entry\n"
"                         index, or a date (YYYY-MM-DD[THH:MM:SSZ], UTC) for\n"
"                         the first entry logged then (default: from its\n"
"                         current head: new entries only)\n"
"      --ct-once          stop when every log reached the head first fetched\n"
"      --ct-poll SECONDS  between heads once a log is read to its head (60)\n"
"      --ct-parallel N    requests in flight to one log (4)\n"
"      --ct-rate N        requests a second to one log, 0: no bound (20)\n"
"      --ct-batch N       entries proved to a signed head at a time (16384)\n"
"      --ct-ca-file FILE  CA certificates that HTTPS logs are checked with\n"
"                         (default: the system's)\n"
"  -i, --interface IFACE  capture live (several allowed); runs until SIGTERM\n"
"  -R, --rules PATH       rules file, or directory of *.rules (SIGHUP reloads)\n"
"  -o, --output FILE      EVE JSON output (default: standard output), the\n"
"                         socket path with --output-type unix_dgram|unix_stream,\n"
"                         the log socket with syslog (/dev/log),\n"
"                         or HOST[:PORT] or a socket path with redis\n", f);
	output_type_names(types, sizeof(types), 1);
	fprintf(f, "      --output-type T    %s\n", types);
	output_options_help(f);
	fprintf(f,
"  -q, --quiet            no summary on standard error\n"
"      --check-rules PATH validate rules, print a summary, exit\n"
"  -c, --config FILE      settings file, one 'name = value' a line, the long\n"
"                         options' names ('none': no file; default\n"
"                         " OPTIONS_DEFAULT_CONFIG " if it exists);\n"
"                         the command line wins\n"
"      --no-config        read no configuration file\n"
"      --check-config     validate the configuration file and the rules it\n"
"                         names, print a summary, exit\n"
"      --ports LIST       server ports to inspect (default 443,853)\n"
"      --any-port         inspect every TCP flow that carries a TLS handshake\n"
"      --tls-chain        include the chain in tls events too (always in alerts)\n"
"      --no-ndpi          do not run nDPI\n"
"      --keylog FILE      TLS key log (NSS format, SSLKEYLOGFILE): read TLS 1.3\n"
"                         certificates with its secrets (several allowed;\n"
"                         pcapng inputs' own secrets are read without it)\n"
"      --keylog-wait MS   live: wait for a secret to be appended (%u; 0: no)\n"
"      --learn FILE       write the TLS 1.3 server fingerprints of the protected\n"
"                         endpoints seen into FILE (a baseline)\n"
"      --baseline FILE    alert (fingerprint-changed) when a TLS 1.3 handshake\n"
"                         whose certificates are not read departs from FILE\n"
"      --fp-tolerance N   flight bytes always within a shape's range (%u)\n"
"alerts and events:\n"
"      --alert-window S   one alert per owner, verdict, chain and server per S\n"
"                         seconds of packet time (%u; 0: every alert); later\n"
"                         sightings are counted in an alert_repeat event\n"
"      --max-alert-keys N alert windows open at once (%u; the oldest closes)\n"
"      --state FILE       keep the alert windows across restarts\n"
"      --sensor-name NAME the \"host\" of every event (default: the host\n"
"                         name; '' writes none)\n"
"      --community-id-seed N  seed of every event's community_id (0)\n"
"      --tls-log W        tls events for all (default), protected or none\n"
"                         of the handshakes\n"
"      --cert-log W       once (default): a chain's certificates in full the\n"
"                         first time a window sees it, then by SHA-256; every\n"
"      --evidence DIR     the chain (PEM) and packets (pcapng) of each alerting\n"
"                         chain, named by its SHA-256\n"
"      --evidence-bytes N at most N bytes of evidence files (%llu)\n"
"      --trust-store [NAME=]PATH  root store (PEM bundle, or a directory of PEM\n"
"                         or DER files) that grades unapproved chains: one a\n"
"                         store reaches is Critical, one a presented CA signs\n"
"                         Major, else Minor; several allowed, added to the\n"
"                         default '" TRUST_DEFAULT_NAME "' (" TRUST_DEFAULT_PATH ");\n"
"                         'none' drops that default\n"
"live capture:\n"
"      --bpf EXPR         capture filter (default: the inspected TCP ports,\n"
"                         VLAN-tagged too; '' captures everything); with -r\n"
"                         it filters the files too (default: none)\n"
"      --snaplen N        bytes captured per packet (65535)\n"
"      --buffer-size MB   kernel capture buffer (64)\n"
"      --workers N        capture threads, sharing each interface by\n"
"                         PACKET_FANOUT flow hash (1); limits are per worker;\n"
"                         with -r: threads inspecting the files' flows\n"
"      --stats-interval S EVE stats event every S seconds (60 live; with -r\n"
"                         only when given) and at exit\n"
"      --metrics FILE     the counters in Prometheus text format, rewritten\n"
"                         atomically with each stats event (with -r: at exit)\n"
"  -u, --user USER        drop to USER, with every capability, once inputs and\n"
"                         outputs are open (every mode)\n"
"      --pidfile FILE     write the process id there\n"
"      --syslog           diagnostics to syslog instead of standard error\n"
"      --checksum-checks auto|yes|no  distrust segments with bad TCP checksums\n"
"                         (auto: unless most are bad, as with checksum offload)\n"
"limits (defaults in include/core/cs_limits.h; hits are counted in the summary):\n"
"      --max-flows N          flow table size (%u)\n"
"      --flow-timeout SEC     idle flow expiry (%u)\n"
"      --close-grace MS       an undecided handshake still read after RST/FIN (%u)\n"
"      --flow-memcap BYTES    reassembly bytes per flow (%u)\n"
"      --memcap BYTES         reassembly bytes, all flows (%llu)\n"
"      --max-ooo-segments N   early segments per direction (%u)\n"
"      --max-handshake BYTES  largest handshake message (%u)\n"
"      --max-certs N          certificates kept per chain (%u)\n"
"      --max-cert-size BYTES  largest certificate (%u)\n"
"      --max-prehandshake BYTES  bytes searched for a TLS start (%u)\n"
"      --quic-crypto-gap BYTES  QUIC CRYPTO data accepted ahead of a hole (%u)\n"
"      --quic-crypto-max BYTES  QUIC CRYPTO data of one stream (%u)\n"
"      --chain-cache N        distinct chains kept parsed and verified (%u; 0: off)\n"
"      --max-frag-datagrams N IP datagrams being reassembled (%u)\n"
"      --frag-timeout SEC     wait for missing fragments (%u)\n"
"      --frag-memcap BYTES    bytes held by incomplete datagrams (%u)\n"
"exit status: 0 no alert, 1 alert(s), 2 usage, input or rules error, or an\n"
"event found but not delivered\n",
	        DEF_KEYLOG_WAIT_MS, FP_DEF_TOLERANCE,
	        DEDUP_DEF_WINDOW_S, DEDUP_DEF_MAX_KEYS, (unsigned long long)EVIDENCE_DEF_BYTES, CS_DEF_MAX_FLOWS, CS_DEF_FLOW_TIMEOUT,
	        CS_DEF_CLOSE_GRACE_MS, CS_DEF_FLOW_MEMCAP,
	        (unsigned long long)CS_DEF_TOTAL_MEMCAP, CS_DEF_MAX_OOO_SEGS,
	        CS_DEF_MAX_HS_MSG, CS_DEF_MAX_CERTS, CS_DEF_MAX_CERT_SIZE,
	        CS_DEF_MAX_PREHS_BYTES, CS_DEF_QUIC_CRYPTO_GAP, CS_DEF_QUIC_CRYPTO_MAX,
	        CS_DEF_CHAIN_CACHE, CS_DEF_MAX_FRAG_DGRAMS, CS_DEF_FRAG_TIMEOUT,
	        CS_DEF_FRAG_MEMCAP);
}


/* ---- values ---------------------------------------------------------------- */

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		opt_err("%s%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, g_err.dash, opt, s,
		        min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void port_set(uint8_t *map, unsigned port)
{
	map[port >> 3] |= (uint8_t)(1u << (port & 7));
}

static int parse_ports(uint8_t *map, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;   /* owned here */
	int n = 0;

	if (!copy)
		return -1;
	memset(map, 0, 8192);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (parse_u64("ports", tok, 1, 65535, &v) < 0) {
			free(copy);
			return -1;
		}
		port_set(map, (unsigned)v);
		n++;
	}
	free(copy);
	if (n == 0) {
		opt_err("%sports: empty list", g_err.dash);
		return -1;
	}
	return 0;
}

/* A number into a field of struct options of the given width (4 or 8
 * bytes: int, unsigned, size_t, uint64_t, unsigned long on LP64). */
static int set_number(const char *name, const char *arg, uint64_t min, uint64_t max, void *dst,
                      size_t width)
{
	uint64_t v;

	if (parse_u64(name, arg, min, max, &v) < 0)
		return -1;
	if (width == sizeof(uint32_t))
		*(uint32_t *)dst = (uint32_t)v;
	else if (width == sizeof(uint64_t))
		*(uint64_t *)dst = v;
	return 0;
}

#define NUM(opt, name, min, max, field) \
	{ opt, name, min, max, offsetof(struct options, field), sizeof(((struct options *)0)->field) }

/* The options that take a number, and its range (0 where it means
 * "none" or "off"). */
static const struct num_opt {
	int opt;
	const char *name;
	uint64_t min, max;
	size_t off, width;
} num_opts[] = {
	NUM(OPT_SNAPLEN, "snaplen", 1, 262144, live.snaplen),
	NUM(OPT_BUFFER, "buffer-size", 1, 4096, live.buffer_mb),
	NUM(OPT_STATS, "stats-interval", 1, 86400, live.stats_interval),
	NUM(OPT_WORKERS, "workers", 1, LIVE_MAX_WORKERS, live.workers),
	NUM(OPT_CT_START, "ct-start", 0, UINT64_MAX / 2, ct_start),
	NUM(OPT_CT_MAX_JSON, "ct-max-json", 1, 1ull << 32, ct_max_json),
	NUM(OPT_CT_POLL, "ct-poll", 1, 86400, ct.poll_s),
	NUM(OPT_CT_PARALLEL, "ct-parallel", 1, 64, ct.parallel),
	NUM(OPT_CT_RATE, "ct-rate", 0, 100000, ct.rate),
	NUM(OPT_CT_BATCH, "ct-batch", 1, CTF_MAX_BATCH, ct.batch),
	NUM(OPT_ALERT_WINDOW, "alert-window", 0, 30ull * 86400, alert_window_s),
	NUM(OPT_MAX_ALERT_KEYS, "max-alert-keys", 1, 1u << 24, feed.max_alert_keys),
	NUM(OPT_EVIDENCE_BYTES, "evidence-bytes", 1, 1ull << 40, feed.evidence_bytes),
	NUM(OPT_KEYLOG_WAIT, "keylog-wait", 0, 60000, keylog_wait_ms),
	NUM(OPT_FP_TOLERANCE, "fp-tolerance", 1, 1u << 20, fp_tolerance),
	NUM(OPT_CID_SEED, "community-id-seed", 0, UINT16_MAX, out.community_id_seed),
	NUM(OPT_MAX_FLOWS, "max-flows", 1, 1u << 28, lim.max_flows),
	NUM(OPT_FLOW_TIMEOUT, "flow-timeout", 1, 86400, lim.flow_timeout),
	NUM(OPT_CLOSE_GRACE, "close-grace", 1, 600000, lim.close_grace_ms),
	NUM(OPT_FLOW_MEMCAP, "flow-memcap", 1, 1u << 30, lim.flow_memcap),
	NUM(OPT_MEMCAP, "memcap", 1, 1ull << 40, lim.total_memcap),
	NUM(OPT_MAX_OOO, "max-ooo-segments", 1, 1u << 20, lim.max_ooo_segs),
	NUM(OPT_MAX_HS, "max-handshake", 1, 1u << 24, lim.max_hs_msg),
	NUM(OPT_MAX_CERTS, "max-certs", 1, 1024, lim.max_certs),
	NUM(OPT_MAX_CERT_SIZE, "max-cert-size", 1, 1u << 24, lim.max_cert_size),
	NUM(OPT_MAX_FRAG, "max-frag-datagrams", 1, 1u << 24, lim.max_frag_dgrams),
	NUM(OPT_FRAG_TIMEOUT, "frag-timeout", 1, 3600, lim.frag_timeout),
	NUM(OPT_FRAG_MEMCAP, "frag-memcap", 1, 1u << 30, lim.frag_memcap),
	NUM(OPT_MAX_PREHS, "max-prehandshake", 1, 1u << 24, lim.max_prehs_bytes),
	NUM(OPT_QUIC_GAP, "quic-crypto-gap", 1, 1u << 24, lim.quic_crypto_gap),
	NUM(OPT_QUIC_MAX, "quic-crypto-max", 1, 1u << 26, lim.quic_crypto_max),
	NUM(OPT_CHAIN_CACHE, "chain-cache", 0, 1u << 20, lim.chain_cache),
};

/* The options that take one word of a few, into an enum field. */
#define WORDS_MAX 3
static const struct word_opt {
	int opt;
	const char *name, *say;          /* say: the words, for the error */
	const char *word[WORDS_MAX];
	int value[WORDS_MAX];
	size_t off;
} word_opts[] = {
	{ OPT_TLS_LOG, "tls-log", "all, protected or none", { "all", "protected", "none" },
	  { OUTPUT_TLS_LOG_ALL, OUTPUT_TLS_LOG_PROTECTED, OUTPUT_TLS_LOG_NONE },
	  offsetof(struct options, feed.tls_log) },
	{ OPT_CERT_LOG, "cert-log", "once or every", { "once", "every", NULL },
	  { OUTPUT_CERT_LOG_ONCE, OUTPUT_CERT_LOG_EVERY, 0 },
	  offsetof(struct options, feed.cert_log) },
	{ OPT_CHECKSUM, "checksum-checks", "auto, yes or no", { "auto", "yes", "no" },
	  { CHECKSUM_AUTO, CHECKSUM_YES, CHECKSUM_NO }, offsetof(struct options, checksum) },
};

_Static_assert(sizeof(((struct options *)0)->feed.tls_log) == sizeof(int) &&
               sizeof(((struct options *)0)->feed.cert_log) == sizeof(int) &&
               sizeof(((struct options *)0)->checksum) == sizeof(int),
               "word options are enums stored as int");

#define LIST(opt, what, shown, field, count) \
	{ opt, what, shown, sizeof(((struct options *)0)->field) / sizeof(const char *), \
	  offsetof(struct options, field), offsetof(struct options, count) }

/* The options that may be given several times, each value added to a
 * bounded list (an operand is an -r).  The configuration file may repeat
 * these and only these. */
static const struct list_opt {
	int opt;
	const char *what;
	size_t shown;                    /* the bound said in the error */
	size_t max, off, off_n;
} list_opts[] = {
	LIST('r', "-r inputs", MAX_INPUTS, inputs, n_inputs),
	LIST('i', "-i interfaces", LIVE_MAX_IFACES, live.ifaces, live.n_ifaces),
	LIST(OPT_KEYLOG, "--keylog files", KEYLOG_MAX_FILES, keylogs, n_keylogs),
	/* one more than the stores: "none" takes a place and adds none */
	LIST(OPT_TRUST_STORE, "--trust-store", TRUST_MAX_STORES, trust_specs, n_trust),
};

static const struct list_opt *list_of(int c)
{
	if (c == OPT_OPERAND)
		c = 'r';
	for (size_t i = 0; i < sizeof(list_opts) / sizeof(list_opts[0]); i++)
		if (list_opts[i].opt == c)
			return &list_opts[i];
	return NULL;
}

static int list_add(struct options *o, const struct list_opt *l, const char *v)
{
	const char **list = (const char **)(void *)((char *)o + l->off);
	size_t *n = (size_t *)(void *)((char *)o + l->off_n);

	if (*n >= l->max) {
		opt_err("at most %zu %s", l->shown, l->what);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

static void list_clear(struct options *o, const struct list_opt *l)
{
	*(size_t *)(void *)((char *)o + l->off_n) = 0;
}

/* A table option (number or word): 1 done (*rc its result), 0 not one. */
static int table_option(struct options *o, int c, const char *arg, int *rc)
{
	for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
		const struct num_opt *n = &num_opts[i];

		if (n->opt == c) {
			*rc = set_number(n->name, arg, n->min, n->max, (char *)o + n->off, n->width);
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(word_opts) / sizeof(word_opts[0]); i++) {
		const struct word_opt *w = &word_opts[i];

		if (w->opt != c)
			continue;
		for (size_t k = 0; k < WORDS_MAX && w->word[k]; k++)
			if (strcmp(arg, w->word[k]) == 0) {
				memcpy((char *)o + w->off, &w->value[k], sizeof(int));
				*rc = 0;
				return 1;
			}
		opt_err("%s%s: '%s' is not %s", g_err.dash, w->name, arg, w->say);
		*rc = -1;
		return 1;
	}
	return 0;
}

static void options_default(struct options *o)
{
	memset(o, 0, sizeof(*o));
	cs_limits_default(&o->lim);
	port_set(o->port_map, 443);
	port_set(o->port_map, 853);
	o->live.snaplen = 65535;
	o->live.buffer_mb = 64;
	o->live.stats_interval = 60;
	o->live.workers = 1;
	o->keylog_wait_ms = DEF_KEYLOG_WAIT_MS;
	o->fp_tolerance = FP_DEF_TOLERANCE;
	o->alert_window_s = DEDUP_DEF_WINDOW_S;
	o->feed.max_alert_keys = DEDUP_DEF_MAX_KEYS;
	o->feed.evidence_bytes = EVIDENCE_DEF_BYTES;
	o->ct.poll_s = CTF_DEF_POLL_S;
	o->ct.parallel = CTF_DEF_PARALLEL;
	o->ct.rate = CTF_DEF_RATE;
	o->ct.batch = CTF_DEF_BATCH;
}

/* --ct-from INDEX|DATE (ctfollow.c reads it again for each log). */
static int parse_ct_from(struct options *o, const char *arg)
{
	uint64_t index, date_ms;
	char why[160];

	if (ctfollow_parse_from(arg, &index, &date_ms, why, sizeof(why)) < 0) {
		opt_err("%sct-from: %s", g_err.dash, why);
		return -1;
	}
	o->ct.from = arg;
	return 0;
}

/* One option that is not in a table: 0, or -1 with the reason said. */
static int other_option(struct options *o, int c, const char *arg)
{
	char why[256];

	switch (c) {
	case OPT_OUTPUT_TYPE:
		if (output_type_parse(arg, &o->out.type) == 0)
			break;
		output_type_names(why, sizeof(why), 0);
		opt_err("%soutput-type: '%s' is not %s", g_err.dash, arg, why);
		return -1;
	case OPT_PORTS: return parse_ports(o->port_map, arg);
	case 'u': o->live.user = arg; break;
	case OPT_BPF: o->live.bpf = arg; break;
	case OPT_PIDFILE: o->live.pidfile = arg; break;
	case OPT_SYSLOG: o->use_syslog = 1; break;
	case OPT_METRICS: o->metrics = arg; break;
	case OPT_CERTS: o->certs_mode = 1; break;
	case OPT_CT_JSON: o->certs_mode = 2; break;
	case OPT_CT_FOLLOW: o->ct.loglist = arg; break;
	case OPT_CT_STATE: o->ct.state_path = arg; break;
	case OPT_CT_FROM: return parse_ct_from(o, arg);
	case OPT_CT_ONCE: o->ct.once = 1; break;
	case OPT_CT_CA_FILE: o->ct.ca_file = arg; break;
	case OPT_STATE: o->feed.state_path = arg; break;
	case OPT_EVIDENCE: o->feed.evidence_dir = arg; break;
	case OPT_BASELINE: o->baseline = arg; break;
	case OPT_LEARN: o->learn = arg; break;
	case 'R': o->rules = arg; break;
	case 'o': o->out.path = arg; break;
	case 'q': o->quiet = 1; break;
	case OPT_ANY_PORT: o->any_port = 1; break;
	case OPT_CHECK_RULES: o->check_rules = arg; break;
	case OPT_CHECK_CONFIG: o->check_config = 1; break;
	case OPT_TLS_CHAIN: o->out.tls_chain = 1; break;
	case OPT_SENSOR_NAME: o->out.sensor_name = arg; break;
	case OPT_NO_NDPI: o->no_ndpi = 1; break;
	case 'c': case OPT_NO_CONFIG: case 'h': case OPT_VERSION:
		break;   /* answered while argv was scanned */
	default:
		/* getopt returned a code of the table that nothing handles: a
		 * bug of this file, not of the command line. */
		fprintf(stderr, "certsentry: bug: option code %d has no handler\n", c);
		abort();
	}
	return 0;
}

/* A sink's option, by the name getopt matched: the sink checks it now
 * and reads it when the output opens.  0, or -1 with the reason said. */
static int sink_option(struct options *o, int idx, const char *arg)
{
	char err[512];

	if (output_opts_set(&o->out, long_opts[idx].name, arg, err, sizeof(err)) == 0)
		return 0;
	opt_err("%s", err);
	return -1;
}

/* Option c (long_opts[idx]) with arg, from either source: 0, or -1 said. */
static int apply(struct options *o, int c, int idx, const char *arg)
{
	const struct list_opt *l = list_of(c);
	int rc = 0;

	if (c == OPT_STATS)
		o->stats_set = 1;
	if (c == OPT_SINK)
		return sink_option(o, idx, arg);
	if (l)
		return list_add(o, l, arg);
	if (table_option(o, c, arg, &rc))
		return rc;
	return other_option(o, c, arg);
}

/* ---- the pool: strings the options point to -------------------------------- */

struct options_pool {
	char **s;
	size_t n, cap;
};

int options_keep(struct options *o, char *s)
{
	struct options_pool *p = o->pool;

	if (!s)
		return -1;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		char **ns = realloc(p->s, cap * sizeof(*ns));

		if (!ns) {
			free(s);
			return -1;
		}
		p->s = ns;
		p->cap = cap;
	}
	p->s[p->n++] = s;   /* owned by the pool: options_release */
	return 0;
}

void options_release(struct options *o)
{
	if (o->pool) {
		for (size_t i = 0; i < o->pool->n; i++)
			free(o->pool->s[i]);
		free(o->pool->s);
		free(o->pool);
	}
	free(o->file_set);
	o->pool = NULL;
	o->file_set = NULL;
	o->n_file_set = 0;
}

/* ---- names: look-up and the suggestion for a misspelt one ----------------- */

static int option_index(const char *name)
{
	for (int i = 0; long_opts[i].name; i++)
		if (strcmp(long_opts[i].name, name) == 0)
			return i;
	return -1;
}

static int short_index(int c)
{
	for (int i = 0; long_opts[i].name; i++)
		if (long_opts[i].val == c)
			return i;
	return -1;
}

/* Edit distance (insertions, deletions, substitutions) of two short
 * names; names longer than the buffer count as far apart. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[CONFIG_MAX_NAME + 2];

	if (la > CONFIG_MAX_NAME || lb > CONFIG_MAX_NAME)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The option name closest to name, when close enough to be a typo (a
 * third of its letters, at least one), or NULL. */
static const char *suggest(const char *name)
{
	size_t best = SIZE_MAX, limit = strlen(name) / 3 + 1;
	const char *pick = NULL;

	for (int i = 0; long_opts[i].name; i++) {
		size_t d = distance(name, long_opts[i].name);

		if (d < best) {
			best = d;
			pick = long_opts[i].name;
		}
	}
	return best <= limit ? pick : NULL;
}

/* ---- the configuration file --------------------------------------------- */

static int parse_bool(const char *v, int *yes)
{
	static const char *const words[] = { "yes", "true", "no", "false" };

	for (size_t i = 0; i < 4; i++)
		if (strcasecmp(v, words[i]) == 0) {
			*yes = i < 2;
			return 0;
		}
	return -1;
}

static int record(struct options *o, int idx, unsigned line, const char *value)
{
	struct options_setting *ns = realloc(o->file_set, (o->n_file_set + 1) * sizeof(*ns));

	if (!ns)
		return -1;
	o->file_set = ns;   /* owned by o: options_release */
	ns[o->n_file_set++] = (struct options_setting){ idx, line, value };
	return 0;
}

/* config.c's callback: one "name = value" line applied as --name value
 * would be.  0, or -1 with why set (config.c adds FILE:LINE). */
static int file_setting(void *ctx, const char *name, const char *value, unsigned line,
                        char *why, size_t whylen)
{
	struct options *o = ctx;
	int idx = option_index(name), c, yes = 1, rc;
	const char *arg = NULL, *near;

	if (idx < 0) {
		near = suggest(name);
		snprintf(why, whylen, "unknown setting '%s'%s%s%s", name, near ? " (did you mean '" : "",
		         near ? near : "", near ? "'?)" : "");
		return -1;
	}
	c = long_opts[idx].val;
	if (in_codes(cli_only, sizeof(cli_only) / sizeof(cli_only[0]), c)) {
		snprintf(why, whylen, "'%s' is for the command line only", name);
		return -1;
	}
	if (!list_of(c))
		for (size_t i = 0; i < o->n_file_set; i++)
			if (o->file_set[i].idx == idx) {
				snprintf(why, whylen, "'%s' is already set at line %u (only read, "
				         "interface, keylog and trust-store may repeat)", name,
				         o->file_set[i].line);
				return -1;
			}
	if (long_opts[idx].has_arg == no_argument) {
		if (parse_bool(value, &yes) < 0) {
			snprintf(why, whylen, "%s: '%s' is not yes, no, true or false", name, value);
			return -1;
		}
	} else {
		char *copy = strdup(value);

		if (options_keep(o, copy) < 0) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
		arg = copy;
	}
	/* A flag's word is kept as said ("yes", "no"), so that a change from
	 * one to the other is seen on SIGHUP. */
	if (record(o, idx, line, arg ? arg : yes ? "yes" : "no") < 0) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	if (!yes)
		return 0;   /* the default: no option without argument is on by default */
	g_err.buf = why;
	g_err.cap = whylen;
	g_err.dash = "";
	rc = apply(o, c, idx, arg);
	g_err.buf = NULL;
	g_err.dash = "--";
	return rc;
}

/* The file o->config into o: 0, or -1 with err "FILE:LINE: reason". */
static int read_config(struct options *o, char *err, size_t errlen)
{
	return config_read(o->config, file_setting, o, err, errlen);
}

/* ---- the command line ------------------------------------------------------ */

/* One option of argv, as scanned: applied after the configuration file
 * (which argv names), so that argv wins. */
struct cli_opt {
	int c, idx;
	const char *arg;
};

static void try_help(void)
{
	fputs("Try 'certsentry --help' for more information.\n", stderr);
}

/* How many long options begin with name (getopt takes an unambiguous
 * abbreviation on the command line; the file wants whole names). */
static int abbreviates(const char *name)
{
	size_t n = strlen(name);
	int k = 0;

	for (int i = 0; long_opts[i].name; i++)
		k += strncmp(long_opts[i].name, name, n) == 0;
	return k;
}

/* getopt's complaint (opterr is off) in one line, with a suggestion for
 * a misspelt long option. */
static void bad_option(char **argv, int c)
{
	const char *word = argv[optind - 1];
	char name[CONFIG_MAX_NAME + 1];
	const char *near;
	size_t n;

	if (strncmp(word, "--", 2) != 0) {
		if (c == ':')
			opt_err("option '-%c' needs an argument", optopt);
		else
			opt_err("unknown option '-%c'", optopt);
		return;
	}
	if (c == ':') {
		opt_err("option '%s' needs an argument", word);
		return;
	}
	n = strcspn(word + 2, "=");
	if (n > CONFIG_MAX_NAME)
		n = CONFIG_MAX_NAME;
	memcpy(name, word + 2, n);
	name[n] = '\0';
	near = suggest(name);
	if (option_index(name) >= 0 || abbreviates(name) == 1)
		opt_err("option '%s' takes no argument", word);   /* --flag=x */
	else if (abbreviates(name) > 1)
		opt_err("option '--%s' is ambiguous: it begins several options' names", name);
	else if (near)
		opt_err("unknown option '--%s' (did you mean '--%s'?)", name, near);
	else
		opt_err("unknown option '--%s'", name);
}

/* argv into cl[] (in order; operands too), answering --help and
 * --version, and noting -c / --no-config.  0, or -1 said. */
static int scan_argv(int argc, char **argv, struct options *o, struct cli_opt *cl, size_t *n,
                     const char **config, int *no_config)
{
	int c, idx;

	opterr = 0;
	optind = 0;   /* glibc: a full re-initialisation */
	*n = 0;
	while (idx = -1, (c = getopt_long(argc, argv, "-:r:i:u:R:o:qhc:", long_opts, &idx)) != -1) {
		if (c == '?' || c == ':') {
			bad_option(argv, c);
			return -1;
		}
		if (c == 'h' || c == OPT_VERSION) {
			if (c == 'h')
				usage(stdout);
			else
				printf("certsentry %s\n", CS_VERSION);
			/* Released before exit: a leak checker (ASan) would abort
			 * at exit before stdio flushed the answer. */
			free(cl);
			options_release(o);
			exit(EXIT_CLEAN);
		}
		if (c == 'c')
			*config = optarg;
		if (c == OPT_NO_CONFIG)
			*no_config = 1;
		if (idx < 0)
			idx = short_index(c);
		if (idx >= 0)
			o->cli[idx] = 1;
		if (c == 'r' || c == 'i' || c == OPT_OPERAND || c == OPT_CERTS || c == OPT_CT_JSON ||
		    c == OPT_CT_FOLLOW)
			o->cli_inputs = 1;
		cl[(*n)++] = (struct cli_opt){ c, idx, optarg };
	}
	/* After "--": operands only. */
	for (; optind < argc; optind++) {
		o->cli_inputs = 1;
		cl[(*n)++] = (struct cli_opt){ OPT_OPERAND, -1, argv[optind] };
	}
	return 0;
}

/* Which file: -c FILE, none (-c none, --no-config), or the default when
 * it exists (CERTSENTRY_CONF in its place, for tests).  0, or -1 said. */
static int pick_config(struct options *o, const char *given, int no_config)
{
	const char *def = getenv("CERTSENTRY_CONF");
	struct stat st;

	if (!def || !*def)
		def = OPTIONS_DEFAULT_CONFIG;
	if (no_config || (given && strcmp(given, CONFIG_NONE) == 0))
		o->config = NULL;
	else if (given)
		o->config = given;
	else
		o->config = stat(def, &st) == 0 ? def : NULL;
	return 0;
}

/* The command line after the file: an input, list or option given there
 * replaces the file's (a -r on the command line reads that capture, not
 * the interface of the installed configuration). */
static int apply_cli(struct options *o, const struct cli_opt *cl, size_t n)
{
	for (size_t i = 0; i < sizeof(list_opts) / sizeof(list_opts[0]); i++) {
		const struct list_opt *l = &list_opts[i];
		int idx = short_index(l->opt);
		int input = l->opt == 'r' || l->opt == 'i';

		if ((input && o->cli_inputs) || (!input && idx >= 0 && o->cli[idx]))
			list_clear(o, l);
	}
	for (size_t i = 0; i < n; i++)
		if (apply(o, cl[i].c, cl[i].idx, cl[i].arg) < 0)
			return -1;
	return 0;
}

/* What the options say together: the inputs, and what goes with what. */
static int options_check(struct options *o)
{
	/* A file's ct-follow is the daemon's input: a command line that
	 * names its own inputs (-r, --certs...) reads those instead. */
	if (o->ct.loglist && o->cli_inputs && !o->cli[short_index(OPT_CT_FOLLOW)])
		o->ct.loglist = NULL;
	if (o->ct.loglist) {
		if (o->certs_mode || o->n_inputs || o->live.n_ifaces) {
			opt_err("--ct-follow takes a log list, and no -r, -i, --certs or --ct-json");
			return -1;
		}
		o->ct.rules = o->rules;
		o->ct.stats_interval = o->live.stats_interval;
		o->ct.stats_set = o->stats_set;
		o->ct.quiet = o->quiet;
		return 0;
	}
	if (o->certs_mode) {
		if (o->n_inputs == 0 || o->cli[short_index('r')] || o->live.n_ifaces) {
			opt_err("--certs and --ct-json take files (or directories), and no -r or -i");
			return -1;
		}
		/* The operands are the files. */
		o->cert_paths = o->inputs;
		o->n_cert_paths = o->n_inputs;
		o->n_inputs = 0;
		return 0;
	}
	if (!o->check_rules && !o->check_config && o->n_inputs == 0 && o->live.n_ifaces == 0) {
		opt_err("nothing to read: give -r FILE, -i IFACE, --certs, --ct-json or --ct-follow");
		return -1;
	}
	if (o->n_inputs && o->live.n_ifaces) {
		opt_err("-r and -i do not mix");
		return -1;
	}
	o->live.rules = o->rules;
	o->feed.alert_window_us = (uint64_t)o->alert_window_s * 1000000u;
	if (o->feed.state_path && !o->alert_window_s) {
		opt_err("--state needs --alert-window above 0");
		return -1;
	}
	return 0;
}

static void options_table(void)
{
	size_t n = N_BASE_OPTS, i;
	const char *name;
	int has_arg;

	memcpy(long_opts, base_opts, N_BASE_OPTS * sizeof(base_opts[0]));
	for (i = 0; (name = output_option_name(i, &has_arg)); i++) {
		if (i == MAX_SINK_OPTS) {
			/* A bug of the build, not of the command line. */
			fprintf(stderr, "certsentry: bug: the sinks declare more than %d options\n",
			        MAX_SINK_OPTS);
			abort();
		}
		long_opts[n++] = (struct option){ name, has_arg ? required_argument : no_argument,
		                                  NULL, OPT_SINK };
	}
	long_opts[n] = (struct option){ NULL, 0, NULL, 0 };
}

int options_parse(int argc, char **argv, struct options *o)
{
	struct cli_opt *cl;      /* owned here: argv's options, in order */
	const char *config = NULL;
	int no_config = 0, rc = -1;
	size_t n = 0;
	char err[2048];

	options_table();
	options_default(o);
	o->pool = calloc(1, sizeof(*o->pool));   /* owned by o: options_release */
	cl = calloc((size_t)argc + 1, sizeof(*cl));
	if (!o->pool || !cl) {
		fprintf(stderr, "certsentry: out of memory\n");
		goto out;
	}
	if (scan_argv(argc, argv, o, cl, &n, &config, &no_config) < 0 ||
	    pick_config(o, config, no_config) < 0) {
		try_help();
		goto out;
	}
	if (o->config && read_config(o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (apply_cli(o, cl, n) < 0 || options_check(o) < 0) {
		try_help();
		goto out;
	}
	rc = 0;
out:
	free(cl);
	if (rc < 0)
		options_release(o);
	return rc;
}

/* ---- SIGHUP: the file read again ------------------------------------------ */

/* The file's values of option idx in s, joined (lists in order), into
 * buf: what a change is measured by. */
static void joined(const struct options_setting *s, size_t n, int idx, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (s[i].idx != idx)
			continue;
		used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s\n",
		                         s[i].value);
		if (used >= cap)
			return;
	}
}

static int changed(const struct options *o, const struct options *fresh, int idx)
{
	char a[CONFIG_MAX_LINE * 4], b[CONFIG_MAX_LINE * 4];

	joined(o->file_set, o->n_file_set, idx, a, sizeof(a));
	joined(fresh->file_set, fresh->n_file_set, idx, b, sizeof(b));
	return strcmp(a, b) != 0;
}

/* The settings of option idx in force become fresh's (their values are
 * in the shared pool, which outlives both). */
static int adopt(struct options *o, const struct options *fresh, int idx)
{
	size_t k = 0;

	for (size_t i = 0; i < o->n_file_set; i++)
		if (o->file_set[i].idx != idx)
			o->file_set[k++] = o->file_set[i];
	o->n_file_set = k;
	for (size_t i = 0; i < fresh->n_file_set; i++)
		if (fresh->file_set[i].idx == idx &&
		    record(o, idx, fresh->file_set[i].line, fresh->file_set[i].value) < 0)
			return -1;
	return 0;
}

/* One changed setting: applied when it may change at run time, else said.
 * The rules path comes back in rc->rules, read by live.c's threads. */
static void reconfigure_one(struct options *o, const struct options *fresh, int idx,
                            struct live_reconf *rc)
{
	int c = long_opts[idx].val;
	const char *name = long_opts[idx].name;
	int input = c == 'r' || c == 'i';

	if (o->cli[idx] || (input && o->cli_inputs)) {
		live_diag(LOG_INFO, "config: %s changed; the command line sets it", name);
		return;
	}
	if (!in_codes(runtime_opts, sizeof(runtime_opts) / sizeof(runtime_opts[0]), c) ||
	    (c == 'R' && !fresh->rules)) {
		live_diag(LOG_WARNING, "config: %s changed; restart to apply", name);
		return;
	}
	if (adopt(o, fresh, idx) < 0) {
		live_diag(LOG_ERR, "config: %s changed; out of memory: not applied", name);
		return;
	}
	if (c == 'R')
		rc->rules = o->rules = o->live.rules = fresh->rules;
	else
		rc->stats_interval = o->live.stats_interval = fresh->live.stats_interval;
	live_diag(LOG_INFO, "config: %s changed; applied", name);
}

int options_reconfigure(void *ctx, struct live_reconf *rc)
{
	struct options *o = ctx;
	struct options *fresh = malloc(sizeof(*fresh));   /* owned here: large */
	char err[2048];

	if (!fresh) {
		live_diag(LOG_ERR, "config: out of memory: %s not read again", o->config);
		return -1;
	}
	options_default(fresh);
	fresh->config = o->config;
	fresh->pool = o->pool;   /* shared: the values applied must outlive fresh */
	if (read_config(fresh, err, sizeof(err)) < 0) {
		live_diag(LOG_ERR, "config: %s; the settings in force stay", err);
		free(fresh->file_set);
		free(fresh);
		return -1;
	}
	for (int idx = 0; long_opts[idx].name; idx++)
		if (changed(o, fresh, idx))
			reconfigure_one(o, fresh, idx, rc);
	free(fresh->file_set);
	free(fresh);
	return 0;
}

/* --check-config's first line: the file and how many settings it made. */
void options_config_summary(const struct options *o, FILE *f)
{
	if (!o->config) {
		fprintf(f, "no configuration file (%s absent, or -c none): the defaults and the "
		        "command line\n", OPTIONS_DEFAULT_CONFIG);
		return;
	}
	fprintf(f, "%s: %zu settings\n", o->config, o->n_file_set);
	for (size_t i = 0; i < o->n_file_set; i++) {
		const struct options_setting *s = &o->file_set[i];
		int idx = s->idx;

		int quote = !s->value[0] || strpbrk(s->value, " \t#") != NULL;

		fprintf(f, "  %-18s %s%s%s%s\n", long_opts[idx].name, quote ? "\"" : "", s->value,
		        quote ? "\"" : "",
		        o->cli[idx] || ((long_opts[idx].val == 'r' || long_opts[idx].val == 'i') &&
		                        o->cli_inputs) ? "   (the command line's value wins)" : "");
	}
}
