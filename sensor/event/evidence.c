/*
 * evidence.c - the chain and packets of an alert, kept as files (see
 * include/event/evidence.h).  Part of the output stage.  PEM is written with
 * OpenSSL's PEM_write (the DER as sent, parsed or not: an unparsable
 * certificate is evidence too); the pcapng by hand (pcapng spec,
 * draft-ietf-opsawg-pcapng: SHB, DSB, IDB, EPBs), as pcapng.c and
 * libpcap read it.
 *
 * Must not: decide which alerts keep evidence (the feed does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "event/evidence.h"
#include "core/fileio.h"
#include "core/stats.h"

/* pcapng block types and fields */
#define PCAPNG_SHB      0x0A0D0D0Au
#define PCAPNG_IDB      0x00000001u
#define PCAPNG_EPB      0x00000006u
#define PCAPNG_DSB      0x0000000Au
#define PCAPNG_BOM      0x1A2B3C4Du   /* written in host order: readers follow it */
#define PCAPNG_TLS_KEYLOG 0x544c534bu /* DSB secrets type "TLSK": NSS key log lines */
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

void evidence_log_secret(struct evidence_log *l, const uint8_t random[TLS13_RANDOM_LEN],
                         const uint8_t *secret, size_t secret_len)
{
	static const char hex[] = "0123456789abcdef";
	char *line;
	size_t n;

	if (secret_len == 0 || secret_len > TLS13_MAX_SECRET)
		return;
	if (!l->keylog) {
		line = malloc(EVIDENCE_KEYLOG_MAX + 1);   /* owned by the log; evidence_log_free */
		if (!line)
			return;   /* the evidence then replays only what is in clear */
		stats_mem_add(EVIDENCE_KEYLOG_MAX + 1);
		l->keylog = line;
	}
	line = l->keylog;
	n = (size_t)snprintf(line, EVIDENCE_KEYLOG_MAX + 1, "SERVER_HANDSHAKE_TRAFFIC_SECRET ");
	for (size_t i = 0; i < TLS13_RANDOM_LEN; i++) {
		line[n++] = hex[random[i] >> 4];
		line[n++] = hex[random[i] & 15];
	}
	line[n++] = ' ';
	for (size_t i = 0; i < secret_len; i++) {
		line[n++] = hex[secret[i] >> 4];
		line[n++] = hex[secret[i] & 15];
	}
	line[n++] = '\n';
	line[n] = 0;
	l->keylog_len = n;
}

