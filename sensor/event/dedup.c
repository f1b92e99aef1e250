/*
 * dedup.c - alert windows (see include/event/dedup.h).  Part of the output
 * stage: it decides whether an alert line is written, never what it says.
 *
 * A hash table of entries keyed by SHA-256 of (owner, verdict, chain,
 * server address and port), plus a list in the order windows opened, so
 * that closing windows looks at the list's head only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <time.h>

#include "event/dedup.h"
#include "core/digest.h"
#include "core/fileio.h"
#include "verdict/rules.h"
#include "core/stats.h"

/* An owner name and its NUL (rules.c enforces the length). */
#define DEDUP_OWNER_CAP (RULES_MAX_OWNER_NAME + 1)

struct dedup_entry {
	uint8_t key[32];
	char owner[DEDUP_OWNER_CAP];
	char chain[65];                  /* "" for no chain */
	uint8_t verdict;
	uint8_t family;
	uint8_t ip[16];
	uint16_t port;
	uint8_t proto;                   /* the first sighting's transport */
	uint16_t vlan[DEDUP_MAX_VLAN];
	uint8_t n_vlan;
	uint8_t client_ip[16];
	uint16_t client_port;
	int severity;
	uint64_t first_flow_id;
	uint64_t window_start, first, last;
	uint64_t count, reported;        /* sightings; those already reported */
	struct dedup_entry *hnext;       /* bucket chain */
	TAILQ_ENTRY(dedup_entry) order;  /* oldest window first */
};

TAILQ_HEAD(dedup_list, dedup_entry);

struct dedup {
	pthread_mutex_t lock;
	uint64_t window;
	size_t max_keys, n;
	size_t n_buckets;                /* a power of two */
	struct dedup_entry **buckets;    /* owned */
	struct dedup_list order;         /* the entries, owned through it */
	/* A damaged --state file, counted in the g_stats of the thread
	 * that next uses the table (hand_counts): the load runs before the
	 * workers exist, and live mode's stats event sums the workers'
	 * counters only. */
	uint64_t pending_corrupt, pending_lines;
};

struct dedup *dedup_new(uint64_t window_us, size_t max_keys)
{
	struct dedup *d = calloc(1, sizeof(*d));   /* owned by the caller */
	size_t nb = 64;

	if (!d)
		return NULL;
	while (nb < max_keys && nb < ((size_t)1 << 30))
		nb <<= 1;
	d->buckets = calloc(nb, sizeof(*d->buckets));
	if (!d->buckets) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->n_buckets = nb;
	d->window = window_us;
	d->max_keys = max_keys;
	TAILQ_INIT(&d->order);
	return d;
}

void dedup_free(struct dedup *d)
{
	struct dedup_entry *e;

	if (!d)
		return;
	while ((e = TAILQ_FIRST(&d->order)) != NULL) {
		TAILQ_REMOVE(&d->order, e, order);
		free(e);
	}
	free(d->buckets);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

size_t dedup_size(const struct dedup *d)
{
	return d ? d->n : 0;
}

/* ---- keys ------------------------------------------------------------ */

static void make_key(const char *owner, unsigned verdict, const char *chain, int family,
                     const uint8_t *ip, uint16_t port, const uint16_t *vlan, int n_vlan,
                     uint8_t key[32])
{
	uint8_t buf[DEDUP_OWNER_CAP + 1 + 65 + 1 + 16 + 2 + 1 + 2 * DEDUP_MAX_VLAN];
	size_t n = 0, ol = strnlen(owner, DEDUP_OWNER_CAP - 1);
	size_t cl = chain ? strnlen(chain, 64) : 0;

	memcpy(buf + n, owner, ol);
	n += ol;
	buf[n++] = 0;
	buf[n++] = (uint8_t)verdict;
	memcpy(buf + n, chain ? chain : "", cl);
	n += cl;
	buf[n++] = (uint8_t)family;
	memset(buf + n, 0, 16);
	memcpy(buf + n, ip, family == 4 ? 4 : 16);
	n += 16;
	buf[n++] = (uint8_t)(port >> 8);
	buf[n++] = (uint8_t)port;
	buf[n++] = (uint8_t)n_vlan;
	for (int i = 0; i < n_vlan && i < DEDUP_MAX_VLAN; i++) {
		buf[n++] = (uint8_t)(vlan[i] >> 8);
		buf[n++] = (uint8_t)vlan[i];
	}
	digest_sha256(buf, n, key);
}

static size_t bucket(const struct dedup *d, const uint8_t key[32])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	return (size_t)(h & (d->n_buckets - 1));
}

