/*
 * options.h - the command line and the configuration file
 * (sensor/run/options.c): what main.c runs with.  options_parse fills a
 * struct options with every default, then the configuration file's
 * settings (-c FILE, else CERTSENTRY_SYSCONFDIR/certsentry/certsentry.conf
 * when it exists), then argv, which wins; it says what is wrong on
 * standard error; --help and --version are answered there.  The file's
 * names are the long options' (one table, read the same way).  The
 * options --help lists are those of the man page (docs/certsentry.8;
 * tests/t_man.sh keeps the three in step).
 */
#ifndef CS_OPTIONS_H
#define CS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cs_limits.h"
#include "engine/engine.h"
#include "secrets/keylog.h"
#include "run/ctfollow.h"
#include "run/live.h"
#include "event/output.h"
#include "verdict/truststore.h"

#define CS_VERSION    "0.1.0"
/* Captures of one run: -r, operands and the files of -r DIR together. */
#define MAX_INPUTS    4096
/* Options getopt knows: the base table and the sinks' (options.c checks). */
#define OPTIONS_MAX_OPTS 192

/* The configuration file read when no -c is given, if it exists (the
 * packaging passes -DCERTSENTRY_SYSCONFDIR=...; tests set the
 * environment variable CERTSENTRY_CONF instead of touching /etc). */
#ifndef CERTSENTRY_SYSCONFDIR
#define CERTSENTRY_SYSCONFDIR "/etc"
#endif
#define OPTIONS_DEFAULT_CONFIG CERTSENTRY_SYSCONFDIR "/certsentry/certsentry.conf"
/* Exit status: 0 no alert, 1 at least one alert, 2 bad usage, unreadable
 * or corrupt input, or invalid rules. */
#define EXIT_CLEAN    0
#define EXIT_ALERT    1
#define EXIT_TROUBLE  2

/* Live capture: a TLS 1.3 handshake waits this long for its secret to be
 * appended to the key log (a browser writes it as it reads the
 * ServerHello, so well within a second).  --keylog-wait */
#define DEF_KEYLOG_WAIT_MS 1000u

struct options_pool;

/* A setting the configuration file made: which option (index in getopt's
 * table), where, and its value (owned by the options' pool). */
struct options_setting {
	int idx;
	unsigned line;
	const char *value;     /* an option without argument: "yes" or "no" */
};

struct options {
	const char *inputs[MAX_INPUTS];   /* argv, or the pool (a directory's files) */
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
	const char *trust_specs[TRUST_MAX_STORES + 1];   /* --trust-store, in order */
	size_t n_trust;
	struct output_feed_opts feed;
	unsigned alert_window_s;
	int certs_mode;                /* --certs (1), --ct-json (2): the arguments are files */
	uint64_t ct_start;             /* --ct-start */
	size_t ct_max_json;            /* --ct-max-json */
	struct ctfollow_opts ct;       /* --ct-follow and its settings */
	const char **cert_paths;       /* --certs, --ct-json: a view of inputs[] */
	size_t n_cert_paths;
	const char *metrics;           /* --metrics FILE */
	const char *config;            /* the configuration file read; NULL: none */
	int check_config;              /* --check-config */
	/* The rest belongs to options.c. */
	struct options_setting *file_set;   /* owned: the file's settings in force */
	size_t n_file_set;
	uint8_t cli[OPTIONS_MAX_OPTS];      /* 1: given on the command line (by index) */
	int cli_inputs;                     /* the command line names the inputs */
	struct options_pool *pool;          /* owned: strings the options point to */
};

/* argv (and the configuration file) into *o: 0, or -1 with the reason
 * said (the caller exits 2).  options_release frees what it kept. */
int options_parse(int argc, char **argv, struct options *o);
void options_release(struct options *o);

/* s (malloc'd) now belongs to o, freed by options_release: 0, or -1
 * (out of memory: s freed). */
int options_keep(struct options *o, char *s);

/* SIGHUP (live.c, as live_opts.reconfigure; ctx: the struct options):
 * the configuration file read again.  What can change at run time
 * (-R rules, --stats-interval) is written to *rc when the file changed
 * it and the command line does not set it; every other changed setting
 * gets one line "config: NAME changed; restart to apply".  0, or -1 when
 * the file is no longer valid (said as FILE:LINE; nothing changes). */
int options_reconfigure(void *ctx, struct live_reconf *rc);

/* --check-config: the file read and each of its settings, to f. */
void options_config_summary(const struct options *o, FILE *f);

#endif
