/*
 * engine.h - the pipeline driver: for each packet decode -> flow ->
 * transport (TCP: reassembly) -> analyser (TLS) -> x509 -> policy ->
 * output.  Transports and analysers are tables in engine.c (by IP
 * protocol; analyser.h), so a new one is its folder and a line there.
 * main.c only parses options and hands packets in.
 */
#ifndef CS_ENGINE_H
#define CS_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cs_limits.h"
#include "event/eve_stats.h"
#include "capture/decode.h"
#include "event/output.h"
#include "verdict/policy.h"

/* TCP checksum validation of the segments a handshake is read from, as
 * Suricata's checksum-checks: yes (a segment with a bad checksum is not
 * trusted: the receiver would have dropped it), no, or auto: validate,
 * but trust bad checksums while they are the majority of the checked
 * segments (a capture taken on a host with checksum offload). */
enum engine_checksum { CHECKSUM_AUTO = 0, CHECKSUM_YES, CHECKSUM_NO };

struct engine_opts {
	const struct cs_limits *lim;   /* not owned */
	const struct policy *pol;      /* not owned; may be NULL (no owners) */
	struct output *out;            /* not owned */
	const uint8_t *port_map;       /* 8192-byte bitmap of server ports; not owned */
	int any_port;
	int no_ndpi;
	enum engine_checksum checksum;
	/* TLS 1.3: secrets from key logs and pcapng files; NULL for none.
	 * Not owned; shared by every engine (look-ups take a read lock). */
	struct keylog *keylog;
	/* Live capture: how long a TLS 1.3 handshake whose secret is not in
	 * the key log yet waits for it to be appended (0: not at all, as for
	 * files, whose key logs are complete). */
	uint64_t keylog_wait_us;
	/* What was checked per owner and asset; NULL: not counted.  Not
	 * owned; shared by every engine. */
	struct coverage *coverage;
	/* TLS 1.3 server fingerprints (fingerprint.h): compared with baseline
	 * (--baseline), learned into learn (--learn); NULL for none.  Not
	 * owned; shared by every engine (learning takes a lock). */
	const struct fp_baseline *baseline;
	struct fp_baseline *learn;
	/* Root stores that grade an unapproved chain (--trust-store); NULL:
	 * none loaded.  Not owned; only read, shared by every engine. */
	const struct trust_stores *trust;
	/* Alert windows, tls-log, cert-log, evidence (output.h); NULL: every
	 * line, every time.  Not owned; shared by every engine (its tables
	 * take their own locks). */
	struct output_feed *feed;
};

/* Re-read the key log files at most this often while a handshake waits
 * for its secret. */
#define ENGINE_KEYLOG_REFRESH_US 100000u

/* Is the port one of those inspected (--ports)? */
static inline int engine_port_inspected(const struct engine_opts *o, uint16_t port)
{
	return o->port_map[port >> 3] & (1u << (port & 7));
}

/* Is a decoded segment or datagram for the engine: either port inspected,
 * or any with any_port?  The engine asks once a packet; for UDP before its
 * clock moves, and the dispatcher asks the same before handing a datagram
 * to a worker, so that the rest of a span port's UDP costs this test and
 * no flow, and one engine and several keep the same time. */
static inline int engine_port_wanted(const struct engine_opts *o, const struct pkt *p)
{
	return o->any_port || engine_port_inspected(o, p->sport) ||
	       engine_port_inspected(o, p->dport);
}

struct engine;

struct engine *engine_new(const struct engine_opts *o, char *err, size_t errlen);
void engine_free(struct engine *e);

/* The capture file packets come from (for EVE pcap_filename); NULL live. */
void engine_set_source(struct engine *e, const char *name);

/* Live capture: the interfaces packets are read on, named in EVE's
 * in_iface (a view that outlives the engine; at most ENGINE_MAX_IFACES).
 * Files have none (the default): their events carry no in_iface. */
#define ENGINE_MAX_IFACES 255
void engine_set_ifaces(struct engine *e, const char *const *names, size_t n);
/* The packets that follow were read on interface i of those; a flow
 * keeps the interface of its first packet. */
void engine_set_iface(struct engine *e, size_t i);

/* One captured frame of link type dlt: engine_decode, then engine_decoded. */
void engine_packet(struct engine *e, int dlt, const uint8_t *frame, size_t caplen,
                   uint64_t ts_us);

/* The first half of engine_packet, which needs no engine: count the frame
 * (g_stats: packets, bytes, decoder counters) and decode it into p. */
enum decode_result engine_decode(int dlt, const uint8_t *frame, size_t caplen, uint64_t ts_us,
                                 struct pkt *p);

/* A frame engine_decode already counted and decoded elsewhere: rc is
 * DECODE_TCP, DECODE_UDP or DECODE_FRAG, p's views point into a frame that stays
 * valid until this returns; p may be changed.  The dispatcher decodes
 * each frame once, in the reader thread, and hands the result to a
 * worker's engine (dispatch.c). */
void engine_decoded(struct engine *e, enum decode_result rc, struct pkt *p);

/* Live capture with no packets: let time (wall clock, microseconds)
 * expire idle flows. */
void engine_tick(struct engine *e, uint64_t now_us);

/* Files read by several engines (dispatch.c): capture time has reached
 * now_us in the packets another engine was given.  Idle flows expire as
 * they would have in one engine reading every packet; fragments do not
 * (one engine expires them only when a fragment arrives). */
void engine_advance(struct engine *e, uint64_t now_us);

/* End of input: finish every flow still open (reported as incomplete
 * where the handshake was not decided). */
void engine_flush(struct engine *e);

uint64_t engine_alert_count(const struct engine *e);
/* Alerts by owner and verdict so far (views valid until the next packet).
 * With out NULL, only how many rows there are. */
size_t engine_alert_table(const struct engine *e, struct eve_alert_count *out, size_t max);
/* The same rows in one allocation that outlives the engine: *out (owned
 * by the caller, one free()) holds *n rows and, after them, copies of
 * their owner names.  *out NULL when there are none; -1: out of memory. */
int engine_alert_copy(const struct engine *e, struct eve_alert_count **out, size_t *n);

/* Swap the policy (SIGHUP).  The old one may be freed once this returns:
 * nothing keeps a pointer into it between packets.  -1: out of memory,
 * the old policy stays. */
int engine_set_policy(struct engine *e, const struct policy *pol);
/* "owner verdict count" lines for the summary. */
void engine_print_alerts(const struct engine *e, FILE *f);

#endif