static struct dedup_entry *lookup(const struct dedup *d, const uint8_t key[32])
{
	struct dedup_entry *e = d->buckets[bucket(d, key)];

	while (e && memcmp(e->key, key, 32) != 0)
		e = e->hnext;
	return e;
}

static void unlink_entry(struct dedup *d, struct dedup_entry *e)
{
	struct dedup_entry **pp = &d->buckets[bucket(d, e->key)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	TAILQ_REMOVE(&d->order, e, order);
	d->n--;
}

static void insert_entry(struct dedup *d, struct dedup_entry *e)
{
	size_t b = bucket(d, e->key);

	e->hnext = d->buckets[b];
	d->buckets[b] = e;
	TAILQ_INSERT_TAIL(&d->order, e, order);
	d->n++;
}

/* Under the lock: the load's counts into this thread's counters. */
static void hand_counts(struct dedup *d)
{
	if (d->pending_corrupt | d->pending_lines) {
		g_stats.state_corrupt += d->pending_corrupt;
		g_stats.state_lines_bad += d->pending_lines;
		d->pending_corrupt = d->pending_lines = 0;
	}
}

/* ---- reporting ------------------------------------------------------- */

static void report(const struct dedup *d, struct dedup_entry *e, const char *why,
                   dedup_report_fn fn, void *ctx)
{
	struct dedup_report r;

	if (e->count <= e->reported)
		return;   /* nothing since the alert or the last follow-up */
	r.owner = e->owner;
	r.verdict = (enum verdict)e->verdict;
	r.chain_sha256 = e->chain;
	r.family = e->family;
	r.server_ip = e->ip;
	r.server_port = e->port;
	r.proto = e->proto;
	r.vlan = e->vlan;
	r.n_vlan = e->n_vlan;
	r.first_client_ip = e->client_ip;
	r.first_client_port = e->client_port;
	r.severity = e->severity;
	r.first_flow_id = e->first_flow_id;
	r.window_start_us = e->window_start;
	r.window_end_us = e->window_start + d->window;
	r.first_us = e->first;
	r.last_us = e->last;
	r.count = e->count;
	r.new_since = e->count - e->reported;
	r.why = why;
	e->reported = e->count;
	if (fn)
		fn(ctx, &r);
}

static void expire_locked(struct dedup *d, uint64_t now, dedup_report_fn fn, void *ctx)
{
	struct dedup_entry *e;

	while ((e = TAILQ_FIRST(&d->order)) != NULL && now >= e->window_start + d->window) {
		unlink_entry(d, e);
		report(d, e, "window", fn, ctx);
		free(e);
	}
}

void dedup_expire(struct dedup *d, uint64_t now_us, dedup_report_fn fn, void *ctx)
{
	pthread_mutex_lock(&d->lock);
	hand_counts(d);
	expire_locked(d, now_us, fn, ctx);
	pthread_mutex_unlock(&d->lock);
}

/* The first sighting: a new entry (the oldest goes when the table is
 * full).  0, or -1 when out of memory (the alert is written anyway). */
static int open_window(struct dedup *d, const struct dedup_alert *a, const uint8_t key[32],
                       dedup_report_fn fn, void *ctx)
{
	struct dedup_entry *e;

	if (d->n >= d->max_keys && (e = TAILQ_FIRST(&d->order)) != NULL) {
		g_stats.dedup_evicted++;
		unlink_entry(d, e);
		report(d, e, "table full", fn, ctx);
		free(e);
	}
	e = calloc(1, sizeof(*e));   /* owned by the table */
	if (!e)
		return -1;
	memcpy(e->key, key, 32);
	snprintf(e->owner, sizeof(e->owner), "%s", a->owner);
	snprintf(e->chain, sizeof(e->chain), "%s", a->chain_sha256 ? a->chain_sha256 : "");
	e->verdict = (uint8_t)a->verdict;
	e->family = (uint8_t)a->family;
	memcpy(e->ip, a->server_ip, a->family == 4 ? 4 : 16);
	e->port = a->server_port;
	e->proto = a->proto == IPPROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	e->n_vlan = (uint8_t)(a->n_vlan < DEDUP_MAX_VLAN ? a->n_vlan : DEDUP_MAX_VLAN);
	for (int i = 0; i < e->n_vlan; i++)
		e->vlan[i] = a->vlan[i];
	if (a->client_ip)
		memcpy(e->client_ip, a->client_ip, a->family == 4 ? 4 : 16);
	e->client_port = a->client_port;
	e->severity = a->severity;
	e->first_flow_id = a->flow_id;
	e->window_start = e->first = e->last = a->ts_us;
	e->count = e->reported = 1;
	insert_entry(d, e);
	return 0;
}

int dedup_see(struct dedup *d, const struct dedup_alert *a, dedup_report_fn fn, void *ctx)
{
	struct dedup_entry *e;
	uint8_t key[32];
	int first = 1;

	make_key(a->owner, a->verdict, a->chain_sha256, a->family, a->server_ip, a->server_port,
	         a->vlan, a->n_vlan < DEDUP_MAX_VLAN ? a->n_vlan : DEDUP_MAX_VLAN, key);
	pthread_mutex_lock(&d->lock);
	hand_counts(d);
	expire_locked(d, a->ts_us, fn, ctx);
	e = lookup(d, key);
	if (e) {
		/* Workers' packet times interleave: a sighting a little older
		 * than the last one is still in the window. */
		e->count++;
		if (a->ts_us > e->last)
			e->last = a->ts_us;
		if (a->ts_us < e->first)
			e->first = a->ts_us;
		first = 0;
	} else {
		(void)open_window(d, a, key, fn, ctx);
	}
	pthread_mutex_unlock(&d->lock);
	return first;
}

void dedup_final(struct dedup *d, int keep, dedup_report_fn fn, void *ctx)
{
	struct dedup_entry *e;

	pthread_mutex_lock(&d->lock);
	hand_counts(d);
	TAILQ_FOREACH(e, &d->order, order)
		report(d, e, "exit", fn, ctx);
	if (!keep)
		while ((e = TAILQ_FIRST(&d->order)) != NULL) {
			unlink_entry(d, e);
			free(e);
		}
	pthread_mutex_unlock(&d->lock);
}

/* ---- state file -------------------------------------------------------- */

/* One entry a line, fields separated by one space:
 *   window_start first last count reported verdict chain|- family ip port
 *   proto vlans|- client_ip client_port severity first_flow_id owner
 * (proto "tcp" or "udp"; a version 1 file has no proto field: TCP)
 * times in microseconds since the epoch; verdict by name; addresses
 * printed; VLAN ids comma-separated. */
static int save_entry(FILE *f, const struct dedup_entry *e)
{
	char ip[INET6_ADDRSTRLEN], cip[INET6_ADDRSTRLEN], vl[16] = "-";
	int af = e->family == 4 ? AF_INET : AF_INET6;

	if (!inet_ntop(af, e->ip, ip, sizeof(ip)) || !inet_ntop(af, e->client_ip, cip, sizeof(cip)))
		return -1;
	if (e->n_vlan == 1)
		snprintf(vl, sizeof(vl), "%u", e->vlan[0]);
	else if (e->n_vlan == 2)
		snprintf(vl, sizeof(vl), "%u,%u", e->vlan[0], e->vlan[1]);
	return fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	               " %s %s %u %s %u %s %s %s %u %d %" PRIu64 " %s\n",
	               e->window_start, e->first, e->last, e->count, e->reported,
	               verdict_name((enum verdict)e->verdict), e->chain[0] ? e->chain : "-",
	               e->family, ip, e->port, e->proto == IPPROTO_UDP ? "udp" : "tcp", vl, cip,
	               e->client_port, e->severity,
	               e->first_flow_id, e->owner) < 0 ? -1 : 0;
}

