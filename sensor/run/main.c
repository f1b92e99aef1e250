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
#include <fcntl.h>
#include <signal.h>
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

#include "capture/capture.h"
#include "capture/decode.h"
#include "run/dispatch.h"
#include "verdict/coverage.h"
#include "engine/engine.h"
#include "core/fileio.h"
#include "verdict/fingerprint.h"
#include "secrets/keylog.h"
#include "core/cs_limits.h"
#include "run/live.h"
#include "event/dedup.h"
#include "event/evidence.h"
#include "event/metrics.h"
#include "run/certfile.h"
#include "run/ctfollow.h"
#include "run/ctlog.h"
#include "event/output.h"
#include "verdict/policy.h"
#include "core/stats.h"
#include "verdict/truststore.h"
#include "run/options.h"
#include "run/inputs.h"
#include "run/summary.h"
#include "run/privs.h"
#include "analyser/tls.h"

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

/* ---- summary and progress ------------------------------------------- */

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

/* The default capture filter: the inspected server ports over TCP and
 * over UDP (QUIC: DNS-over-QUIC on 853, HTTP/3 on 443), bare, 802.1Q-tagged
 * or QinQ-tagged (BPF's "vlan" shifts the offsets of what follows, one tag
 * per "vlan"). */
static void default_bpf(const struct options *o, char *buf, size_t len)
{
	char ports[2048] = "";
	size_t n = 0, used = 0;

	for (unsigned p = 1; p < 65536 && !o->any_port; p++) {
		if (!(o->port_map[p >> 3] & (1u << (p & 7))))
			continue;
		if (++n > 32)
			break;   /* long lists: capture all TCP and UDP, filter in the engine */
		used += (size_t)snprintf(ports + used, sizeof(ports) - used,
		                         "%stcp port %u or udp port %u", used ? " or " : "", p, p);
	}
	if (o->any_port || n > 32 || n == 0)
		snprintf(ports, sizeof(ports), "tcp or udp");
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

/* The rules of --check-rules or --check-config: the policy's summary
 * (full: what each owner protects; else one line) and how each asset
 * will be checked.  0, or -1 said (FILE:LINE). */
static int check_policy(const struct options *o, const char *rules, int full)
{
	char err[1024];
	struct policy *p = policy_load(rules, err, sizeof(err));
	struct fp_baseline *base = NULL, *learn = NULL;
	int rc = 0;

	if (!p) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (full)
		policy_summary(p, stdout);
	else
		printf("rules %s: %zu owner%s\n", rules, policy_owner_count(p),
		       policy_owner_count(p) == 1 ? "" : "s");
	if (load_fingerprints(o, &base, &learn) < 0)
		rc = -1;
	else if (full)
		policy_coverage_plan(p, o->n_keylogs > 0, base, stdout);
	fp_free(base);
	fp_free(learn);
	policy_free(p);
	return rc;
}

static int check_rules(const struct options *o)
{
	return check_policy(o, o->check_rules, 1) < 0 ? EXIT_TROUBLE : EXIT_CLEAN;
}

/* --check-config: the file parsed (options_parse did, with FILE:LINE
 * errors), then what it names that can be checked without running: the
 * rules, the captures, the key logs, the baseline, the filter. */
static int check_config(struct options *o)
{
	char err[1024];
	int bad = 0;

	options_config_summary(o, stdout);
	if (o->rules && check_policy(o, o->rules, 0) < 0)
		bad = 1;
	else if (!o->rules)
		printf("rules: none (-R): handshakes are reported, nothing is judged\n");
	if (inputs_prepare(o) < 0)
		bad = 1;
	for (size_t i = 0; i < o->n_keylogs; i++)
		if (access(o->keylogs[i], R_OK) != 0) {
			fprintf(stderr, "certsentry: --keylog %s: %s\n", o->keylogs[i], strerror(errno));
			bad = 1;
		}
	if (o->live.bpf && capture_bpf_check(o->live.bpf, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --bpf %s: %s\n", o->live.bpf, err);
		bad = 1;
	}
	if (o->ct.loglist && ctfollow_check_list(o->ct.loglist, stdout) < 0)
		bad = 1;
	printf("configuration %s\n", bad ? "NOT valid" : "valid");
	return bad ? EXIT_TROUBLE : EXIT_CLEAN;
}

/* The end of every run: the output drained (or given up on, within its
 * bound) before the summary, so that the summary's delivery counts are
 * final; sum NULL: no summary (--certs says its own line).  Returns the
 * exit status: 2 when anything found was not delivered. */
static int end_of_run(const struct options *o, const struct engine_opts *eo,
                      struct summary_in *sum, int status)
{
	struct output *out = eo->out;
	struct output_delivery dl;
	uint64_t lost, write_err = 0;
	char err[1024];

	/* The windows' last follow-ups are lines too (a no-op when done). */
	if (output_feed_finish(out, eo->feed, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: --state %s\n", err);
		status = EXIT_TROUBLE;
	}
	output_finish(out);
	output_delivery(out, &dl);
	lost = output_undelivered(&dl);
	if (sum && !o->quiet) {
		sum->dl = &dl;
		summary_print(sum, stderr);
	} else if (lost && !o->quiet) {
		output_delivery_print(&dl, stderr);
	}
	if (lost) {
		fprintf(stderr, "certsentry: %" PRIu64 " of %" PRIu64 " events found (%" PRIu64
		        " of %" PRIu64 " alerts) were not delivered to the %s output%s%s\n", lost,
		        dl.found[0] + dl.found[1], output_undelivered_alerts(&dl), dl.found[1], dl.sink,
		        dl.target[0] ? " " : "", dl.target);
		status = EXIT_TROUBLE;
	}
	/* The rest of output_err: evidence files that could not be written. */
	write_err = dl.lost[OUTPUT_LOSS_WRITE_ERROR][0] + dl.lost[OUTPUT_LOSS_WRITE_ERROR][1];
	if (g_stats.output_err > write_err) {
		fprintf(stderr, "certsentry: %" PRIu64 " evidence or event write errors\n",
		        g_stats.output_err - write_err);
		status = EXIT_TROUBLE;
	}
	return status;
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
	struct privs_path p[11 + KEYLOG_MAX_FILES];
	size_t n = 0;
	int live = o->live.n_ifaces > 0;
	char err[1024];

	/* --ct-follow: its state written, its list (and rules, and the
	 * configuration file) read again at SIGHUP, as USER */
	if (o->ct.state_path)
		p[n++] = (struct privs_path){ o->ct.state_path, "--ct-state", PRIVS_WRITE_DIR };
	if (o->ct.loglist)
		p[n++] = (struct privs_path){ o->ct.loglist, "--ct-follow", PRIVS_READ };
	live = live || o->ct.loglist;

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
	if (live && output_reopen_path(&o->out)) {
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
	/* SIGHUP reads the configuration file again, as USER. */
	if (live && o->config)
		p[n++] = (struct privs_path){ o->config, "-c", PRIVS_READ };
	for (size_t i = 0; live && i < o->n_keylogs; i++)
		p[n++] = (struct privs_path){ o->keylogs[i], "--keylog", PRIVS_READ };
	if (privs_check(o->live.user, p, n, err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: %s\n", err);
		return -1;
	}
	return 0;
}

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
	return end_of_run(o, eo, NULL, trouble || c.errors ? EXIT_TROUBLE :
	                                    c.alerts ? EXIT_ALERT : EXIT_CLEAN);
}

/* SIGHUP under --ct-follow: the configuration file read again; the rules
 * path it names (when it changed it) into *rules. */
static int ct_reconfigure(void *ctx, const char **rules)
{
	struct options *o = ctx;
	struct live_reconf rc = { *rules, o->live.stats_interval };

	if (options_reconfigure(o, &rc) < 0)
		return -1;
	*rules = rc.rules;
	return 0;
}

/* --ct-follow: the logs followed until SIGTERM (or, --ct-once, to their
 * heads).  Exit 1 when anything alerted (an entry, or a log caught
 * misbehaving), 2 when a log could not be read or an alert not written. */
static int run_ct_follow(struct options *o, const struct engine_opts *eo, struct policy **pol)
{
	struct ctfollow_totals t;
	struct certfile_ctx c;
	int trouble;

	memset(&c, 0, sizeof(c));
	c.pol = *pol;
	c.trust = eo->trust;
	c.out = eo->out;
	c.feed = eo->feed;
	c.max_certs = o->lim.max_certs;
	c.max_cert_size = o->lim.max_cert_size;
	c.max_issuers = o->lim.chain_cache;
	o->ct.progress = !o->quiet && isatty(STDERR_FILENO);
	if (o->config) {
		o->ct.reconfigure = ct_reconfigure;
		o->ct.reconfigure_ctx = o;
	}
	if (o->live.user && drop_to_user(o) < 0)
		return EXIT_TROUBLE;
	trouble = ctfollow_run(&o->ct, &c, pol, &t) < 0;
	if (!o->quiet)
		fprintf(stderr, "certsentry: ct: %" PRIu64 " logs followed (%" PRIu64 " caught "
		        "misbehaving, %" PRIu64 " unreachable), %" PRIu64 " entries proved and judged, "
		        "%" PRIu64 " chains judged (%" PRIu64 " by names only), %" PRIu64 " alerts, %"
		        PRIu64 " log alerts, %" PRIu64 " errors\n", t.logs, t.logs_failed,
		        t.logs_unreachable, t.entries, c.chains, c.by_names, c.alerts, t.log_alerts,
		        c.errors + t.errors);
	certfile_ctx_release(&c);
	if (trouble || t.logs_unreachable || c.errors || t.errors)
		return end_of_run(o, eo, NULL, EXIT_TROUBLE);
	return end_of_run(o, eo, NULL, c.alerts || t.log_alerts ? EXIT_ALERT : EXIT_CLEAN);
}

/* The summary's inputs that every mode shares.  pol: the rules in force
 * now (live, a reload may have replaced eo->pol's). */
static void summary_fill(struct summary_in *sum, const struct engine_opts *eo,
                         const struct keylogs *kl, const struct policy *pol)
{
	memset(sum, 0, sizeof(*sum));
	sum->kl = kl->kl;
	sum->dsb = kl->dsb;
	sum->baseline = eo->baseline;
	sum->learn = eo->learn;
	sum->cov = eo->coverage;
	sum->owners = pol ? policy_owner_count(pol) : 0;
}

/* Files: one engine on this thread, or --workers threads.  Returns the
 * exit status. */
static int run_files(const struct options *o, struct engine_opts *eo, struct keylogs *kl)
{
	static struct eve_alert_count rows[1024];
	struct summary_in sum;
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
	summary_fill(&sum, eo, kl, eo->pol);
	sum.st = &g_stats;
	sum.rows = rows;
	sum.n_rows = dispatch_alert_table(d, rows, sizeof(rows) / sizeof(rows[0]));
	sum.alerts = dispatch_alert_count(d);
	if (o->stats_set || metrics_path())
		live_write_stats(eo->out, eo->coverage, &g_stats, rows, sum.n_rows, NULL,
		                 o->stats_set);
	status = trouble ? EXIT_TROUBLE : sum.alerts ? EXIT_ALERT : EXIT_CLEAN;
	status = end_of_run(o, eo, &sum, status);
	dispatch_free(d);
	return status;
}

/* The output (its sink reads what it needs, --redis-auth's secret too,
 * now, before privileges are dropped) and the alert feed: 0, or -1 with
 * the reason said. */
static int open_outputs(struct options *o, struct output **out, struct output_feed **feed)
{
	char err[1024];

	*out = output_open(&o->out, err, sizeof(err));
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

/* Interfaces, until SIGTERM.  Each worker makes its own engine from eo.
 * A daemon stopped by SIGTERM exits 0 whatever it saw, unless something
 * it found was not delivered (2), and prints the same summary as a file
 * run (unless -q). */
static int run_live(struct options *o, struct engine_opts *eo, const struct keylogs *kl,
                    struct policy **pol)
{
	static struct live_totals tot;   /* large: the alert rows */
	struct summary_in sum;
	int status;

	memset(&tot, 0, sizeof(tot));
	/* live_run drops to -u once the interfaces are open (privs_drop). */
	status = live_run(&o->live, eo, pol, &tot) < 0 ? EXIT_TROUBLE : EXIT_CLEAN;
	if (kl->all && !o->quiet)
		keylog_report(kl->all, stderr);
	summary_fill(&sum, eo, kl, *pol);
	sum.st = &tot.st;
	sum.rows = tot.rows;
	sum.n_rows = tot.n_rows;
	sum.alerts = tot.alerts;
	/* An interface that never opened saw nothing to sum up. */
	status = end_of_run(o, eo, status == EXIT_TROUBLE && !tot.st.pkts ? NULL : &sum,
	                    status);
	live_totals_release(&tot);
	return status;
}

/* Certificates, interfaces or files, as the options say: the exit status. */
static int run(struct options *o, struct engine_opts *eo, struct keylogs *kl,
               struct policy **pol)
{
	char bpf[3 * 2048 + 64];

	/* A filter that does not compile is refused in every mode, in
	 * libpcap's words, before anything is read. */
	if (o->live.bpf && capture_bpf_check(o->live.bpf, bpf, sizeof(bpf)) < 0) {
		fprintf(stderr, "certsentry: --bpf %s: %s\n", o->live.bpf, bpf);
		return EXIT_TROUBLE;
	}
	if (o->live.user && check_user_paths(o) < 0)
		return EXIT_TROUBLE;
	if (o->ct.loglist)
		return run_ct_follow(o, eo, pol);
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
	return run_live(o, eo, kl, pol);
}

/* Descriptors 0-2 started closed get /dev/null, so that no file opened
 * later takes their number (events written into a capture file, or a
 * rules file read as standard input).  Returns 1 when standard output
 * was closed: the output must then refuse every line rather than write
 * into /dev/null (sink.c). */
static int stdio_reserve(void)
{
	int out_closed = fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF;

	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	return out_closed;
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
	int status = EXIT_TROUBLE, stdout_closed;

	setvbuf(stderr, NULL, _IOLBF, 0);
	/* A reader that goes away (| head) is a write error like any other,
	 * counted and said, not a silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	stdout_closed = stdio_reserve();
	memset(&eo, 0, sizeof(eo));
	if (options_parse(argc, argv, &o) < 0)
		return EXIT_TROUBLE;
	o.out.stdout_closed = stdout_closed;
	metrics_set_path(o.metrics);
	/* SIGHUP reads the file again (live.c). */
	if (o.config) {
		o.live.reconfigure = options_reconfigure;
		o.live.reconfigure_ctx = &o;
	}
	if (o.check_config) {
		status = check_config(&o);
		goto out;
	}
	if (o.check_rules) {
		status = check_rules(&o);
		goto out;
	}
	/* Every capture there and readable before anything runs. */
	if (inputs_prepare(&o) < 0)
		goto out;
	if (metrics_check(err, sizeof(err)) < 0) {
		fprintf(stderr, "certsentry: %s\n", err);
		goto out;
	}
	if (o.rules) {
		pol = policy_load(o.rules, err, sizeof(err));
		if (!pol) {
			fprintf(stderr, "%s\n", err);
			goto out;
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
	options_release(&o);
	return status;
}
