/*
 * options.h - the command line (sensor/run/options.c): what main.c runs with.
 * options_parse fills a struct options from argv, with every default,
 * and says what is wrong on standard error; --help and --version are
 * answered there.  The options --help lists are those of the man page
 * (docs/certsentry.8; tests/t_man.sh keeps the three in step).
 */
#ifndef CS_OPTIONS_H
#define CS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cs_limits.h"
#include "engine/engine.h"
#include "secrets/keylog.h"
#include "run/live.h"
#include "event/output.h"
#include "verdict/truststore.h"

#define CS_VERSION    "0.1.0"
#define MAX_INPUTS    256
/* Exit status: 0 no alert, 1 at least one alert, 2 bad usage, unreadable
 * or corrupt input, or invalid rules. */
#define EXIT_CLEAN    0
#define EXIT_ALERT    1
#define EXIT_TROUBLE  2

/* Live capture: a TLS 1.3 handshake waits this long for its secret to be
 * appended to the key log (a browser writes it as it reads the
 * ServerHello, so well within a second).  --keylog-wait */
#define DEF_KEYLOG_WAIT_MS 1000u

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

/* argv into *o: 0, or -1 with the reason said (the caller exits 2). */
int options_parse(int argc, char **argv, struct options *o);

#endif