/* "-", "N" or "N,M", each at most 4095 (12 bits).  0 or -1. */
static int parse_vlans(const char *s, struct dedup_entry *e)
{
	unsigned a, b;
	char extra;

	e->n_vlan = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	if (sscanf(s, "%u,%u%c", &a, &b, &extra) == 2 && a < 4096 && b < 4096) {
		e->vlan[0] = (uint16_t)a;
		e->vlan[1] = (uint16_t)b;
		e->n_vlan = 2;
		return 0;
	}
	if (sscanf(s, "%u%c", &a, &extra) == 1 && a < 4096) {
		e->vlan[0] = (uint16_t)a;
		e->n_vlan = 1;
		return 0;
	}
	return -1;
}

/* fileio_write_atomic's fill: the header, then the entries, oldest window
 * first (the loader keeps the newest when the file holds more than its
 * table takes). */
static int save_fill(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct dedup *d = ctx;
	const struct dedup_entry *e;
	int bad = 0;

	(void)err;
	(void)errlen;
	if (fprintf(f, "certsentry-dedup %d window %" PRIu64 "\n", DEDUP_STATE_VERSION,
	            d->window) < 0)
		return -1;
	TAILQ_FOREACH(e, &d->order, order)
		if (save_entry(f, e) < 0)
			bad = 1;
	return bad ? -1 : 0;
}

