/*
 * options.c - the command line: the option table, --help, and argv into
 * a struct options (include/run/options.h) with the defaults of cs_limits.h
 * and of each module.  Must not: open files, load rules or start
 * anything (main.c does, with what this returns).
 */
#include <errno.h>
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
	OPT_SENSOR_NAME, OPT_CID_SEED,
};

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
	{ NULL, 0, NULL, 0 }
};

/* What getopt reads: base_opts, then every sink's options (OPT_SINK). */
#define N_BASE_OPTS (sizeof(base_opts) / sizeof(base_opts[0]) - 1)
#define MAX_SINK_OPTS 64
static struct option long_opts[N_BASE_OPTS + MAX_SINK_OPTS + 1];

static void usage(FILE *f)
{
	char types[256];

	fputs(
"usage: certsentry -r FILE [-r FILE...] [-R RULES] [-o OUT] [options]\n"
"       certsentry -i IFACE [-i IFACE...] [-R RULES] [-o OUT] [options]\n"
"       certsentry --certs [-R RULES] [-o OUT] PATH...\n"
"       certsentry --ct-json [--ct-start N] [-R RULES] [-o OUT] FILE...\n"
"       certsentry --check-rules RULES\n"
"\n"
"  -r, --read FILE        pcap or pcapng file; '-' reads standard input\n"
"      --certs PATH...    judge certificate files (PEM or DER, a chain a file,\n"
"                         leaf first; or directories of them) without packets\n"
"      --ct-json FILE...  judge CT log entries: get-entries JSON, or one entry\n"
"                         object a line ('-': standard input)\n"
"      --ct-start N       the index of the first entry, as the log numbers it (0)\n"
"      --ct-max-json BYTES  bytes one JSON value (an answer, an entry) may take\n"
"                         (67108864); the input is read a value at a time\n"
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

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "certsentry: --%s: '%s' is not a number in %" PRIu64 "..%" PRIu64 "\n",
		        opt, s, min, max);
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
	char *copy = strdup(list), *tok, *save = NULL;
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
		fprintf(stderr, "certsentry: --ports: empty list\n");
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
		fprintf(stderr, "certsentry: --%s: %s\n", w->name, w->say);
		*rc = -1;
		return 1;
	}
	return 0;
}

/* A value into a bounded list of them (-r, -i, --keylog, --trust-store). */
static int list_add(const char **list, size_t *n, size_t max, const char *what, const char *v)
{
	if (*n >= max) {
		fprintf(stderr, "certsentry: at most %zu %s\n", max, what);
		return -1;
	}
	list[(*n)++] = v;
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
}

/* One option that is not in a table: 0, or -1 with the reason said. */
static int other_option(struct options *o, int c, const char *arg)
{
	char why[256];

	switch (c) {
	case 'r': return list_add(o->inputs, &o->n_inputs, MAX_INPUTS, "-r inputs", arg);
	case 'i':
		return list_add(o->live.ifaces, &o->live.n_ifaces, LIVE_MAX_IFACES, "-i interfaces", arg);
	case OPT_KEYLOG: return list_add(o->keylogs, &o->n_keylogs, KEYLOG_MAX_FILES, "--keylog files", arg);
	case OPT_TRUST_STORE:
		/* one more than the stores: "none" takes a place and adds none */
		if (o->n_trust > TRUST_MAX_STORES) {
			fprintf(stderr, "certsentry: at most %d --trust-store\n", TRUST_MAX_STORES);
			return -1;
		}
		o->trust_specs[o->n_trust++] = arg;
		break;
	case OPT_OUTPUT_TYPE:
		if (output_type_parse(arg, &o->out.type) == 0)
			break;
		output_type_names(why, sizeof(why), 0);
		fprintf(stderr, "certsentry: --output-type: %s\n", why);
		return -1;
	case OPT_PORTS: return parse_ports(o->port_map, arg);
	case 'u': o->live.user = arg; break;
	case OPT_BPF: o->live.bpf = arg; break;
	case OPT_PIDFILE: o->live.pidfile = arg; break;
	case OPT_SYSLOG: o->use_syslog = 1; break;
	case OPT_METRICS: metrics_set_path(arg); break;
	case OPT_CERTS: o->certs_mode = 1; break;
	case OPT_CT_JSON: o->certs_mode = 2; break;
	case OPT_STATE: o->feed.state_path = arg; break;
	case OPT_EVIDENCE: o->feed.evidence_dir = arg; break;
	case OPT_BASELINE: o->baseline = arg; break;
	case OPT_LEARN: o->learn = arg; break;
	case 'R': o->rules = arg; break;
	case 'o': o->out.path = arg; break;
	case 'q': o->quiet = 1; break;
	case 'h': usage(stdout); exit(EXIT_CLEAN);
	case OPT_VERSION: printf("certsentry %s\n", CS_VERSION); exit(EXIT_CLEAN);
	case OPT_ANY_PORT: o->any_port = 1; break;
	case OPT_CHECK_RULES: o->check_rules = arg; break;
	case OPT_TLS_CHAIN: o->out.tls_chain = 1; break;
	case OPT_SENSOR_NAME: o->out.sensor_name = arg; break;
	case OPT_NO_NDPI: o->no_ndpi = 1; break;
	default:
		usage(stderr);
		return -1;
	}
	return 0;
}

/* What the options say together: the inputs, and what goes with what. */
static int options_check(int argc, char **argv, struct options *o)
{
	if (o->certs_mode) {
		if (optind == argc || o->n_inputs || o->live.n_ifaces) {
			fprintf(stderr, "certsentry: --certs and --ct-json take files (or "
			        "directories), and no -r or -i\n");
			return -1;
		}
		o->cert_paths = argv + optind;
		o->n_cert_paths = (size_t)(argc - optind);
		return 0;
	}
	if (optind < argc) {
		fprintf(stderr, "certsentry: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->check_rules && o->n_inputs == 0 && o->live.n_ifaces == 0) {
		usage(stderr);
		return -1;
	}
	if (o->n_inputs && o->live.n_ifaces) {
		fprintf(stderr, "certsentry: -r and -i do not mix\n");
		return -1;
	}
	o->live.rules = o->rules;
	o->feed.alert_window_us = (uint64_t)o->alert_window_s * 1000000u;
	if (o->feed.state_path && !o->alert_window_s) {
		fprintf(stderr, "certsentry: --state needs --alert-window above 0\n");
		return -1;
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
	fprintf(stderr, "certsentry: %s\n", err);
	return -1;
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
	int c;

	int idx = -1;

	options_table();
	options_default(o);
	while ((c = getopt_long(argc, argv, "r:i:u:R:o:qh", long_opts, &idx)) != -1) {
		int rc = 0;

		if (c == OPT_STATS)
			o->stats_set = 1;
		if (c == OPT_SINK)
			rc = sink_option(o, idx, optarg);
		else if (!table_option(o, c, optarg, &rc))
			rc = other_option(o, c, optarg);
		if (rc < 0)
			return -1;
	}
	return options_check(argc, argv, o);
}
