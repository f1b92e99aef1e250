/*
 * follow_int.h - what the CT follower's files share (follow.c: the logs
 * and the loop; ctstate.c: the state file).  Private to
 * sensor/run/follow/.
 */
#ifndef CS_FOLLOW_INT_H
#define CS_FOLLOW_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ct/head.h"
#include "ct/loglist.h"
#include "ct/merkle.h"
#include "ct/tile.h"
#include "run/ctfollow.h"

/* Hash tiles kept a log (the proofs of a batch read a handful). */
#define CTF_TILE_CACHE 64u
/* Ranges of a batch asked again (a log that served fewer entries than
 * asked), at most. */
#define CTF_MAX_HOLES 64u

/* One entry of the batch being read. */
/* One entry of the batch being read.  Its bytes are kept only when its
 * names may concern an owner (certnames.h, read as it arrives): the
 * others are hashed, counted and let go, so a batch costs 32 bytes an
 * entry plus the few entries that will be judged. */
struct fslot {
	int have;
	int passed;                       /* names for no owner: judged by names only */
	uint8_t hash[CT_HASH_LEN];        /* its leaf hash */
	uint8_t *leaf, *extra;            /* RFC 6962: leaf_input and extra_data, decoded (owned) */
	size_t leaf_len, extra_len;
	/* static: the entry's certificate and issuer fingerprints, copied
	 * out of its data tile (owned: cert, fps) */
	uint8_t *cert, *fps;
	size_t cert_len, n_chain;
	uint64_t ts_ms;
	int precert;
};

/* A hash tile of a static log, kept for proofs. */
struct ftile {
	int used;
	unsigned level, width;
	uint64_t index, last_use;
	uint8_t *hashes;                  /* width * 32 bytes (owned) */
};

/* An issuer certificate of a static log, by its SHA-256. */
struct fissuer {
	uint8_t fp[CT_HASH_LEN];
	uint8_t *der;                     /* owned; NULL: asked, not here yet */
	size_t len;
	int asked;                        /* the slot is taken */
	int inflight;                     /* asked of the log, no answer yet */
};

enum fwant { W_NONE = 0, W_HEAD_PROOF, W_START_PROOF, W_BATCH_PROOF };

struct follow;

struct flog {
	struct follow *F;
	struct ct_log_desc d;             /* moved out of the list (owned) */
	int removed;                      /* gone from the list at a reload */
	int failed;                       /* caught misbehaving: no longer followed */
	int done;                         /* --ct-once: reached its first head */
	int unreachable;                  /* --ct-once: given up after failures */
	const char *api_name;
	const char *evidence;             /* a checkpoint's text for the alert being raised */

	/* verified */
	int have_head;
	struct ct_head head;              /* the last head verified */
	int fr_known;
	struct ct_frontier fr;            /* entries [0, fr.size) read and proved */
	uint64_t fr_target;               /* !fr_known: the size whose frontier the next
	                                     head's proof gives */
	uint64_t judge_from;              /* entries below were read for their hash only */
	int started;                      /* where to start was settled */
	uint64_t from;                    /* --ct-from INDEX for this log (UINT64_MAX: none) */
	uint64_t from_ms;                 /* --ct-from DATE (UINT64_MAX: none), until found */
	int searching;                    /* ... by a binary search over [s_lo, s_hi) */
	uint64_t s_lo, s_hi;

	/* in flight */
	int busy;                         /* a head, proof, tile or issuer request */
	struct ct_head cand;              /* a head fetched, signature checked, not proved yet */
	enum fwant want;                  /* a proof to get */
	uint64_t start_size;              /* W_START_PROOF: from this size */

	/* the batch: entries [lo, hi) */
	int in_batch;
	uint64_t lo, hi, next_req, filled;
	struct fslot *slots;              /* hi - lo (owned) */
	unsigned inflight;
	unsigned page;                    /* entries the log serves a request (learnt) */
	uint64_t holes[CTF_MAX_HOLES][2]; /* ranges to ask again */
	unsigned n_holes;
	int issuers_ready;
	struct ct_frontier bfr;           /* the batch hashed onto fr */
	uint64_t tree_for_nodes;          /* static: the tree the node source reads */
	int miss_valid;                   /* static: a hash tile a build needs */
	unsigned miss_level, miss_width;
	uint64_t miss_index;

	struct ftile cache[CTF_TILE_CACHE];
	uint64_t use_clock;
	struct fissuer *iss;              /* open addressing (owned) */
	size_t iss_cap, iss_n, iss_waiting;

	/* timing (monotonic seconds) */
	double next_at;                   /* back-off or Retry-After: nothing before */
	double next_req_at;               /* rate limit */
	double next_poll_at;
	unsigned backoff_s, failures;

	/* counted */
	uint64_t entries, requests, errors, rate_limited, heads;
	uint64_t rate_mark_entries;
	double rate_mark_t, rate;         /* entries a second, over the last interval */
};

struct follow {
	const struct ctfollow_opts *o;
	struct certfile_ctx *c;
	struct cth *http;
	struct flog **logs;               /* owned, each owned */
	size_t n, cap;
	struct ctfollow_totals *t;
	int state_dirty;
	double state_saved_at;
	char ua[96];
};

/* The state file into the logs (matched by log id); a file that cannot
 * be read is moved aside and said, never a reason not to start.  0, or
 * -1 (said) when even that failed. */
int ctstate_load(struct follow *F);
/* Every log's position and head, atomically.  0, or -1 with err. */
int ctstate_save(const struct follow *F, char *err, size_t errlen);

#endif