int dedup_save(const struct dedup *d, const char *path, char *err, size_t errlen)
{
	int rc;

	/* Written beside the file, flushed, renamed over it, the directory
	 * flushed: a power cut leaves the old windows or the new ones. */
	pthread_mutex_lock((pthread_mutex_t *)&d->lock);
	rc = fileio_write_atomic(path, 0644, save_fill, (void *)d, err, errlen);
	pthread_mutex_unlock((pthread_mutex_t *)&d->lock);
	return rc;
}

static int verdict_by_name(const char *s, enum verdict *v)
{
	for (int i = 0; i < VERDICT_COUNT; i++)
		if (strcmp(verdict_name((enum verdict)i), s) == 0) {
			*v = (enum verdict)i;
			return 0;
		}
	return -1;
}

static int chain_ok(const char *s)
{
	if (strcmp(s, "-") == 0)
		return 1;
	if (strlen(s) != 64)
		return 0;
	return strspn(s, "0123456789abcdef") == 64;
}

/* One line into a new entry (*over counts the oldest entries dropped to
 * make room).  0, or -1 with why. */
/* A version 1 line (no proto field) is read as a version 2 line whose
 * transport is TCP: the only one version 1 knew. */
static int scan_entry(const char *line, unsigned version, struct dedup_entry *e, char *vname,
                      char *chain, unsigned *family, char *ip, unsigned *port, char *proto,
                      char *vl, char *cip, unsigned *cport, char *owner)
{
	int n = 0;

	if (version == 1) {
		strcpy(proto, "tcp");
		return sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		              " %31s %79s %u %63s %u %23s %63s %u %d %" SCNu64 " %95s %n",
		              &e->window_start, &e->first, &e->last, &e->count, &e->reported, vname,
		              chain, family, ip, port, vl, cip, cport, &e->severity,
		              &e->first_flow_id, owner, &n) == 16 && line[n] == 0 ? 0 : -1;
	}
	return sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	              " %31s %79s %u %63s %u %3s %23s %63s %u %d %" SCNu64 " %95s %n",
	              &e->window_start, &e->first, &e->last, &e->count, &e->reported, vname,
	              chain, family, ip, port, proto, vl, cip, cport, &e->severity,
	              &e->first_flow_id, owner, &n) == 17 && line[n] == 0 ? 0 : -1;
}

