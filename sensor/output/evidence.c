/*
 * evidence.c - the chain and packets of an alert, kept as files (see
 * include/evidence.h).  Part of the output stage.  PEM is written with
 * OpenSSL's PEM_write (the DER as sent, parsed or not: an unparsable
 * certificate is evidence too); the pcap by hand, as capture.c reads it.
 *
 * Must not: decide which alerts keep evidence (the feed does).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "evidence.h"
#include "stats.h"

#define PCAP_MAGIC_US   0xa1b2c3d4u
#define LINKTYPE_RAW    101u          /* IPv4 or IPv6, no link header */
#define PCAP_SNAPLEN    262144u
#define REC_HDR         12u           /* ts_us:8 + len:4 in the log */

/* ---- the per-flow packet log ---------------------------------------------- */

void evidence_log_add(struct evidence_log *l, uint64_t ts_us, const uint8_t *l3, size_t len,
                      size_t flow_cap, uint64_t total_memcap)
{
	size_t need;

	if (len > PCAP_SNAPLEN || len + REC_HDR > flow_cap || l->len > flow_cap - len - REC_HDR) {
		l->dropped++;
		return;
	}
	need = l->len + REC_HDR + len;
	if (need > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		if (cap > flow_cap)
			cap = flow_cap;
		if (g_stats.mem_in_use + (cap - l->cap) > total_memcap) {
			l->dropped++;
			return;
		}
		nb = realloc(l->buf, cap);   /* owned by the log; evidence_log_free */
		if (!nb) {
			l->dropped++;
			return;
		}
		stats_mem_add(cap - l->cap);
		l->buf = nb;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, &ts_us, 8);
	memcpy(l->buf + l->len + 8, &(uint32_t){ (uint32_t)len }, 4);
	memcpy(l->buf + l->len + REC_HDR, l3, len);
	l->len = need;
	l->n++;
}

void evidence_log_free(struct evidence_log *l)
{
	if (l->buf)
		stats_mem_sub(l->cap);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* ---- the directory -------------------------------------------------------- */

struct evidence {
	pthread_mutex_t lock;       /* workers share one */
	char *dir;                  /* owned */
	uint64_t budget, used;
	int said_error;
};

struct evidence *evidence_open(const char *dir, uint64_t budget, char *err, size_t errlen)
{
	struct evidence *ev;
	struct stat sb;

	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) < 0) {
		snprintf(err, errlen, "%s: %s", dir,
		         errno ? strerror(errno) : "not a writable directory");
		return NULL;
	}
	if (strlen(dir) > EVIDENCE_PATH_MAX - 80) {
		snprintf(err, errlen, "%s: path too long", dir);
		return NULL;
	}
	ev = calloc(1, sizeof(*ev));   /* owned by the caller */
	if (!ev || !(ev->dir = strdup(dir))) {
		free(ev);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ev->lock, NULL);
	ev->budget = budget;
	return ev;
}

void evidence_close(struct evidence *ev)
{
	if (!ev)
		return;
	pthread_mutex_destroy(&ev->lock);
	free(ev->dir);
	free(ev);
}

static uint64_t pem_size(const struct tls_cert *certs, size_t n)
{
	uint64_t s = 0;

	/* base64 (4 per 3), a newline per 64 characters, BEGIN and END lines */
	for (size_t i = 0; i < n; i++)
		s += (certs[i].len + 2) / 3 * 4 + certs[i].len / 48 + 2 + 60;
	return s;
}

static uint64_t pcap_size(const struct evidence_log *l)
{
	return 24 + (l ? l->len + (uint64_t)l->n * 4 : 0);
}

/* The file's contents, to f; 0, or -1 when a write failed. */
typedef int (*evidence_body_fn)(FILE *f, const void *ctx);

/* Write to path.tmp, then rename: a reader never sees half a file.  0 or -1. */
static int write_atomic(const char *path, evidence_body_fn body, const void *ctx)
{
	char tmp[EVIDENCE_PATH_MAX + 8];
	FILE *f;
	int bad;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (!f)
		return -1;
	bad = body(f, ctx);
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

struct pem_body {
	const struct tls_cert *certs;
	size_t n;
};

static int pem_body(FILE *f, const void *ctx)
{
	const struct pem_body *b = ctx;

	for (size_t i = 0; i < b->n; i++)
		if (PEM_write(f, "CERTIFICATE", "", b->certs[i].data, (long)b->certs[i].len) <= 0)
			return -1;
	return 0;
}

static int put32(FILE *f, uint32_t v)
{
	return fwrite(&v, 4, 1, f) == 1 ? 0 : -1;   /* host order, as the magic */
}

static int pcap_body(FILE *f, const void *ctx)
{
	const struct evidence_log *l = ctx;
	int bad = 0;

	bad |= put32(f, PCAP_MAGIC_US);
	bad |= fwrite(&(uint16_t){ 2 }, 2, 1, f) == 1 ? 0 : -1;   /* version 2.4 */
	bad |= fwrite(&(uint16_t){ 4 }, 2, 1, f) == 1 ? 0 : -1;
	bad |= put32(f, 0) | put32(f, 0) | put32(f, PCAP_SNAPLEN) | put32(f, LINKTYPE_RAW);
	for (size_t off = 0; l && off < l->len && !bad;) {
		uint64_t ts;
		uint32_t len;

		memcpy(&ts, l->buf + off, 8);
		memcpy(&len, l->buf + off + 8, 4);
		bad |= put32(f, (uint32_t)(ts / 1000000u)) | put32(f, (uint32_t)(ts % 1000000u));
		bad |= put32(f, len) | put32(f, len);
		bad |= fwrite(l->buf + off + REC_HDR, 1, len, f) == len ? 0 : -1;
		off += REC_HDR + len;
	}
	return bad ? -1 : 0;
}

int evidence_write(struct evidence *ev, const char *chain_sha256, const struct tls_cert *certs,
                   size_t n_certs, const struct evidence_log *pkts,
                   char pem[EVIDENCE_PATH_MAX], char pcap[EVIDENCE_PATH_MAX])
{
	uint64_t need = pem_size(certs, n_certs) + pcap_size(pkts);
	struct pem_body pb = { certs, n_certs };
	struct stat sb;
	int rc = 1;

	snprintf(pem, EVIDENCE_PATH_MAX, "%s/%.64s.pem", ev->dir, chain_sha256);
	snprintf(pcap, EVIDENCE_PATH_MAX, "%s/%.64s.pcap", ev->dir, chain_sha256);
	pthread_mutex_lock(&ev->lock);
	if (stat(pem, &sb) == 0 && stat(pcap, &sb) == 0)
		goto out;   /* the first alert of this chain wrote them (this run or earlier) */
	if (need > ev->budget - ev->used || ev->used > ev->budget) {
		g_stats.evidence_budget++;
		rc = 0;
		goto out;
	}
	if (write_atomic(pem, pem_body, &pb) < 0 || write_atomic(pcap, pcap_body, pkts) < 0) {
		if (!ev->said_error)
			fprintf(stderr, "certsentry: --evidence %s: %s\n", ev->dir, strerror(errno));
		ev->said_error = 1;
		g_stats.output_err++;
		rc = -1;
		goto out;
	}
	ev->used += need;
	g_stats.evidence_written++;
out:
	pthread_mutex_unlock(&ev->lock);
	return rc;
}
