/*
 * main.c - wiring and exit status: the rules, trust stores, key logs and
 * outputs loaded as the options say (options.c), then files, interfaces
 * or certificates run.  No protocol knowledge here: packets go from
 * capture to the engine, which does the rest.
 *
 * Exit status: 0 no alert, 1 at least one alert, 2 bad usage, unreadable
 * or corrupt input, or invalid rules (alerts found before damage to an
 * input are still written first).
 *
 * Must not: parse options (options.c) or packets.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

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
#include "options.h"
#include "privs.h"
#include "tls.h"

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

/* Key logs: the --keylog files and the secrets the pcapng inputs carry,
 * which arrive as the inputs are read (a Decryption Secrets Block
 * precedes the packets it opens), standard input and pipes alike. */
struct keylogs {
	struct keylog *kl;       /* the engines' log once it holds anything (for the
	                            summary); NULL before */
	struct keylog *all;      /* owned; what the engines look in: reading files,
	                            always (a pcapng input may bring secrets);
	                            live, NULL without --keylog */
	size_t dsb;              /* pcapng Decryption Secrets Blocks read */
};

static void add_dsb(void *ctx, const uint8_t *secrets, size_t len)
{
	struct keylogs *k = ctx;

	keylog_add_text(k->all, secrets, len);
	k->kl = k->all;
	k->dsb++;
}