static int parse_entry(struct dedup *d, char *line, unsigned version, const char **why,
                       uint64_t *over)
{
	char vname[32], chain[80], ip[64], cip[64], vl[24], owner[96], proto[4];
	unsigned family, port, cport;
	struct dedup_entry e, *ne, *old;
	enum verdict v;

	memset(&e, 0, sizeof(e));
	if (scan_entry(line, version, &e, vname, chain, &family, ip, &port, proto, vl, cip,
	               &cport, owner) < 0) {
		*why = version == 1 ? "expected 16 fields" : "expected 17 fields";
		return -1;
	}
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) {
		*why = "bad value";
		return -1;
	}
	e.proto = proto[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
	if (verdict_by_name(vname, &v) < 0 || !verdict_is_alert(v)) {
		*why = "unknown verdict";
		return -1;
	}
	if (!chain_ok(chain) || (family != 4 && family != 6) || port > 65535 || cport > 65535 ||
	    inet_pton(family == 4 ? AF_INET : AF_INET6, ip, e.ip) != 1 ||
	    inet_pton(family == 4 ? AF_INET : AF_INET6, cip, e.client_ip) != 1 ||
	    parse_vlans(vl, &e) < 0 ||
	    strlen(owner) >= sizeof(e.owner) || e.count == 0 || e.reported > e.count ||
	    e.first > e.last) {
		*why = "bad value";
		return -1;
	}
	e.verdict = (uint8_t)v;
	e.family = (uint8_t)family;
	e.port = (uint16_t)port;
	e.client_port = (uint16_t)cport;
	snprintf(e.owner, sizeof(e.owner), "%s", owner);
	snprintf(e.chain, sizeof(e.chain), "%s", strcmp(chain, "-") ? chain : "");
	make_key(e.owner, e.verdict, e.chain, e.family, e.ip, e.port, e.vlan, e.n_vlan, e.key);
	if (lookup(d, e.key)) {
		*why = "entry given twice";
		return -1;
	}
	ne = malloc(sizeof(*ne));   /* owned by the table */
	if (!ne) {
		*why = "out of memory";
		return -1;
	}
	/* More lines than the table takes (--max-alert-keys lowered since
	 * the file was written, or a file not ours): the file lists the
	 * oldest windows first, so the oldest loaded goes and the newest
	 * stay.  Saved entries were reported before they were saved
	 * (dedup_final), so no count is lost with it. */
	if (d->n >= d->max_keys && (old = TAILQ_FIRST(&d->order)) != NULL) {
		unlink_entry(d, old);
		free(old);
		(*over)++;
	}
	*ne = e;
	insert_entry(d, ne);
	return 0;
}

/* A line of the state file, up to '\n' or the end: at most cap - 1 bytes
 * kept in line (NUL-terminated), the rest read and dropped.  0 at the end
 * with nothing read; else 1 with *len (every byte of the line), *nl (a
 * newline ended it) and *nul (it held a NUL byte). */
static int read_line(FILE *f, char *line, size_t cap, size_t *len, int *nl, int *nul)
{
	size_t n = 0;
	int c;

	*nl = *nul = 0;
	while ((c = getc(f)) != EOF) {
		if (c == '\n') {
			*nl = 1;
			break;
		}
		if (c == 0)
			*nul = 1;
		if (n < cap - 1)
			line[n] = (char)c;
		n++;
	}
	if (n == 0 && !*nl)
		return 0;
	line[n < cap - 1 ? n : cap - 1] = 0;
	*len = n;
	return 1;
}

/* Move a damaged state file out of the way, keeping its bytes for a
 * post-mortem: PATH.corrupt-<UTC time>, -N added when that name is taken
 * (two damaged files in one second).  0 with aside set, or -1. */
