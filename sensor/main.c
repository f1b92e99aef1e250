/*
 * main.c - options, wiring and exit status.  No protocol knowledge here:
 * packets go from capture to the engine, which does the rest.
 *
 * Exit status: 0 no alert, 1 at least one alert, 2 bad usage, unreadable
 * or corrupt input, or invalid rules (alerts found before damage to an
 * input are still written first).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"
#include "dispatch.h"
#include "coverage.h"
#include "engine.h"
#include "fingerprint.h"
#include "keylog.h"
#include "cs_limits.h"
#include "live.h"
#include "dedup.h"
#include "evidence.h"
#include "metrics.h"
#include "certfile.h"
#include "ctlog.h"
#include "output.h"
#include "policy.h"
#include "stats.h"
#include "truststore.h"
#include "tls.h"

#define CS_VERSION    "0.1.0"
#define MAX_INPUTS    256
#define EXIT_CLEAN    0
#define EXIT_ALERT    1
#define EXIT_TROUBLE  2

struct options {
	const char *inputs[MAX_INPUTS];
	size_t n_inputs;
	const char *rules;
	const char *check_rules;
	struct output_opts out;
	struct cs_limits lim;
	uint8_t port_map[8192];
	int any_port;
	int no_ndpi;
	int quiet;
	enum engine_checksum checksum;
	struct live_opts live;
	int use_syslog;
	int stats_set;
	const char *keylogs[KEYLOG_MAX_FILES];
	size_t n_keylogs;
	unsigned keylog_wait_ms;
	const char *baseline;      /* --baseline FILE */
	const char *learn;         /* --learn FILE */
	unsigned fp_tolerance;
	const char *redis_auth_file;   /* --redis-auth FILE: read at start-up */
	const char *trust_specs[TRUST_MAX_STORES + 1];   /* --trust-store, in order */
	size_t n_trust;
	struct output_feed_opts feed;
	unsigned alert_window_s;
	int certs_mode;                /* --certs (1), --ct-json (2): the arguments are files */
	uint64_t ct_start;             /* --ct-start */
	size_t ct_max_json;            /* --ct-max-json */
	char **cert_paths;             /* view into argv */
	size_t n_cert_paths;
};

/* Live capture: a TLS 1.3 handshake waits this long for its secret to be
 * appended to the key log (a browser writes it as it reads the
 * ServerHello, so well within a second).  --keylog-wait */
#define DEF_KEYLOG_WAIT_MS 1000u

enum {
	OPT_PORTS = 256, OPT_ANY_PORT, OPT_CHECK_RULES, OPT_MAX_FLOWS, OPT_FLOW_TIMEOUT,
	OPT_FLOW_MEMCAP, OPT_MEMCAP, OPT_MAX_OOO, OPT_MAX_HS, OPT_MAX_CERTS,
	OPT_MAX_CERT_SIZE, OPT_MAX_PREHS, OPT_CHAIN_CACHE, OPT_TLS_CHAIN, OPT_NO_NDPI, OPT_VERSION,
	OPT_CHECKSUM, OPT_MAX_FRAG, OPT_FRAG_TIMEOUT, OPT_FRAG_MEMCAP,
	OPT_BPF, OPT_SNAPLEN, OPT_BUFFER, OPT_STATS, OPT_PIDFILE, OPT_SYSLOG, OPT_WORKERS,
	OPT_OUTPUT_TYPE, OPT_SYSLOG_FACILITY, OPT_SYSLOG_LEVEL, OPT_KEYLOG, OPT_KEYLOG_WAIT,
	OPT_BASELINE, OPT_LEARN, OPT_FP_TOLERANCE, OPT_CLOSE_GRACE,
	OPT_TRUST_STORE, OPT_ALERT_WINDOW, OPT_MAX_ALERT_KEYS, OPT_STATE, OPT_TLS_LOG,
	OPT_CERT_LOG, OPT_EVIDENCE, OPT_EVIDENCE_BYTES, OPT_METRICS, OPT_CERTS, OPT_CT_JSON,
	OPT_CT_START, OPT_CT_MAX_JSON, OPT_REDIS_MODE, OPT_REDIS_KEY, OPT_REDIS_AUTH, OPT_REDIS_MAXLEN,
};

