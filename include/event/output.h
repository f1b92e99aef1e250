/*
 * output.h - EVE JSON lines, in the form Suricata writes them.
 *
 * Outputs are a table of function pointers (as zmap's output modules):
 * adding a sink adds one file and one registry line (sink.h).  Every line is written
 * whole and flushed, so a crash or a kill never loses an alert already
 * decided.  JSON is written by jsonw.c only (escaping in one place, checked
 * byte for byte against jansson by tests/test_jsonw.c).
 */
#ifndef CS_OUTPUT_H
#define CS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/policy.h"   /* enum verdict, enum policy_hs: by value */
/* The lines go to a sink (struct output): every caller that writes events
 * also opens, drains and closes it, so the two come as one interface. */
#include "sink/sink.h"

/* Only pointed at here. */
struct chain_view;
struct classify_result;
struct evidence_log;
struct fp_result;
struct judge_verdicts;
struct tls_session;

/* Alert signature ids, stable per verdict (gid 1). */
#define OUTPUT_SID_BASE 2900000
/* ... and of a CT log's misbehaviour: this plus enum ev_ct_problem. */
#define OUTPUT_SID_CT_LOG 2900100

/* Where a handshake was seen: the flow and both ends.  Views. */
struct ev_endpoint {
	uint64_t flow_id;
	int family;                       /* 4 or 6 */
	const uint8_t *client_ip, *server_ip;
	uint16_t client_port, server_port;
	const uint16_t *vlan;
	int n_vlan;
	const char *capture_file;         /* NULL for live capture */
	const char *in_iface;             /* live capture: the interface (EVE
	                                     in_iface); NULL for files */
};

/* Where a chain without packets came from (--certs, --ct-json). */
struct ev_origin {
	const char *source;               /* the file (certsentry.source) */
	/* A CT log entry: its index, the log's timestamp (ms since the
	 * epoch) and whether it is a precertificate entry. */
	int ct;
	uint64_t ct_index, ct_timestamp_ms;
	int ct_precert;
	const char *ct_log, *ct_log_url;  /* the log followed (--ct-follow), or NULL */
};

/* What a TLS handshake adds: the parser's session, how far it got, what
 * the transport saw of its bytes, and what was learnt beside it.  A QUIC
 * handshake would add a block of its own.  Views. */
struct ev_tls {
	const struct tls_session *session;
	enum policy_hs hs;
	const char *hs_note;              /* why a handshake is incomplete, or NULL */
	unsigned stream_mismatch;         /* REASM_DIFF_*: a copy's bytes differed */
	uint64_t bad_checksum_bytes;      /* bytes used from bad-checksum segments */
	const struct classify_result *ndpi;   /* valid == 0: no nDPI object */
	const struct fp_result *fp;       /* TLS 1.3 fingerprint check, or NULL */
	const struct evidence_log *pkts;  /* the handshake's packets (--evidence), or NULL */
};

/* A TLS handshake carried by QUIC (RFC 9001): the tls block holds the
 * handshake; this says what QUIC added.  The event is then Suricata's
 * "quic" (proto UDP, app_proto quic, a quic object) with the tls object
 * beside it for the certificates. */
struct ev_quic {
	uint32_t version;                 /* of the connection's Initial packets */
	uint64_t opened;                  /* Initial and Handshake packets opened */
	uint64_t auth_failed;             /* packets that failed authentication (not read) */
};

/* One judged handshake or chain, as the engine, certfile.c and ctlog.c
 * hand it over.  All views.  From packets: endpoint and tls set, origin
 * NULL.  Without packets: origin set, endpoint and tls NULL; then only
 * alerts are written, without the network fields (flow, addresses,
 * ports, handshake). */
struct hs_event {
	uint64_t ts_us;                   /* packet time, or the wall clock for files */
	const struct ev_endpoint *endpoint;
	const struct chain_view *chain;   /* the DER as sent, parsed, and its SHA-256 */
	const struct judge_verdicts *verdicts;   /* judge.h: per owner, and trust */
	const struct ev_origin *origin;
	const struct ev_tls *tls;
	const struct ev_quic *quic;       /* NULL: TLS over TCP (or no handshake) */
};

/* What goes into the feed besides the sink (DESIGN.md "Feeds"): alert
 * windows (dedup.h), which handshakes get a tls event, how often a chain's
 * certificates are written in full, and evidence files (evidence.h). */
