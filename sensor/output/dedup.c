/*
 * dedup.c - alert windows (see include/dedup.h).  Part of the output
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

#include "dedup.h"
#include "digest.h"
#include "rules.h"
#include "stats.h"

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
 *   vlans|- client_ip client_port severity first_flow_id owner
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
	               " %s %s %u %s %u %s %s %u %d %" PRIu64 " %s\n",
	               e->window_start, e->first, e->last, e->count, e->reported,
	               verdict_name((enum verdict)e->verdict), e->chain[0] ? e->chain : "-",
	               e->family, ip, e->port, vl, cip, e->client_port, e->severity,
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

int dedup_save(const struct dedup *d, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	const struct dedup_entry *e;
	FILE *f;
	int bad = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	pthread_mutex_lock((pthread_mutex_t *)&d->lock);
	fprintf(f, "certsentry-dedup %d window %" PRIu64 "\n", DEDUP_STATE_VERSION, d->window);
	TAILQ_FOREACH(e, &d->order, order)
		if (save_entry(f, e) < 0)
			bad = 1;
	pthread_mutex_unlock((pthread_mutex_t *)&d->lock);
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
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

/* One line into a new entry.  0, or -1 with why. */
static int parse_entry(struct dedup *d, char *line, const char **why)
{
	char vname[32], chain[80], ip[64], cip[64], vl[24], owner[96];
	unsigned family, port, cport;
	struct dedup_entry e, *ne;
	enum verdict v;
	int n = 0;

	memset(&e, 0, sizeof(e));
	if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	           " %31s %79s %u %63s %u %23s %63s %u %d %" SCNu64 " %95s %n",
	           &e.window_start, &e.first, &e.last, &e.count, &e.reported, vname, chain,
	           &family, ip, &port, vl, cip, &cport, &e.severity, &e.first_flow_id, owner,
	           &n) != 16 || line[n] != 0) {
		*why = "expected 16 fields";
		return -1;
	}
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
	if (d->n >= d->max_keys) {
		*why = "more entries than --max-alert-keys";
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
	*ne = e;
	insert_entry(d, ne);
	return 0;
}

int dedup_load(struct dedup *d, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned lineno = 0, version = 0;
	int ret = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;   /* the first run */
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&d->lock);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		const char *why = NULL;

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			ret = -1;
			break;
		}
		line[strcspn(line, "\n")] = 0;
		if (lineno == 1) {
			if (sscanf(line, "certsentry-dedup %u", &version) != 1 ||
			    version != DEDUP_STATE_VERSION) {
				snprintf(err, errlen, "%s:1: not a certsentry-dedup %d state file", path,
				         DEDUP_STATE_VERSION);
				ret = -1;
				break;
			}
			continue;
		}
		if (parse_entry(d, line, &why) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			ret = -1;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	if (ret == 0 && lineno == 0) {
		snprintf(err, errlen, "%s: empty state file", path);
		ret = -1;
	}
	fclose(f);
	return ret;
}
