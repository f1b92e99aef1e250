/*
 * evidence.h - what an analyst needs to act on an alert without going
 * back to the wire: --evidence DIR keeps, for the first alert of each
 * chain, the chain as PEM (CHAIN.pem) and the handshake's packets as a
 * pcapng (CHAIN.pcapng, link type RAW: the IP packets as the sensor
 * decoded them, inside any tunnel; microsecond timestamps), both named by
 * the chain's SHA-256.
 *
 * Evidence replays: `certsentry -R RULES -r CHAIN.pcapng` gives the same
 * alert.  For a TLS 1.3 handshake read with --keylog, the pcapng carries
 * the key-log line that decrypted it in a Decryption Secrets Block (type
 * TLS key log, before the packets), which certsentry and Wireshark read
 * from the file itself: no key log is needed to replay or to look.  The
 * file is then as secret as that handshake's keys (it opens the server's
 * handshake flight only; the application data keys are not kept).
 *
 * Packets are kept only while a flow's handshake is undecided and only
 * with --evidence (struct evidence_log in the flow's handshake state), at
 * most EVIDENCE_DEF_FLOW_BYTES a flow, charged to --memcap like the
 * reassembly buffers.  The directory is bounded by --evidence-bytes: a
 * chain whose files would pass it is counted (evidence_budget), never
 * written.  A chain already in the directory (an earlier run's) is not
 * written again.  Files are written atomically and durably
 * (fileio_write_atomic).
 */
#ifndef CS_EVIDENCE_H
#define CS_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "analyser/tls.h"

#define EVIDENCE_DEF_BYTES      (256ull * 1024 * 1024)  /* --evidence-bytes */
#define EVIDENCE_DEF_FLOW_BYTES (256u * 1024)           /* packets kept a flow */
#define EVIDENCE_PATH_MAX       4096

/* "SERVER_HANDSHAKE_TRAFFIC_SECRET " + 64 hex + " " + 96 hex + "\n" */
#define EVIDENCE_KEYLOG_MAX     (31u + 1u + 2u * TLS13_RANDOM_LEN + 1u + 2u * TLS13_MAX_SECRET + 1u)

/* The packets of one handshake: records [ts_us:8][len:4][bytes], owned;
 * and the key-log line of the secret that decrypted it (TLS 1.3), owned,
 * wiped when freed.  Owned by the flow's handshake state. */
struct evidence_log {
	uint8_t *buf;
	size_t len, cap;
	uint32_t n;
	uint32_t dropped;        /* packets past the cap or the memcap */
	char *keylog;            /* NUL-terminated key-log line(s), or NULL */
	size_t keylog_len;
};

/* Keep one packet (l3: its IP header on).  Bounded by flow_cap and by the
 * global memcap through g_stats.mem_in_use (what is kept is charged). */
void evidence_log_add(struct evidence_log *l, uint64_t ts_us, const uint8_t *l3, size_t len,
                      size_t flow_cap, uint64_t total_memcap);
/* Keep the server handshake traffic secret that this handshake was read
 * with (random: its ClientHello random), as an NSS key-log line for the
 * evidence file.  A later call replaces it.  Wiped by evidence_log_free. */
void evidence_log_secret(struct evidence_log *l, const uint8_t random[TLS13_RANDOM_LEN],
                         const uint8_t *secret, size_t secret_len);
/* Frees both; the secret is wiped first (explicit_bzero). */
void evidence_log_free(struct evidence_log *l);

struct evidence;

/* dir must exist and be writable (tried with a real create).  NULL with
 * err set otherwise. */
struct evidence *evidence_open(const char *dir, uint64_t budget, char *err, size_t errlen);
void evidence_close(struct evidence *ev);

/* Write CHAIN.pem and CHAIN.pcapng (with pkts' key-log line, if any, in a
 * Decryption Secrets Block) for a chain not written yet.  Fills pem and
 * pcap with the paths (also when an earlier run wrote them) and returns
 * 1; 0 when the budget forbids it (counted), -1 on an I/O error (counted
 * as output_err, said once on stderr).  Thread-safe. */
int evidence_write(struct evidence *ev, const char *chain_sha256, const struct tls_cert *certs,
                   size_t n_certs, const struct evidence_log *pkts,
                   char pem[EVIDENCE_PATH_MAX], char pcap[EVIDENCE_PATH_MAX]);

#endif