static const struct option long_opts[] = {
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
	{ "syslog-facility", required_argument, NULL, OPT_SYSLOG_FACILITY },
	{ "syslog-level",    required_argument, NULL, OPT_SYSLOG_LEVEL },
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
	{ "redis-mode",      required_argument, NULL, OPT_REDIS_MODE },
	{ "redis-key",       required_argument, NULL, OPT_REDIS_KEY },
	{ "redis-auth",      required_argument, NULL, OPT_REDIS_AUTH },
	{ "redis-maxlen",    required_argument, NULL, OPT_REDIS_MAXLEN },
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
	{ "chain-cache",     required_argument, NULL, OPT_CHAIN_CACHE },
	{ "tls-chain",       no_argument,       NULL, OPT_TLS_CHAIN },
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

static void usage(FILE *f)
{
	fprintf(f,
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
"                         or HOST[:PORT] or a socket path with redis\n"
"      --output-type T    file (default), syslog, unix_dgram, unix_stream, redis\n"
"      --syslog-facility F, --syslog-level L  for --output-type syslog\n"
"                         (local5; alerts at warning)\n"
"      --redis-mode M     list (LPUSH, default), rpush, channel (PUBLISH) or\n"
"                         stream (XADD key MAXLEN ~ N * event LINE)\n"
"      --redis-key KEY    list, channel or stream name (certsentry)\n"
"      --redis-auth FILE  AUTH with the password in FILE (first line)\n"
"      --redis-maxlen N   stream mode: MAXLEN ~ N (%lu)\n"
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
"      --tls-log W        tls events for all (default), protected or none\n"
"                         of the handshakes\n"
"      --cert-log W       once (default): a chain's certificates in full the\n"
"                         first time a window sees it, then by SHA-256; every\n"
"      --evidence DIR     the chain (PEM) and packets (pcap) of each alerting\n"
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
"                         VLAN-tagged too; '' captures everything)\n"
"      --snaplen N        bytes captured per packet (65535)\n"
"      --buffer-size MB   kernel capture buffer (64)\n"
"      --workers N        capture threads, sharing each interface by\n"
"                         PACKET_FANOUT flow hash (1); limits are per worker;\n"
"                         with -r: threads inspecting the files' flows\n"
"      --stats-interval S EVE stats event every S seconds (60 live; with -r\n"
"                         only when given) and at exit\n"
"      --metrics FILE     the counters in Prometheus text format, rewritten\n"
"                         atomically with each stats event (with -r: at exit)\n"
"  -u, --user USER        drop privileges to USER once the capture is open\n"
"      --pidfile FILE     write the process id there\n"
"      --syslog           diagnostics to syslog instead of standard error\n"
"      --checksum-checks auto|yes|no  distrust segments with bad TCP checksums\n"
"                         (auto: unless most are bad, as with checksum offload)\n"
"limits (defaults in include/limits.h; hits are counted in the summary):\n"
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
"      --chain-cache N        distinct chains kept parsed and verified (%u; 0: off)\n"
"      --max-frag-datagrams N IP datagrams being reassembled (%u)\n"
"      --frag-timeout SEC     wait for missing fragments (%u)\n"
"      --frag-memcap BYTES    bytes held by incomplete datagrams (%u)\n"
"exit status: 0 no alert, 1 alert(s), 2 usage, input or rules error\n",
	        (unsigned long)OUTPUT_REDIS_DEF_MAXLEN, DEF_KEYLOG_WAIT_MS, FP_DEF_TOLERANCE,
	        DEDUP_DEF_WINDOW_S, DEDUP_DEF_MAX_KEYS, (unsigned long long)EVIDENCE_DEF_BYTES, CS_DEF_MAX_FLOWS, CS_DEF_FLOW_TIMEOUT,
	        CS_DEF_CLOSE_GRACE_MS, CS_DEF_FLOW_MEMCAP,
	        (unsigned long long)CS_DEF_TOTAL_MEMCAP, CS_DEF_MAX_OOO_SEGS,
	        CS_DEF_MAX_HS_MSG, CS_DEF_MAX_CERTS, CS_DEF_MAX_CERT_SIZE,
	        CS_DEF_MAX_PREHS_BYTES, CS_DEF_CHAIN_CACHE, CS_DEF_MAX_FRAG_DGRAMS, CS_DEF_FRAG_TIMEOUT,
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

/* A limit option: value into *dst of the given width. */
static int set_limit(const char *name, const char *arg, uint64_t max, void *dst, size_t width)
{
	uint64_t v;

	if (parse_u64(name, arg, 1, max, &v) < 0)
		return -1;
	if (width == sizeof(unsigned))
		*(unsigned *)dst = (unsigned)v;
	else if (width == sizeof(uint64_t))
		*(uint64_t *)dst = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int c;

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
	while ((c = getopt_long(argc, argv, "r:i:u:R:o:qh", long_opts, NULL)) != -1) {
		int rc = 0;

		switch (c) {
		case 'r':
			if (o->n_inputs >= MAX_INPUTS) {
				fprintf(stderr, "certsentry: at most %d -r inputs\n", MAX_INPUTS);
				return -1;
			}
			o->inputs[o->n_inputs++] = optarg;
			break;
		case 'i':
			if (o->live.n_ifaces >= LIVE_MAX_IFACES) {
				fprintf(stderr, "certsentry: at most %d -i interfaces\n", LIVE_MAX_IFACES);
				return -1;
			}
			o->live.ifaces[o->live.n_ifaces++] = optarg;
			break;
		case 'u': o->live.user = optarg; break;
		case OPT_BPF: o->live.bpf = optarg; break;
		case OPT_SNAPLEN: rc = set_limit("snaplen", optarg, 262144, &o->live.snaplen, sizeof(int)); break;
		case OPT_BUFFER: rc = set_limit("buffer-size", optarg, 4096, &o->live.buffer_mb, sizeof(int)); break;
		case OPT_STATS:
			rc = set_limit("stats-interval", optarg, 86400, &o->live.stats_interval, sizeof(unsigned));
			o->stats_set = 1;
			break;
		case OPT_PIDFILE: o->live.pidfile = optarg; break;
		case OPT_SYSLOG: o->use_syslog = 1; break;
		case OPT_OUTPUT_TYPE:
			if (output_type_parse(optarg, &o->out.type) < 0) {
				fprintf(stderr, "certsentry: --output-type: file, syslog, unix_dgram, unix_stream or redis\n");
				rc = -1;
			}
			break;
		case OPT_SYSLOG_FACILITY:
			if (output_syslog_facility_parse(optarg, &o->out.syslog_facility) < 0) {
				fprintf(stderr, "certsentry: --syslog-facility: user, daemon or local0..local7\n");
				rc = -1;
			}
			break;
		case OPT_SYSLOG_LEVEL:
			if (output_syslog_level_parse(optarg, &o->out.syslog_alert_level) < 0) {
				fprintf(stderr, "certsentry: --syslog-level: a syslog level name\n");
				rc = -1;
			}
			break;
		case OPT_REDIS_MODE:
			if (output_redis_mode_parse(optarg, &o->out.redis_mode) < 0) {
				fprintf(stderr, "certsentry: --redis-mode: list, lpush, rpush, channel, publish or stream\n");
				rc = -1;
			}
			break;
		case OPT_METRICS: metrics_set_path(optarg); break;
		case OPT_CERTS: o->certs_mode = 1; break;
		case OPT_CT_JSON: o->certs_mode = 2; break;
		case OPT_CT_START: rc = parse_u64("ct-start", optarg, 0, UINT64_MAX / 2, &o->ct_start); break;
		case OPT_CT_MAX_JSON: rc = set_limit("ct-max-json", optarg, 1ull << 32, &o->ct_max_json, sizeof(size_t)); break;
		case OPT_ALERT_WINDOW: {
			uint64_t v = 0;   /* 0 allowed: every alert written */

			rc = parse_u64("alert-window", optarg, 0, 30ull * 86400, &v);
			o->alert_window_s = (unsigned)v;
			break;
		}
		case OPT_MAX_ALERT_KEYS: rc = set_limit("max-alert-keys", optarg, 1u << 24, &o->feed.max_alert_keys, sizeof(size_t)); break;
		case OPT_STATE: o->feed.state_path = optarg; break;
		case OPT_TLS_LOG:
			if (strcmp(optarg, "all") == 0)
				o->feed.tls_log = OUTPUT_TLS_LOG_ALL;
			else if (strcmp(optarg, "protected") == 0)
				o->feed.tls_log = OUTPUT_TLS_LOG_PROTECTED;
			else if (strcmp(optarg, "none") == 0)
				o->feed.tls_log = OUTPUT_TLS_LOG_NONE;
			else {
				fprintf(stderr, "certsentry: --tls-log: all, protected or none\n");
				rc = -1;
			}
			break;
		case OPT_CERT_LOG:
			if (strcmp(optarg, "once") == 0)
				o->feed.cert_log = OUTPUT_CERT_LOG_ONCE;
			else if (strcmp(optarg, "every") == 0)
				o->feed.cert_log = OUTPUT_CERT_LOG_EVERY;
			else {
				fprintf(stderr, "certsentry: --cert-log: once or every\n");
				rc = -1;
			}
			break;
		case OPT_EVIDENCE: o->feed.evidence_dir = optarg; break;
		case OPT_EVIDENCE_BYTES: rc = set_limit("evidence-bytes", optarg, 1ull << 40, &o->feed.evidence_bytes, sizeof(uint64_t)); break;
		case OPT_TRUST_STORE:
			if (o->n_trust > TRUST_MAX_STORES) {
				fprintf(stderr, "certsentry: at most %d --trust-store\n", TRUST_MAX_STORES);
				return -1;
			}
			o->trust_specs[o->n_trust++] = optarg;
			break;
		case OPT_REDIS_KEY: o->out.redis_key = optarg; break;
		case OPT_REDIS_AUTH: o->redis_auth_file = optarg; break;
		case OPT_REDIS_MAXLEN: {
			uint64_t v = 0;

			rc = parse_u64("redis-maxlen", optarg, 1, 1ull << 40, &v);
			o->out.redis_maxlen = (unsigned long)v;
			break;
		}
		case OPT_KEYLOG:
			if (o->n_keylogs >= KEYLOG_MAX_FILES) {
				fprintf(stderr, "certsentry: at most %u --keylog files\n", KEYLOG_MAX_FILES);
				return -1;
			}
			o->keylogs[o->n_keylogs++] = optarg;
			break;
		case OPT_KEYLOG_WAIT: {
			uint64_t v = 0;   /* 0 allowed: no wait */

			rc = parse_u64("keylog-wait", optarg, 0, 60000, &v);
			o->keylog_wait_ms = (unsigned)v;
			break;
		}
		case OPT_BASELINE: o->baseline = optarg; break;
		case OPT_LEARN: o->learn = optarg; break;
		case OPT_FP_TOLERANCE: rc = set_limit("fp-tolerance", optarg, 1u << 20, &o->fp_tolerance, sizeof(unsigned)); break;
		case OPT_WORKERS: rc = set_limit("workers", optarg, LIVE_MAX_WORKERS, &o->live.workers, sizeof(unsigned)); break;
		case 'R': o->rules = optarg; break;
		case 'o': o->out.path = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'h': usage(stdout); exit(EXIT_CLEAN);
		case OPT_VERSION: printf("certsentry %s\n", CS_VERSION); exit(EXIT_CLEAN);
		case OPT_PORTS: rc = parse_ports(o->port_map, optarg); break;
		case OPT_ANY_PORT: o->any_port = 1; break;
		case OPT_CHECK_RULES: o->check_rules = optarg; break;
		case OPT_TLS_CHAIN: o->out.tls_chain = 1; break;
		case OPT_NO_NDPI: o->no_ndpi = 1; break;
		case OPT_CHECKSUM:
			if (strcmp(optarg, "auto") == 0)
				o->checksum = CHECKSUM_AUTO;
			else if (strcmp(optarg, "yes") == 0)
				o->checksum = CHECKSUM_YES;
			else if (strcmp(optarg, "no") == 0)
				o->checksum = CHECKSUM_NO;
			else {
				fprintf(stderr, "certsentry: --checksum-checks: auto, yes or no\n");
				rc = -1;
			}
			break;
		case OPT_MAX_FLOWS: rc = set_limit("max-flows", optarg, 1u << 28, &o->lim.max_flows, sizeof(size_t)); break;
		case OPT_FLOW_TIMEOUT: rc = set_limit("flow-timeout", optarg, 86400, &o->lim.flow_timeout, sizeof(unsigned)); break;
		case OPT_CLOSE_GRACE: rc = set_limit("close-grace", optarg, 600000, &o->lim.close_grace_ms, sizeof(unsigned)); break;
		case OPT_FLOW_MEMCAP: rc = set_limit("flow-memcap", optarg, 1u << 30, &o->lim.flow_memcap, sizeof(size_t)); break;
		case OPT_MEMCAP: rc = set_limit("memcap", optarg, 1ull << 40, &o->lim.total_memcap, sizeof(uint64_t)); break;
		case OPT_MAX_OOO: rc = set_limit("max-ooo-segments", optarg, 1u << 20, &o->lim.max_ooo_segs, sizeof(size_t)); break;
		case OPT_MAX_HS: rc = set_limit("max-handshake", optarg, 1u << 24, &o->lim.max_hs_msg, sizeof(size_t)); break;
		case OPT_MAX_CERTS: rc = set_limit("max-certs", optarg, 1024, &o->lim.max_certs, sizeof(size_t)); break;
		case OPT_MAX_CERT_SIZE: rc = set_limit("max-cert-size", optarg, 1u << 24, &o->lim.max_cert_size, sizeof(size_t)); break;
		case OPT_MAX_FRAG: rc = set_limit("max-frag-datagrams", optarg, 1u << 24, &o->lim.max_frag_dgrams, sizeof(size_t)); break;
		case OPT_FRAG_TIMEOUT: rc = set_limit("frag-timeout", optarg, 3600, &o->lim.frag_timeout, sizeof(unsigned)); break;
		case OPT_FRAG_MEMCAP: rc = set_limit("frag-memcap", optarg, 1u << 30, &o->lim.frag_memcap, sizeof(size_t)); break;
		case OPT_MAX_PREHS: rc = set_limit("max-prehandshake", optarg, 1u << 24, &o->lim.max_prehs_bytes, sizeof(size_t)); break;
		case OPT_CHAIN_CACHE: {
			uint64_t v = 0;   /* 0 allowed: no cache */

			rc = parse_u64("chain-cache", optarg, 0, 1u << 20, &v);
			o->lim.chain_cache = (size_t)v;
			break;
		}
		default:
			usage(stderr);
			return -1;
		}
		if (rc < 0)
			return -1;
	}
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

/* The root stores that grade unapproved chains (truststore.h).  0, or -1
 * with the reason said. */
static int load_trust(const struct options *o, struct trust_stores **out)
{
	char err[1024];
	size_t n;

	*out = trust_load(o->trust_specs, o->n_trust, err, sizeof(err));
	if (!*out) {
		fprintf(stderr, "certsentry: --trust-store %s\n", err);
		return -1;
	}
	if (o->quiet)
		return 0;
	if (trust_count(*out) == 0)
		fprintf(stderr, "certsentry: no trust store (%s missing): unapproved chains are "
		        "graded Major or Minor only\n", TRUST_DEFAULT_PATH);
	for (size_t i = 0; i < trust_count(*out); i++) {
		const char *name = trust_name(*out, i, &n);

		if (strcmp(name, TRUST_DEFAULT_NAME) != 0 || o->n_trust)
			fprintf(stderr, "certsentry: trust store %s: %zu certificates\n", name, n);
	}
	return 0;
}

/* A password from the first line of a file, so that it is not on the
 * command line (where ps shows it).  0, or -1 with the reason said. */
static int read_secret(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "certsentry: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fgets(out, (int)cap, f)) {
		fprintf(stderr, "certsentry: %s: empty\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strcspn(out, "\r\n");
	if (n == cap - 1) {
		fprintf(stderr, "certsentry: %s: password longer than %zu bytes\n", path, cap - 2);
		explicit_bzero(out, cap);
		return -1;
	}
	out[n] = 0;
	return 0;
}

/* ---- summary and progress ------------------------------------------- */

static uint64_t handshakes_total(void)
{
	uint64_t hs = 0;

	for (size_t i = 0; i < sizeof(g_stats.hs_by_version) / sizeof(g_stats.hs_by_version[0]); i++)
		hs += g_stats.hs_by_version[i];
	return hs;
}

/* Key logs: the --keylog files and the secrets the pcapng inputs carry. */
struct keylogs {
	struct keylog *kl;       /* owned; NULL when there is nothing to read */
	size_t dsb;              /* pcapng Decryption Secrets Blocks read */
};

static void add_dsb(void *ctx, const uint8_t *secrets, size_t len)
{
	struct keylogs *k = ctx;

	keylog_add_text(k->kl, secrets, len);
	k->dsb++;
}

/* 0, or -1 after printing why (bad usage: exit 2). */
static int load_keylogs(const struct options *o, int live, struct keylogs *k)
{
	char err[1024];

	memset(k, 0, sizeof(*k));
	k->kl = keylog_new();
	if (!k->kl) {
		fprintf(stderr, "certsentry: out of memory\n");
		return -1;
	}
	/* A file named for a live capture may be half-written at its end. */
	for (size_t i = 0; i < o->n_keylogs; i++)
		if (keylog_add_file(k->kl, o->keylogs[i], !live, err, sizeof(err)) < 0) {
			fprintf(stderr, "certsentry: --keylog %s\n", err);
			return -1;
		}
	for (size_t i = 0; i < o->n_inputs; i++)
		if (capture_file_secrets(o->inputs[i], add_dsb, k, err, sizeof(err)) < 0) {
			fprintf(stderr, "certsentry: %s\n", err);
			return -1;
		}
	if (keylog_empty(k->kl)) {
		keylog_free(k->kl);
		k->kl = NULL;
	}
	return 0;
}

static void print_keylog(const struct keylogs *k, FILE *f)
{
	struct keylog_counts c;

	if (!k->kl)
		return;
	keylog_counts(k->kl, &c);
	fprintf(f, "  tls 1.3: decrypted %" PRIu64 ", no key %" PRIu64 ", records decrypted %"
	        PRIu64 " (authentication failures %" PRIu64 "); key log: %" PRIu64
	        " secrets from %zu files and %zu pcapng blocks (%" PRIu64 " lines, %" PRIu64
	        " malformed), look-ups %" PRIu64 ", found %" PRIu64 "\n",
	        g_stats.hs_tls13_decrypted, g_stats.tls13_no_key, g_stats.tls13_records,
	        g_stats.tls13_auth_fail, c.entries, keylog_files(k->kl), k->dsb, c.lines,
	        c.malformed, c.lookups, c.hits);
}

static void print_summary(const struct dispatch *d, FILE *f)
{
	static const char *const vnames[] = {
		"SSLv2", "SSLv3", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3", "other"
	};

	fprintf(f, "certsentry: %" PRIu64 " packets, %" PRIu64 " flows, %" PRIu64
	        " handshakes, %" PRIu64 " certificates, %" PRIu64 " alerts\n",
	        g_stats.pkts, g_stats.flows_total, handshakes_total(), g_stats.certs_seen,
	        dispatch_alert_count(d));
	fprintf(f, "  handshakes:");
	for (size_t i = 0; i < 7; i++)
		if (g_stats.hs_by_version[i])
			fprintf(f, " %s %" PRIu64 ",", vnames[i], g_stats.hs_by_version[i]);
	fprintf(f, " resumed %" PRIu64 ", TLS 1.3 decrypted %" PRIu64
	        ", certificates encrypted (TLS 1.3) %" PRIu64 ", incomplete %" PRIu64 "\n",
	        g_stats.hs_resumed, g_stats.hs_tls13_decrypted, g_stats.hs_tls13,
	        g_stats.hs_incomplete);
	dispatch_print_alerts(d, f);
	if (g_stats.alerts_repeated || g_stats.alert_followups || g_stats.tls_events_skipped ||
	    g_stats.certs_brief || g_stats.evidence_written || g_stats.evidence_budget)
		fprintf(f, "  feed: alert repeats in open windows %" PRIu64 " (follow-ups %" PRIu64
		        "), tls events not written %" PRIu64 ", chains by SHA-256 only %" PRIu64
		        ", evidence written %" PRIu64 " (over budget %" PRIu64 ")\n",
		        g_stats.alerts_repeated, g_stats.alert_followups, g_stats.tls_events_skipped,
		        g_stats.certs_brief, g_stats.evidence_written, g_stats.evidence_budget);
	/* Only when a consumer (socket, Redis) was away or slow at some point. */
	if (g_stats.output_queued || g_stats.output_dropped || g_stats.output_disconnects ||
	    g_stats.output_alerts_stderr)
		fprintf(f, "  output: queued %" PRIu64 " (at most %" PRIu64 " at once), dropped %"
		        PRIu64 ", alerts to stderr %" PRIu64 ", disconnects %" PRIu64
		        ", reconnects %" PRIu64 "\n",
		        g_stats.output_queued, g_stats.output_queue_peak, g_stats.output_dropped,
		        g_stats.output_alerts_stderr, g_stats.output_disconnects,
		        g_stats.output_reconnects);
	fprintf(f, "  limits: flows evicted %" PRIu64 ", flow memcap %" PRIu64
	        ", memcap %" PRIu64 ", out-of-order segments %" PRIu64
	        ", handshake size %" PRIu64 ", certificates dropped %" PRIu64
	        ", certificate size %" PRIu64 ", no handshake found %" PRIu64 "\n",
	        g_stats.flows_evicted, g_stats.reasm_flow_memcap, g_stats.reasm_total_memcap,
	        g_stats.reasm_ooo_limit, g_stats.tls_hs_too_big, g_stats.tls_certs_dropped,
	        g_stats.tls_cert_too_big, g_stats.prehs_limit);
	fprintf(f, "  chain cache: hits %" PRIu64 ", misses %" PRIu64 ", evicted %" PRIu64 "\n",
	        g_stats.chain_cache_hits, g_stats.chain_cache_misses, g_stats.chain_cache_evictions);
	fprintf(f, "  stream: gaps %" PRIu64 ", overlaps %" PRIu64 " (different data %"
	        PRIu64 "), mid-stream pick-ups %" PRIu64 ", invalid checksums %" PRIu64
	        " (not trusted %" PRIu64 "), fragments reassembled %" PRIu64
	        " (overlapping %" PRIu64 ", timed out %" PRIu64 ", dropped %" PRIu64
	        "), decode errors %" PRIu64
	        ", unparsable certificates %" PRIu64 ", peak flow memory %" PRIu64 "\n",
	        g_stats.reasm_gap, g_stats.reasm_overlap, g_stats.reasm_overlap_diff,
	        g_stats.midstream_pickups, g_stats.tcp_invalid_checksum,
	        g_stats.tcp_checksum_ignored, g_stats.frag_reassembled, g_stats.frag_overlap,
	        g_stats.frag_timeout, g_stats.frag_limit + g_stats.frag_bad,
	        g_stats.decode_err, g_stats.certs_unparsable, g_stats.mem_peak);
	fprintf(f, "  tcp: bad-checksum copies %" PRIu64 " (replaced by a valid copy %" PRIu64
	        ", used when acknowledged %" PRIu64 ", different data %" PRIu64
	        ", dropped at a limit %" PRIu64 "), RST/FIN not believed %" PRIu64
	        ", closed in grace %" PRIu64 ", port reuse %" PRIu64
	        " (new SYN mid-handshake ignored %" PRIu64 "), SYN-ACK ISNs differing %" PRIu64
	        " (client took another %" PRIu64 ")\n",
	        g_stats.reasm_tentative, g_stats.reasm_tentative_replaced,
	        g_stats.reasm_tentative_used, g_stats.reasm_tentative_diff,
	        g_stats.reasm_tentative_dropped, g_stats.tcp_end_ignored,
	        g_stats.flows_close_grace, g_stats.tcp_port_reuse, g_stats.tcp_syn_ignored,
	        g_stats.tcp_synack_isn_differ, g_stats.tcp_synack_isn_switch);
}

static void progress(const struct dispatch *d, const char *name, uint64_t pkts, time_t *last)
{
	time_t now = time(NULL);
	uint64_t hs, alerts;

	if (now == *last)
		return;
	*last = now;
	dispatch_progress(d, &hs, &alerts);
	fprintf(stderr, "\r%s: %" PRIu64 " packets, %" PRIu64 " handshakes, %" PRIu64 " alerts ",
	        name, pkts, hs, alerts);
}

/* ---- running ----------------------------------------------------------- */

/* Read one input through the engine(s).  0 ok, -1 the input was unusable. */
static int run_input(struct dispatch *d, const char *path, int show_progress)
{
	char err[512];
	struct capture *c = capture_open_file(path, err, sizeof(err));
	const uint8_t *frame;
	size_t caplen;
	uint64_t ts;
	time_t last = time(NULL);
	int dlt, rc;

	if (!c) {
		fprintf(stderr, "certsentry: %s\n", err);
		return -1;
	}
	dlt = capture_datalink(c);
	if (!decode_linktype_supported(dlt)) {
		fprintf(stderr, "certsentry: %s: unsupported link type %d (%s)\n",
		        path, dlt, capture_datalink_name(c));
		capture_close(c);
		return -1;
	}
	dispatch_set_source(d, strcmp(path, "-") == 0 ? "stdin" : path);
	dispatch_set_capture(d, c);
	while ((rc = capture_next(c, &frame, &caplen, &ts)) == 1) {
		if (dispatch_packet(d, dlt, frame, caplen, ts) < 0) {
			fprintf(stderr, "certsentry: %s: packet %" PRIu64 ": frame of %zu bytes, more "
			        "than the %u a capture can hold\n", path, capture_count(c), caplen,
			        CS_DISPATCH_MAX_FRAME);
			dispatch_drain(d);
			capture_close(c);
			return -1;
		}
		if (show_progress && (capture_count(c) & 0xffff) == 0)
			progress(d, path, capture_count(c), &last);
	}
	if (show_progress)
		fprintf(stderr, "\r\033[K");
	if (rc < 0)
		fprintf(stderr, "certsentry: %s: packet %" PRIu64 ": %s\n", path,
		        capture_count(c) + 1, capture_error(c));
	dispatch_drain(d);
	capture_close(c);
	return rc < 0 ? -1 : 0;
}

/* The default capture filter: the inspected server ports over TCP, bare,
 * 802.1Q-tagged or QinQ-tagged (BPF's "vlan" shifts the offsets of what
 * follows, one tag per "vlan"). */
static void default_bpf(const struct options *o, char *buf, size_t len)
{
	char ports[1024] = "";
	size_t n = 0, used = 0;

	for (unsigned p = 1; p < 65536 && !o->any_port; p++) {
		if (!(o->port_map[p >> 3] & (1u << (p & 7))))
			continue;
		if (++n > 32)
			break;   /* long lists: capture all TCP, filter in the engine */
		used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%stcp port %u",
		                         used ? " or " : "", p);
	}
	if (o->any_port || n > 32 || n == 0)
		snprintf(ports, sizeof(ports), "tcp");
	snprintf(buf, len, "(%s) or (vlan and (%s)) or (vlan and vlan and (%s))",
	         ports, ports, ports);
}

/* --baseline and --learn.  0, or -1 after printing why (exit 2). */
static int load_fingerprints(const struct options *o, struct fp_baseline **base,
                             struct fp_baseline **learn)
{
	char err[1024];

	*base = *learn = NULL;
	if (o->baseline) {
		*base = fp_new(o->fp_tolerance);   /* owned by main */
		if (!*base || fp_load(*base, o->baseline, err, sizeof(err)) < 0) {
			fprintf(stderr, "certsentry: --baseline %s\n", *base ? err : "out of memory");
			return -1;
		}
	}
	if (o->learn) {
		/* Learning with a baseline adds to it: the file --learn
		 * writes holds both. */
		*learn = fp_new(o->fp_tolerance);  /* owned by main */
		if (!*learn || (o->baseline && fp_load(*learn, o->baseline, err, sizeof(err)) < 0)) {
			fprintf(stderr, "certsentry: --baseline %s\n", *learn ? err : "out of memory");
			return -1;
		}
	}
	return 0;
}

static int check_rules(const struct options *o)
{
	char err[1024];
	struct policy *p = policy_load(o->check_rules, err, sizeof(err));
	struct fp_baseline *base = NULL, *learn = NULL;
	int rc = EXIT_CLEAN;

	if (!p) {
		fprintf(stderr, "%s\n", err);
		return EXIT_TROUBLE;
	}
	policy_summary(p, stdout);
	if (load_fingerprints(o, &base, &learn) < 0)
		rc = EXIT_TROUBLE;
	else
		policy_coverage_plan(p, o->n_keylogs > 0, base, stdout);
	fp_free(base);
	fp_free(learn);
	policy_free(p);
	return rc;
}

static void print_fingerprints(const struct engine_opts *eo, FILE *f)
{
	if (eo->baseline)
		fprintf(f, "  fingerprints: baseline %zu endpoints, %zu shapes; TLS 1.3 handshakes "
		        "matched %" PRIu64 ", changed %" PRIu64 ", endpoint not in the baseline %"
		        PRIu64 "\n", fp_endpoints(eo->baseline), fp_shapes(eo->baseline),
		        g_stats.fp_match, g_stats.fp_changed, g_stats.fp_no_baseline);
	if (eo->learn)
		fprintf(f, "  fingerprints: learned %" PRIu64 " TLS 1.3 handshakes: %zu endpoints, "
		        "%zu shapes\n", g_stats.fp_learned, fp_endpoints(eo->learn),
		        fp_shapes(eo->learn));
}

/* Files: one engine on this thread, or --workers threads.  Returns the
 * exit status. */
/* --certs: each file's chain judged as a handshake's would be.  Exit 1 with
 * alerts, 2 when a file could not be judged (after the rest were). */
static int run_certs(const struct options *o, const struct engine_opts *eo)
{
	struct certfile_ctx c;
	int trouble = 0;

	memset(&c, 0, sizeof(c));
	c.pol = eo->pol;
	c.trust = eo->trust;
	c.out = eo->out;
	c.max_certs = o->lim.max_certs;
	c.max_cert_size = o->lim.max_cert_size;
	c.max_json = o->ct_max_json;
	c.max_issuers = o->lim.chain_cache;
	for (size_t i = 0; i < o->n_cert_paths && !trouble; i++)
		trouble = (o->certs_mode == 2 ? ct_judge_file(&c, o->cert_paths[i], o->ct_start)
		                              : certfile_judge_path(&c, o->cert_paths[i])) < 0;
	if (!o->quiet)
		fprintf(stderr, "certsentry: %" PRIu64 " %s, %" PRIu64 " chains judged (%" PRIu64
		        " by names only), %" PRIu64 " alerts, %" PRIu64 " errors\n", c.files,
		        o->certs_mode == 2 ? "entries" : "files", c.chains, c.by_names, c.alerts,
		        c.errors);
	if (c.issuer_flushes)
		fprintf(stderr, "certsentry: more distinct issuers than --chain-cache %zu: its parsed "
		        "issuers were let go %" PRIu64 " times\n", c.max_issuers, c.issuer_flushes);
	certfile_ctx_release(&c);
	if (trouble || c.errors || g_stats.output_err)
		return EXIT_TROUBLE;
	return c.alerts ? EXIT_ALERT : EXIT_CLEAN;
}

static int run_files(const struct options *o, struct engine_opts *eo, const struct keylogs *kl)
{
	struct dispatch *d;
	char err[1024];
	int trouble = 0, status;

	d = dispatch_new(eo, o->live.workers, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "certsentry: %s\n", err);
		return EXIT_TROUBLE;
	}
	for (size_t i = 0; i < o->n_inputs; i++)
		if (run_input(d, o->inputs[i], !o->quiet && isatty(STDERR_FILENO)) < 0)
			trouble = 1;
	if (dispatch_finish(d, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: %s\n", err);
		trouble = 1;
	}
	/* The windows' last follow-ups, before the counters are read. */
	if (output_feed_finish(eo->out, eo->feed, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --state %s\n", err);
		trouble = 1;
	}
	if (o->stats_set || metrics_path()) {
		struct eve_alert_count rows[1024];

		live_write_stats(eo->out, eo->coverage, &g_stats, rows,
		                 dispatch_alert_table(d, rows, 1024), NULL, o->stats_set);
	}
	if (!o->quiet) {
		print_summary(d, stderr);
		print_keylog(kl, stderr);
		print_fingerprints(eo, stderr);
		coverage_print(eo->coverage, stderr);
	}
	status = trouble ? EXIT_TROUBLE : dispatch_alert_count(d) ? EXIT_ALERT : EXIT_CLEAN;
	if (g_stats.output_err) {
		fprintf(stderr, "certsentry: %" PRIu64 " output write errors\n", g_stats.output_err);
		status = EXIT_TROUBLE;
	}
	dispatch_free(d);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	struct policy *pol = NULL;
	struct output *out = NULL;
	struct engine_opts eo;
	struct keylogs kl = { NULL, 0 };
	struct fp_baseline *base = NULL, *learn = NULL;
	struct trust_stores *trust = NULL;
	struct output_feed *feed = NULL;
	char err[1024], redis_pw[512] = "";
	int status = EXIT_TROUBLE;

	setvbuf(stderr, NULL, _IOLBF, 0);
	memset(&eo, 0, sizeof(eo));
	if (parse_args(argc, argv, &o) < 0)
		return EXIT_TROUBLE;
	if (o.check_rules)
		return check_rules(&o);
	if (metrics_check(err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: %s\n", err);
		return EXIT_TROUBLE;
	}
	if (o.rules) {
		pol = policy_load(o.rules, err, sizeof(err));
		if (!pol) {
			fprintf(stderr, "%s\n", err);
			return EXIT_TROUBLE;
		}
	} else if (!o.quiet) {
		fprintf(stderr, "certsentry: no rules (-R): reporting handshakes only\n");
	}
	if (load_keylogs(&o, o.live.n_ifaces > 0, &kl) < 0 ||
	    load_fingerprints(&o, &base, &learn) < 0 || load_trust(&o, &trust) < 0)
		goto out;
	if (o.redis_auth_file && read_secret(o.redis_auth_file, redis_pw, sizeof(redis_pw)) < 0)
		goto out;
	if (o.redis_auth_file)
		o.out.redis_auth = redis_pw;
	out = output_open(&o.out, err, sizeof(err));
	explicit_bzero(redis_pw, sizeof(redis_pw));   /* the sink keeps its own copy */
	if (!out) {
		fprintf(stderr, "certsentry: %s\n", err);
		goto out;
	}
	feed = output_feed_new(&o.feed, err, sizeof(err));
	if (!feed) {
		fprintf(stderr, "certsentry: %s\n", err);
		goto out;
	}
	eo.lim = &o.lim;
	eo.pol = pol;
	eo.out = out;
	eo.port_map = o.port_map;
	eo.any_port = o.any_port;
	eo.no_ndpi = o.no_ndpi;
	eo.checksum = o.checksum;
	eo.keylog = kl.kl;
	eo.coverage = coverage_new();   /* owned here; NULL: not counted */
	eo.baseline = base;
	eo.learn = learn;
	eo.trust = trust;
	eo.feed = feed;
	/* Files' key logs are complete: only live capture waits. */
	eo.keylog_wait_us = o.live.n_ifaces ? (uint64_t)o.keylog_wait_ms * 1000 : 0;
	if (o.certs_mode) {
		status = run_certs(&o, &eo);
	} else if (o.live.n_ifaces) {
		char bpf[4096];

		live_use_syslog(o.use_syslog);
		default_bpf(&o, bpf, sizeof(bpf));
		o.live.default_bpf = bpf;
		/* Each worker makes its own engine from eo.  A daemon stopped
		 * by SIGTERM exits 0 whatever it saw. */
		status = live_run(&o.live, &eo, &pol) < 0 ? EXIT_TROUBLE : EXIT_CLEAN;
	} else {
		status = run_files(&o, &eo, &kl);
	}
	if (learn && fp_save(learn, o.learn, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --learn %s\n", err);
		status = EXIT_TROUBLE;
	}
out:
	if (feed && output_feed_finish(out, feed, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --state %s\n", err);
		status = EXIT_TROUBLE;
	}
	output_feed_free(feed);
	if (out)
		output_close(out);
	coverage_free(eo.coverage);
	fp_free(base);
	fp_free(learn);
	keylog_free(kl.kl);
	trust_free(trust);
	policy_free(pol);
	return status;
}