/* 0, or -1 after printing why (bad usage: exit 2). */
static int load_keylogs(const struct options *o, int live, struct keylogs *k)
{
	char err[1024];

	memset(k, 0, sizeof(*k));
	k->all = keylog_new();
	if (!k->all) {
		fprintf(stderr, "certsentry: out of memory\n");
		return -1;
	}
	/* A file named for a live capture may be half-written at its end. */
	for (size_t i = 0; i < o->n_keylogs; i++)
		if (keylog_add_file(k->all, o->keylogs[i], !live, err, sizeof(err)) < 0) {
			fprintf(stderr, "certsentry: --keylog %s\n", err);
			return -1;
		}
	if (!keylog_empty(k->all))
		k->kl = k->all;
	else if (live || o->certs_mode) {
		keylog_free(k->all);
		k->all = NULL;
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

/* Read one input through the engine(s): up to its end or its damage.
 * fd: the input opened before privileges were dropped, or -1 to open it
 * here.  0 ok, -1 the input was unusable or damaged (said). */
static int run_input(struct dispatch *d, const struct options *o, const char *path, int fd,
                     struct keylogs *kl, int show_progress)
{
	struct capture_file_opts co = { o->live.bpf, add_dsb, kl };
	char err[512];
	struct capture *c;
	const uint8_t *frame;
	size_t caplen;
	uint64_t ts;
	time_t last = time(NULL);
	int dlt, rc;

	if (!kl->all)
		co.secrets = NULL;
	c = fd >= 0 ? capture_open_fd(fd, path, &co, err, sizeof(err))
	            : capture_open_file(path, &co, err, sizeof(err));
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
	/* Everything before the damage was read; the next input follows. */
	if (rc < 0)
		fprintf(stderr, "certsentry: %s: packet %" PRIu64 ": %s; read up to there\n", path,
		        capture_count(c) + 1, capture_error(c));
	if (o->live.bpf && !o->quiet)
		fprintf(stderr, "certsentry: %s: --bpf kept %" PRIu64 " of %" PRIu64 " packets\n",
		        path, capture_count(c) - capture_filtered(c), capture_count(c));
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

/* -u USER: become USER for good (privs.h).  Called before any thread
 * starts and before the first input byte is parsed.  0, or -1 said. */
static int drop_to_user(const struct options *o)
{
	char err[512];

	if (privs_drop(o->live.user, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: %s\n", err);
		return -1;
	}
	return 0;
}

/* -u USER: can USER do, later, what certsentry will do with each path
 * after the drop?  Asked now, so that a path it cannot write stops the
 * start (exit 2) instead of losing the state or the output at exit or
 * at the next rotation.  0, or -1 said. */
static int check_user_paths(const struct options *o)
{
	struct privs_path p[8 + KEYLOG_MAX_FILES];
	size_t n = 0;
	int live = o->live.n_ifaces > 0;
	char err[1024];

	if (o->feed.state_path)
		p[n++] = (struct privs_path){ o->feed.state_path, "--state", PRIVS_WRITE_DIR };
	if (o->feed.evidence_dir)
		p[n++] = (struct privs_path){ o->feed.evidence_dir, "--evidence", PRIVS_WRITE_DIR };
	if (metrics_path())
		p[n++] = (struct privs_path){ metrics_path(), "--metrics", PRIVS_WRITE_DIR };
	if (o->learn)
		p[n++] = (struct privs_path){ o->learn, "--learn", PRIVS_WRITE_DIR };
	if (live && o->live.pidfile)   /* removed at exit */
		p[n++] = (struct privs_path){ o->live.pidfile, "--pidfile", PRIVS_WRITE_DIR };
	/* Live only: reopened after rotation (SIGHUP), rules reloaded,
	 * key logs read as they grow.  The output file root has just
	 * created (or had) is given to USER first, as tcpdump -Z does with
	 * its file: else a SIGHUP without a rotation could not reopen it. */
	if (live && o->out.type == OUTPUT_FILE && o->out.path && strcmp(o->out.path, "-") != 0) {
		struct passwd *pw = getpwnam(o->live.user);
		struct stat st;

		if (pw && geteuid() == 0 && lstat(o->out.path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == 0 && chown(o->out.path, pw->pw_uid, pw->pw_gid) != 0)
			fprintf(stderr, "certsentry: -u %s: cannot give %s to %s: %s\n", o->live.user,
			        o->out.path, o->live.user, strerror(errno));
		p[n++] = (struct privs_path){ o->out.path, "-o", PRIVS_APPEND };
	}
	if (live && o->rules)
		p[n++] = (struct privs_path){ o->rules, "-R", PRIVS_READ };
	for (size_t i = 0; live && i < o->n_keylogs; i++)
		p[n++] = (struct privs_path){ o->keylogs[i], "--keylog", PRIVS_READ };
	if (privs_check(o->live.user, p, n, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: %s\n", err);
		return -1;
	}
	return 0;
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
	if (g_stats.chain_cache_evictions)
		fprintf(stderr, "certsentry: more distinct issuer chains than --chain-cache %zu: "
		        "%" PRIu64 " parsed ones let go (least recently used)\n", c.max_issuers,
		        g_stats.chain_cache_evictions);
	certfile_ctx_release(&c);
	if (trouble || c.errors || g_stats.output_err)
		return EXIT_TROUBLE;
	return c.alerts ? EXIT_ALERT : EXIT_CLEAN;
}

static int run_files(const struct options *o, struct engine_opts *eo, struct keylogs *kl)
{
	struct dispatch *d;
	char err[1024];
	int trouble = 0, status;
	int fds[MAX_INPUTS];

	/* With -u every input is opened now, as root, and read (parsed)
	 * only after the drop: no byte of a capture is parsed with
	 * privileges.  Without -u each is opened when its turn comes. */
	for (size_t i = 0; i < o->n_inputs; i++) {
		fds[i] = -1;
		if (o->live.user && (fds[i] = capture_input_open(o->inputs[i], err, sizeof(err))) < 0)
			fprintf(stderr, "certsentry: %s\n", err);
	}
	if (o->live.user && drop_to_user(o) < 0) {
		for (size_t i = 0; i < o->n_inputs; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return EXIT_TROUBLE;
	}
	d = dispatch_new(eo, o->live.workers, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "certsentry: %s\n", err);
		return EXIT_TROUBLE;
	}
	for (size_t i = 0; i < o->n_inputs; i++) {
		if (o->live.user && fds[i] < 0)
			trouble = 1;   /* could not be opened: said above */
		else if (run_input(d, o, o->inputs[i], fds[i], kl,
		                   !o->quiet && isatty(STDERR_FILENO)) < 0)
			trouble = 1;
	}
	if (kl->all && !o->quiet)
		keylog_report(kl->all, stderr);
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

/* The output (with --redis-auth's secret read and let go) and the alert
 * feed: 0, or -1 with the reason said. */
static int open_outputs(struct options *o, struct output **out, struct output_feed **feed)
{
	char err[1024], redis_pw[512] = "";

	if (o->redis_auth_file && read_secret(o->redis_auth_file, redis_pw, sizeof(redis_pw)) < 0)
		return -1;
	if (o->redis_auth_file)
		o->out.redis_auth = redis_pw;
	*out = output_open(&o->out, err, sizeof(err));
	explicit_bzero(redis_pw, sizeof(redis_pw));   /* the sink keeps its own copy */
	o->out.redis_auth = NULL;
	if (!*out) {
		fprintf(stderr, "certsentry: %s\n", err);
		return -1;
	}
	*feed = output_feed_new(&o->feed, err, sizeof(err));
	if (!*feed) {
		fprintf(stderr, "certsentry: %s\n", err);
		return -1;
	}
	return 0;
}

/* What every engine is made with.  eo->coverage is made here (the
 * caller frees it; NULL: not counted). */
static void engine_opts_fill(struct engine_opts *eo, const struct options *o)
{
	eo->lim = &o->lim;
	eo->port_map = o->port_map;
	eo->any_port = o->any_port;
	eo->no_ndpi = o->no_ndpi;
	eo->checksum = o->checksum;
	eo->coverage = coverage_new();
	/* Files' key logs are complete: only live capture waits. */
	eo->keylog_wait_us = o->live.n_ifaces ? (uint64_t)o->keylog_wait_ms * 1000 : 0;
}

/* Certificates, interfaces or files, as the options say: the exit status. */
static int run(struct options *o, struct engine_opts *eo, struct keylogs *kl,
               struct policy **pol)
{
	char bpf[4096];
	int rc;

	/* A filter that does not compile is refused in every mode, in
	 * libpcap's words, before anything is read. */
	if (o->live.bpf && capture_bpf_check(o->live.bpf, bpf, sizeof(bpf)) < 0) {
		fprintf(stderr, "certsentry: --bpf %s: %s\n", o->live.bpf, bpf);
		return EXIT_TROUBLE;
	}
	if (o->live.user && check_user_paths(o) < 0)
		return EXIT_TROUBLE;
	if (o->certs_mode) {
		/* The files are opened by path as they come: readable by -u. */
		if (o->live.user && drop_to_user(o) < 0)
			return EXIT_TROUBLE;
		return run_certs(o, eo);
	}
	if (!o->live.n_ifaces)
		return run_files(o, eo, kl);
	live_use_syslog(o->use_syslog);
	default_bpf(o, bpf, sizeof(bpf));
	o->live.default_bpf = bpf;
	/* Each worker makes its own engine from eo.  A daemon stopped by
	 * SIGTERM exits 0 whatever it saw.  live_run drops to -u once the
	 * interfaces are open (privs_drop). */
	rc = live_run(&o->live, eo, pol) < 0 ? EXIT_TROUBLE : EXIT_CLEAN;
	if (kl->all && !o->quiet)
		keylog_report(kl->all, stderr);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct policy *pol = NULL;
	struct output *out = NULL;
	struct engine_opts eo;
	struct keylogs kl = { NULL, NULL, 0 };
	struct fp_baseline *base = NULL, *learn = NULL;
	struct trust_stores *trust = NULL;
	struct output_feed *feed = NULL;
	char err[1024];
	int status = EXIT_TROUBLE;

	setvbuf(stderr, NULL, _IOLBF, 0);
	memset(&eo, 0, sizeof(eo));
	if (options_parse(argc, argv, &o) < 0)
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
	    load_fingerprints(&o, &base, &learn) < 0 || load_trust(&o, &trust) < 0 ||
	    open_outputs(&o, &out, &feed) < 0)
		goto out;
	engine_opts_fill(&eo, &o);
	eo.pol = pol;
	eo.out = out;
	eo.keylog = kl.all;
	eo.baseline = base;
	eo.learn = learn;
	eo.trust = trust;
	eo.feed = feed;
	status = run(&o, &eo, &kl, &pol);
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
	keylog_free(kl.all);
	trust_free(trust);
	policy_free(pol);
	return status;
}
