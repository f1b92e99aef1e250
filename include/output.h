/*
 * output.h - EVE JSON lines, in the form Suricata writes them.
 *
 * Outputs are a table of function pointers (as zmap's output modules):
 * adding a socket or syslog sink adds one table.  Every line is written
 * whole and flushed, so a crash or a kill never loses an alert already
 * decided.  JSON is built with jansson only (never hand-escaped).
 */
#ifndef CS_OUTPUT_H
#define CS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "policy.h"
#include "tls.h"
#include "x509.h"

/* Alert signature ids, stable per verdict (gid 1). */
#define OUTPUT_SID_BASE 2900000

struct output;

struct output_sink {
	const char *name;
	int (*open)(struct output *o, const char *arg);
	int (*write)(struct output *o, const char *line, size_t len);
	int (*reopen)(struct output *o);
	void (*close)(struct output *o);
};

/* A finished handshake, as the engine hands it over.  All views. */
struct hs_event {
	uint64_t ts_us;
	uint64_t flow_id;
	int family;                       /* 4 or 6 */
	const uint8_t *client_ip, *server_ip;
	uint16_t client_port, server_port;
	const uint16_t *vlan;
	int n_vlan;
	const char *capture_file;         /* NULL for live capture */
	const struct tls_session *tls;
	enum policy_hs hs;
	const char *hs_note;              /* why a handshake is incomplete, or NULL */
	int stream_mismatch;              /* retransmitted bytes differed */
	const struct x509_info *certs;
	size_t n_certs;
	const struct policy_result *res;
	size_t n_res;
	const struct classify_result *ndpi;
};

struct output_opts {
	const char *path;                 /* NULL or "-": standard output */
	int tls_chain;                    /* include tls.chain in tls events too */
};

/* NULL with err set when the output cannot be opened. */
struct output *output_open(const struct output_opts *opts, char *err, size_t errlen);
void output_close(struct output *o);
int output_reopen(struct output *o);

/* Write the tls event and one alert per alerting owner.  Returns the
 * number of alerts written, or -1 on a write error (counted). */
int output_handshake(struct output *o, const struct hs_event *ev);

/* Signature id and text of an alert verdict. */
int output_sid(enum verdict v);

#endif