void evidence_log_free(struct evidence_log *l)
{
	if (l->buf)
		stats_mem_sub(l->cap);
	free(l->buf);
	if (l->keylog) {
		/* A traffic secret: not left in freed memory. */
		explicit_bzero(l->keylog, EVIDENCE_KEYLOG_MAX + 1);
		stats_mem_sub(EVIDENCE_KEYLOG_MAX + 1);
		free(l->keylog);
	}
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

	if (stat(dir, &sb) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return NULL;
	}
	/* A real create: access(2) answers for the real user, not the one
	 * the sensor runs as. */
	if (fileio_check_writable_dir(dir, err, errlen) < 0)
		return NULL;
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

static size_t pad4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

static uint64_t pcapng_size(const struct evidence_log *l)
{
	uint64_t s = 28 + 20;   /* SHB, IDB */

	if (l && l->keylog)
		s += 20 + pad4(l->keylog_len);
	/* each record: 12 bytes in the log, 32 + padding in the file */
	return s + (l ? l->len + (uint64_t)l->n * (32 - REC_HDR + 3) : 0);
}

/* fileio_write_atomic's fill for CHAIN.pem. */
struct pem_body {
	const struct tls_cert *certs;
	size_t n;
};

static int pem_body(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct pem_body *b = ctx;

	(void)err;
	(void)errlen;
	for (size_t i = 0; i < b->n; i++)
		if (PEM_write(f, "CERTIFICATE", "", b->certs[i].data, (long)b->certs[i].len) <= 0)
			return -1;
	return 0;
}

static int put32(FILE *f, uint32_t v)
{
	return fwrite(&v, 4, 1, f) == 1 ? 0 : -1;   /* host order, as the byte-order magic */
}

static int put16(FILE *f, uint16_t v)
{
	return fwrite(&v, 2, 1, f) == 1 ? 0 : -1;
}

/* n bytes and the zeros that pad them to 32 bits. */
static int put_padded(FILE *f, const void *p, size_t n)
{
	static const uint8_t zero[4];
	size_t pad = pad4(n) - n;

	if (n && fwrite(p, 1, n, f) != n)
		return -1;
	return pad && fwrite(zero, 1, pad, f) != pad ? -1 : 0;
}

/* fileio_write_atomic's fill for CHAIN.pcapng: a Section Header, the
 * Decryption Secrets Block (before any packet: a reader applies secrets
 * to the packets after them), one Interface Description (link type RAW,
 * if_tsresol left at its default, microseconds), an Enhanced Packet Block
 * per packet. */
static int pcapng_body(FILE *f, void *ctx, char *err, size_t errlen)
{
	const struct evidence_log *l = ctx;
	int bad = 0;

	(void)err;
	(void)errlen;
	/* SHB: version 1.0, section length unknown (-1), no options */
	bad |= put32(f, PCAPNG_SHB) | put32(f, 28) | put32(f, PCAPNG_BOM);
	bad |= put16(f, 1) | put16(f, 0) | put32(f, 0xffffffffu) | put32(f, 0xffffffffu);
	bad |= put32(f, 28);
	if (l && l->keylog) {
		uint32_t total = (uint32_t)(20 + pad4(l->keylog_len));

		bad |= put32(f, PCAPNG_DSB) | put32(f, total) | put32(f, PCAPNG_TLS_KEYLOG);
		bad |= put32(f, (uint32_t)l->keylog_len) | put_padded(f, l->keylog, l->keylog_len);
		bad |= put32(f, total);
	}
	/* IDB: link type, reserved, snap length, no options */
	bad |= put32(f, PCAPNG_IDB) | put32(f, 20) | put16(f, LINKTYPE_RAW) | put16(f, 0);
	bad |= put32(f, PCAP_SNAPLEN) | put32(f, 20);
	for (size_t off = 0; l && off < l->len && !bad;) {
		uint64_t ts;
		uint32_t len, total;

		memcpy(&ts, l->buf + off, 8);
		memcpy(&len, l->buf + off + 8, 4);
		total = (uint32_t)(32 + pad4(len));
		/* EPB: interface 0, timestamp (high, low) in microseconds,
		 * captured and original length, the packet, no options */
		bad |= put32(f, PCAPNG_EPB) | put32(f, total) | put32(f, 0);
		bad |= put32(f, (uint32_t)(ts >> 32)) | put32(f, (uint32_t)ts);
		bad |= put32(f, len) | put32(f, len) | put_padded(f, l->buf + off + REC_HDR, len);
		bad |= put32(f, total);
		off += REC_HDR + len;
	}
	return bad ? -1 : 0;
}

int evidence_write(struct evidence *ev, const char *chain_sha256, const struct tls_cert *certs,
                   size_t n_certs, const struct evidence_log *pkts,
                   char pem[EVIDENCE_PATH_MAX], char pcap[EVIDENCE_PATH_MAX])
{
	uint64_t need = pem_size(certs, n_certs) + pcapng_size(pkts);
	struct pem_body pb = { certs, n_certs };
	char err[EVIDENCE_PATH_MAX + 256];
	struct stat sb;
	int rc = 1;

	snprintf(pem, EVIDENCE_PATH_MAX, "%s/%.64s.pem", ev->dir, chain_sha256);
	snprintf(pcap, EVIDENCE_PATH_MAX, "%s/%.64s.pcapng", ev->dir, chain_sha256);
	pthread_mutex_lock(&ev->lock);
	if (stat(pem, &sb) == 0 && stat(pcap, &sb) == 0)
		goto out;   /* the first alert of this chain wrote them (this run or earlier) */
	if (need > ev->budget - ev->used || ev->used > ev->budget) {
		g_stats.evidence_budget++;
		rc = 0;
		goto out;
	}
	/* Each file whole or not at all, and on disk before the alert that
	 * names it is written. */
	if (fileio_write_atomic(pem, 0644, pem_body, &pb, err, sizeof(err)) < 0 ||
	    fileio_write_atomic(pcap, 0644, pcapng_body, (void *)pkts, err, sizeof(err)) < 0) {
		if (!ev->said_error)
			fprintf(stderr, "certsentry: --evidence %s: %s\n", ev->dir, err);
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