enum output_tls_log {
	OUTPUT_TLS_LOG_ALL = 0,       /* every handshake (the default) */
	OUTPUT_TLS_LOG_PROTECTED,     /* handshakes that concern an owner */
	OUTPUT_TLS_LOG_NONE,          /* alerts only */
};
enum output_cert_log {
	OUTPUT_CERT_LOG_ONCE = 0,     /* in full the first time a window sees a
	                                 chain, then by its SHA-256 (the default) */
	OUTPUT_CERT_LOG_EVERY,        /* in full in every tls event */
};

struct output_feed_opts {
	uint64_t alert_window_us;         /* 0: every alert written */
	size_t max_alert_keys;            /* entries of each window table */
	const char *state_path;           /* --state FILE, or NULL */
	enum output_tls_log tls_log;
	enum output_cert_log cert_log;
	const char *evidence_dir;         /* --evidence DIR, or NULL */
	uint64_t evidence_bytes;
};

struct output_feed;

/* NULL with err set when the state file is malformed or the evidence
 * directory unusable. */
struct output_feed *output_feed_new(const struct output_feed_opts *opts, char *err,
                                    size_t errlen);
/* Windows closed by now_us (packet time) get their follow-up events.
 * Cheap when nothing closed; the engine calls it about once a second. */
void output_feed_tick(struct output *o, struct output_feed *f, uint64_t now_us);
/* At exit, once the workers are done: follow-ups for every sighting not
 * yet reported, and the state saved.  Once only (later calls return 0).
 * 0, or -1 with err set (state not saved). */
int output_feed_finish(struct output *o, struct output_feed *f, char *err, size_t errlen);
void output_feed_free(struct output_feed *f);
/* Does the engine keep handshake packets for evidence? */
int output_feed_wants_packets(const struct output_feed *f);

/* Write the tls event and one alert per alerting owner, as the feed says
 * (feed may be NULL: everything, every time).  Returns the number of
 * alerts found - whether their lines were delivered, counted as
 * undelivered (output_delivery), or were repeats in an open window.  A
 * failed line does not stop the lines after it. */
int output_handshake(struct output *o, struct output_feed *feed, const struct hs_event *ev);

/* A CT log that a monitor caught misbehaving (--ct-follow): its own
 * alert, with the evidence a third party can check - the signed heads
 * involved, as the log served them, and the proof.  All views. */
enum ev_ct_problem {
	EV_CT_BAD_SIGNATURE = 0,   /* a head whose signature the log's key does not verify */
	EV_CT_INCONSISTENT,        /* two heads no consistency proof joins: a fork */
	EV_CT_NOT_IN_TREE,         /* entries served that the signed tree does not hold */
	EV_CT_SHRANK,              /* a head smaller than one the log signed before */
	EV_CT_PROBLEM_COUNT
};

struct ev_ct_head {
	uint64_t size, timestamp_ms;
	const uint8_t *root;              /* 32 bytes */
	const uint8_t *sig;               /* the DigitallySigned as served */
	size_t sig_len;
};

struct ev_ct_log_alert {
	uint64_t ts_us;
	enum ev_ct_problem problem;
	const char *name, *url, *operator_name;   /* operator_name may be NULL */
	const uint8_t *log_id;            /* 32 bytes */
	const char *api;                  /* "rfc6962" or "static-ct-api" */
	const char *detail;               /* what failed, in words */
	const struct ev_ct_head *heads;   /* the heads involved, oldest first */
	size_t n_heads;
	const uint8_t (*proof)[32];       /* the consistency proof, or NULL */
	size_t n_proof;
	int has_range;                    /* entries [range_lo, range_hi) concerned */
	uint64_t range_lo, range_hi;
	const char *checkpoint;           /* static-ct-api: the checkpoint as served, or NULL */
	const uint8_t *computed_root;     /* what the entries hash to, or NULL */
	uint64_t computed_size;
};

/* Write it as an alert (severity by problem).  0 delivered or counted
 * as undelivered; -1 when the line could not be built. */
int output_ct_log_alert(struct output *o, const struct ev_ct_log_alert *a);
const char *output_ct_problem_name(enum ev_ct_problem p);

/* EVE's timestamp form, "2024-02-01T10:00:00.123456+0000", UTC. */
#define OUTPUT_TS_LEN 96
void output_format_ts(uint64_t ts_us, char out[OUTPUT_TS_LEN]);

/* Signature id of an alert verdict.  (Its severity is the verdict
 * stage's: verdict_severity, judge.h.) */
int output_sid(enum verdict v);

#endif
