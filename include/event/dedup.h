/*
 * dedup.h - one alert per (owner, verdict, chain SHA-256, server endpoint)
 * per window (DESIGN.md "Feeds").
 *
 * A rogue certificate at a busy endpoint is seen at every connection; a
 * feed that repeats the alert each time gets muted.  The first sighting in
 * a window (--alert-window, packet time) is written as the alert; later
 * ones only raise a count, and when the window closes - or at exit, or
 * when the table is full and the oldest entry must go - the count is
 * written as one follow-up event (event_type "alert_repeat") with the
 * first and last sighting.  Counts are never lost: every sighting is in
 * an alert or a follow-up.  tls events are not deduplicated.
 *
 * The table outlives a rules reload (SIGHUP: it is the output's, not the
 * policy's) and, with --state FILE, a restart: saved at exit, loaded at
 * start (a text file, "certsentry-dedup 1" then one entry a line).
 *
 * One table per output, shared by the workers: every call takes its lock
 * (alerts are rare; packets never reach it).
 */
#ifndef CS_DEDUP_H
#define CS_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#include "verdict/policy.h"

#define DEDUP_DEF_WINDOW_S    3600u      /* --alert-window */
#define DEDUP_DEF_MAX_KEYS    100000u    /* --max-alert-keys */
/* Version 2 adds the first sighting's transport; a version 1 file (every
 * alert over TCP then) is still read. */
#define DEDUP_STATE_VERSION   2
#define DEDUP_STATE_VERSION_STR "2"
/* A state file line longer than this is damaged (a saved line is under
 * 300 bytes).  The file itself is read up to (2 * max(--max-alert-keys,
 * DEDUP_DEF_MAX_KEYS) + 1) lines of this length. */
#define DEDUP_STATE_LINE_MAX  512u
#define DEDUP_MAX_VLAN        2          /* as decode.h DECODE_MAX_VLAN */

/* One sighting of an alert, as output_handshake has it.  Views. */
struct dedup_alert {
	const char *owner;
	enum verdict verdict;
	const char *chain_sha256;     /* hex; NULL or "" for no chain */
	int family;                   /* 4 or 6 */
	const uint8_t *server_ip;     /* 4 or 16 bytes */
	uint16_t server_port;
	uint8_t proto;                /* IPPROTO_TCP or IPPROTO_UDP (QUIC); 0: TCP */
	const uint16_t *vlan;         /* VLAN ids, part of the key as of a flow's */
	int n_vlan;
	const uint8_t *client_ip;     /* the sighting's client (the first one is */
	uint16_t client_port;         /* named in the follow-up, with its flow_id) */
	int severity;                 /* of the alert written (for the follow-up) */
	uint64_t flow_id;
	uint64_t ts_us;
};

/* What a follow-up reports.  Views valid during the callback only. */
struct dedup_report {
	const char *owner;
	enum verdict verdict;
	const char *chain_sha256;     /* "" for no chain */
	int family;
	const uint8_t *server_ip;
	uint16_t server_port;
	uint8_t proto;                /* the first sighting's: IPPROTO_TCP or IPPROTO_UDP */
	const uint16_t *vlan;
	int n_vlan;
	const uint8_t *first_client_ip;
	uint16_t first_client_port;
	int severity;
	uint64_t first_flow_id;
	uint64_t window_start_us, window_end_us;
	uint64_t first_us, last_us;   /* first and last sighting */
	uint64_t count;               /* sightings in the window, the alert included */
	uint64_t new_since;           /* of those, not reported before (by the alert or a follow-up) */
	const char *why;              /* "window", "exit", "table full" */
};

typedef void (*dedup_report_fn)(void *ctx, const struct dedup_report *r);

struct dedup;

/* window_us > 0, max_keys > 0.  NULL when out of memory. */
struct dedup *dedup_new(uint64_t window_us, size_t max_keys);
void dedup_free(struct dedup *d);

/* 1: the first sighting in its window - write the alert; 0: a repeat,
 * added to the entry's count.  Windows that a.ts_us has closed are reported first (fn), and
 * a full table reports and drops its oldest entry. */
int dedup_see(struct dedup *d, const struct dedup_alert *a, dedup_report_fn fn, void *ctx);

/* Report (fn) and drop the entries whose window closed by now_us. */
void dedup_expire(struct dedup *d, uint64_t now_us, dedup_report_fn fn, void *ctx);

/* At exit: report every entry with sightings not yet reported.  With keep
 * the entries stay (marked reported), to be saved for the next run. */
void dedup_final(struct dedup *d, int keep, dedup_report_fn fn, void *ctx);

/* --state FILE.  Save: written atomically and durably (fileio_write_atomic:
 * a temporary beside it, fsync, rename, fsync of the directory), so a
 * power cut leaves the old windows or the new ones; 0, or -1 with err.
 *
 * Load: a missing file is a first run (0).  Saved state that cannot be
 * read whole is never a reason not to start (DESIGN.md "Nothing lost,
 * nothing hidden"): a file that is empty, cut short, holds a damaged or
 * binary line, has another version's header, holds more entries than the
 * table (the newest are kept), or is not a regular file of bounded size,
 * is moved aside to FILE.corrupt-<UTC time YYYYmmddTHHMMSSZ> (its bytes
 * kept for a post-mortem), the entries that could be read are kept, it is
 * counted (g_stats.state_corrupt, state_lines_bad, in the counters of the
 * thread that next uses the table: the stats event sees it in live mode
 * too), and 1 is returned with
 * err set to one line: "FILE: line N: reason; moved aside to ...;
 * starting with N windows read".  Entries loaded keep their windows. */
int dedup_save(const struct dedup *d, const char *path, char *err, size_t errlen);
int dedup_load(struct dedup *d, const char *path, char *err, size_t errlen);

size_t dedup_size(const struct dedup *d);

#endif
