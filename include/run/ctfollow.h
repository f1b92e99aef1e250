/*
 * ctfollow.h - follow Certificate Transparency logs live (--ct-follow
 * LOGLIST): every usable log of a browser's log list, RFC 6962 logs
 * through get-sth, get-sth-consistency and get-entries, static-ct-api
 * logs through their checkpoint and tiles; every head's signature
 * checked with the log's key, successive heads proved consistent, every
 * entry read hashed into the tree of a signed head before it is judged
 * (by the same judge and into the same alerts as --ct-json); a log that
 * fails any of it is an alert of its own and the others are still
 * followed.  Each log's position and last verified head are kept in a
 * state file, written atomically, so a restart continues where the last
 * run stopped.
 */
#ifndef CS_CTFOLLOW_H
#define CS_CTFOLLOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run/certfile.h"
#include "verdict/policy.h"

/* Defaults (each an option). */
#define CTF_DEF_POLL_S      60u     /* --ct-poll: seconds between heads once caught up */
#define CTF_DEF_PARALLEL    4u      /* --ct-parallel: requests in flight a log */
#define CTF_DEF_RATE        20u     /* --ct-rate: requests a second a log (0: no bound) */
#define CTF_DEF_BATCH       16384u  /* --ct-batch: entries proved to a head at a time */
#define CTF_MAX_BATCH       65536u
/* Bytes of one get-entries answer or data tile read at most. */
#define CTF_MAX_PAGE_BYTES  (64u * 1024u * 1024u)
/* Back-off after a failed request: doubling from 1 s up to this. */
#define CTF_MAX_BACKOFF_S   300u
/* A Retry-After longer than this is cut to it. */
#define CTF_MAX_RETRY_AFTER_S 3600u
/* --ct-once: consecutive failed requests after which a log is given up. */
#define CTF_ONCE_MAX_FAILURES 4u
/* Issuer certificates a static-ct-api log's entries name, kept. */
#define CTF_MAX_ISSUERS     100000u
/* Bytes of an issuer certificate fetched at most. */
#define CTF_MAX_ISSUER_BYTES (64u * 1024u)
/* The state file. */
#define CTF_STATE_MAX_BYTES (16u * 1024u * 1024u)

struct ctfollow_opts {
	const char *loglist;        /* the log list file */
	const char *state_path;     /* NULL: no state kept */
	const char *from;           /* --ct-from INDEX|DATE; NULL: each log's head */
	int once;                   /* --ct-once: to the first head, then exit */
	unsigned poll_s, parallel, rate, batch;
	const char *ca_file;        /* --ct-ca-file; NULL: the system's store */
	unsigned stats_interval;    /* seconds; 0: stats only at exit */
	int stats_set;              /* --stats-interval given: write stats events */
	int progress;               /* a progress line on the terminal */
	int quiet;
	const char *rules;          /* -R, read again on SIGHUP */
	/* SIGHUP: the configuration file read again (options.c), or NULL */
	int (*reconfigure)(void *ctx, const char **rules);
	void *reconfigure_ctx;
};

/* --ct-from: an entry index (decimal), or a date, YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SSZ (UTC): the first entry the log timestamped then or
 * later, found by a binary search of the log's timestamps.  0 with
 * *index (UINT64_MAX for a date) and *date_ms (UINT64_MAX for an index),
 * or -1 with err. */
int ctfollow_parse_from(const char *s, uint64_t *index, uint64_t *date_ms, char *err,
                        size_t errlen);

/* --check-config: the log list read and summed up on out ("log list
 * PATH: N logs, M followed, K refused"), its errors on stderr.  0, or -1
 * when it cannot be read or names no log to follow. */
int ctfollow_check_list(const char *path, FILE *out);

/* What a run found, for the summary and the exit status. */
struct ctfollow_totals {
	uint64_t logs, logs_failed, logs_unreachable, entries, alerts, log_alerts, errors;
};

/* Follow until SIGTERM/SIGINT (or, --ct-once, until every log reached
 * the head first fetched).  *pol may be replaced on SIGHUP (the caller
 * frees what is there at the end).  0, or -1 when the run could not
 * start (said on stderr). */
int ctfollow_run(const struct ctfollow_opts *o, struct certfile_ctx *c, struct policy **pol,
                 struct ctfollow_totals *t);

#endif