static int set_aside(const char *path, char *aside, size_t asidelen)
{
	char stamp[32];
	struct stat sb;
	struct tm tm;
	time_t now = time(NULL);

	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	for (int i = 0; i < 100; i++) {
		int w = i ? snprintf(aside, asidelen, "%s.corrupt-%s-%d", path, stamp, i)
		          : snprintf(aside, asidelen, "%s.corrupt-%s", path, stamp);

		if (w < 0 || (size_t)w >= asidelen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (lstat(aside, &sb) < 0 && errno == ENOENT)
			return rename(path, aside);
	}
	errno = EEXIST;
	return -1;
}

/* The largest state file read: twice the lines of the largest table
 * (--max-alert-keys may have been lowered since it was written). */
static uint64_t state_bound(const struct dedup *d)
{
	uint64_t keys = d->max_keys > DEDUP_DEF_MAX_KEYS ? d->max_keys : DEDUP_DEF_MAX_KEYS;

	return (2 * keys + 1) * DEDUP_STATE_LINE_MAX;
}

int dedup_load(struct dedup *d, const char *path, char *err, size_t errlen)
{
	char line[DEDUP_STATE_LINE_MAX], why_buf[320] = "", aside[4200];
	const char *why = NULL;
	unsigned lineno = 0, first_bad = 0, version = 0;
	uint64_t bad = 0, over = 0, bytes = 0, bound = state_bound(d);
	struct stat sb;
	FILE *f;
	int nl = 1, nul;
	size_t len;

	if (stat(path, &sb) < 0 && errno == ENOENT)
		return 0;   /* the first run */
	/* A regular file of bounded size only: a FIFO left in its place
	 * must not hold the start, /dev/zero must not stream forever. */
	f = fileio_open_regular(path, bound, 0, why_buf, sizeof(why_buf));
	if (!f) {
		/* why_buf starts with the path: said once is enough. */
		size_t pl = strlen(path);

		why = strncmp(why_buf, path, pl) == 0 && why_buf[pl] == ':' ? why_buf + pl + 2
		                                                              : why_buf;
		goto aside;
	}
	pthread_mutex_lock(&d->lock);
	while (read_line(f, line, sizeof(line), &len, &nl, &nul)) {
		const char *lwhy = NULL;

		lineno++;
		bytes += len + (size_t)nl;
		if (bytes > bound)
			lwhy = "the file grew past its bound while read";
		else if (!nl)
			lwhy = "cut short (no newline at the end)";
		else if (nul)
			lwhy = "binary bytes";
		else if (len >= sizeof(line))
			lwhy = "line too long";
		else if (lineno == 1) {
			if (sscanf(line, "certsentry-dedup %u", &version) != 1)
				lwhy = "not a certsentry-dedup state file header";
			else if (version != 1 && version != DEDUP_STATE_VERSION)
				lwhy = "another version of the state file (this sensor reads "
				       "certsentry-dedup 1 and " DEDUP_STATE_VERSION_STR ")";
			else
				continue;
		} else if (version && version != 1 && version != DEDUP_STATE_VERSION) {
			/* Another version's lines are not ours to guess at. */
			lwhy = "another version's entry";
		} else if (parse_entry(d, line, version ? version : DEDUP_STATE_VERSION, &lwhy,
		                       &over) == 0) {
			continue;
		}
		bad++;
		if (!first_bad) {
			first_bad = lineno;
			why = lwhy;
		}
		if (bytes > bound)
			break;
	}
	if (ferror(f) && !why) {
		snprintf(why_buf, sizeof(why_buf), "read error after line %u: %s", lineno,
		         strerror(errno));
		why = why_buf;
	}
	pthread_mutex_unlock(&d->lock);
	fclose(f);
	if (lineno == 0)
		why = "empty";
	if (!why && !over)
		return 0;
	if (!why) {
		snprintf(why_buf, sizeof(why_buf), "more entries than --max-alert-keys %zu: the %"
		         PRIu64 " oldest left out", d->max_keys, over);
		why = why_buf;
	} else if (first_bad) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "line %u: %s", first_bad, why);
		if (bad > 1)
			snprintf(why_buf, sizeof(why_buf), "%s (%" PRIu64 " lines not read)", tmp, bad);
		else
			snprintf(why_buf, sizeof(why_buf), "%s", tmp);
		if (over) {
			size_t w = strlen(why_buf);

			snprintf(why_buf + w, sizeof(why_buf) - w, "; the %" PRIu64 " oldest past "
			         "--max-alert-keys %zu left out", over, d->max_keys);
		}
		why = why_buf;
	}
aside:
	pthread_mutex_lock(&d->lock);
	d->pending_corrupt++;
	d->pending_lines += bad + over;
	pthread_mutex_unlock(&d->lock);
	if (set_aside(path, aside, sizeof(aside)) < 0)
		snprintf(err, errlen, "%s: %s; could not be moved aside (%s), it will be replaced; "
		         "starting with %zu windows read", path, why, strerror(errno), d->n);
	else
		snprintf(err, errlen, "%s: %s; moved aside to %s; starting with %zu windows read",
		         path, why, aside, d->n);
	return 1;
}
