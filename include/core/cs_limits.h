/*
 * limits.h - every limit certsentry enforces, in one place (as p0f's
 * config.h).  Each default here has a command-line flag in main.c and a
 * counter in stats.h that says how often it was hit.
 */
#ifndef CS_LIMITS_H
#define CS_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Flow table capacity; the oldest idle flow is evicted when full. --max-flows */
#define CS_DEF_MAX_FLOWS           262144u
/* Seconds without a packet before a flow is expired. --flow-timeout */
#define CS_DEF_FLOW_TIMEOUT        120u
/* Milliseconds (packet time) that an undecided handshake whose connection
 * a believed RST or FIN ended still reads the bytes already in flight
 * (the server's Certificate often follows a client's RST).  Suricata keeps
 * a closed TCP session a while for the same reason. --close-grace */
#define CS_DEF_CLOSE_GRACE_MS      2000u
/* Bytes buffered per flow (both directions, in-order + out-of-order). --flow-memcap */
#define CS_DEF_FLOW_MEMCAP         (2u * 1024u * 1024u)
/* Bytes buffered by all flows together. --memcap */
#define CS_DEF_TOTAL_MEMCAP        (512ull * 1024u * 1024u)
/* Out-of-order segments held per direction. --max-ooo-segments */
#define CS_DEF_MAX_OOO_SEGS        256u
/* Largest TLS handshake message accepted.  Real chains of several hundred
 * KB exist (zeek's tls-fragmented-handshake.pcap carries one 340 KB
 * certificate); the 3-byte length field allows 16 MB. --max-handshake */
#define CS_DEF_MAX_HS_MSG          (1024u * 1024u)
/* Certificates kept from one Certificate message. --max-certs */
#define CS_DEF_MAX_CERTS           16u
/* Largest single DER certificate kept. --max-cert-size */
#define CS_DEF_MAX_CERT_SIZE       (512u * 1024u)
/* Bytes of a stream inspected before giving up on finding a handshake. */
#define CS_DEF_MAX_PREHS_BYTES     (64u * 1024u)
/* Distinct certificate chains whose parse and verification results are
 * kept (least recently used evicted; 0: none).  An entry costs about
 * three times the chain's DER (OpenSSL's parsed form), ~10-20 KB for
 * common chains, so the default holds 20-40 MB per worker. --chain-cache */
#define CS_DEF_CHAIN_CACHE         2048u
/* Packets of a flow given to nDPI before its result is frozen. */
#define CS_DEF_NDPI_PACKETS        16u

/* QUIC CRYPTO streams (transport/quic; one per direction and packet
 * number space): bytes accepted ahead of the in-order point.  Data past
 * it is refused and counted (quic_crypto_gap_limit); a real handshake
 * flight is a few datagrams ahead at most.  (The command-line flag comes
 * with the engine's QUIC wiring: --quic-crypto-gap.) */
#define CS_DEF_QUIC_CRYPTO_GAP     (64u * 1024u)
/* Bytes of one CRYPTO stream from offset 0: the server's Handshake
 * flight holds the Certificate message (--max-handshake) and a few small
 * messages beside it.  Past it the stream stops (quic_crypto_max_limit).
 * (Flag with the engine's QUIC wiring: --quic-crypto-max.) */
#define CS_DEF_QUIC_CRYPTO_MAX     (CS_DEF_MAX_HS_MSG + 64u * 1024u)
/* Pieces of one CRYPTO stream held beyond its in-order point; a frame
 * that would make more is refused (quic_crypto_ranges_limit).  Bounds
 * the work of placing a frame. */
#define CS_QUIC_CRYPTO_RANGES      32u
/* Packets read from one UDP datagram (coalesced, RFC 9000 §12.2); the
 * rest is counted (quic_coalesced_limit) and left.  Real datagrams
 * carry at most three (Initial, Handshake, 1-RTT). */
#define CS_QUIC_MAX_COALESCED      16u

/* IP datagrams being reassembled from fragments at once; the oldest is
 * dropped when full. --max-frag-datagrams */
#define CS_DEF_MAX_FRAG_DGRAMS     8192u
/* Fragments kept per datagram (RFC 8200 datagrams need few). */
#define CS_DEF_MAX_FRAG_PIECES     64u
/* Seconds a datagram may wait for its missing fragments (RFC 791 suggests
 * 15 s; Linux waits 30 s). --frag-timeout */
#define CS_DEF_FRAG_TIMEOUT        30u
/* Bytes held by incomplete datagrams, all together. --frag-memcap */
#define CS_DEF_FRAG_MEMCAP         (16u * 1024u * 1024u)

/* Reading files with --workers N > 1 (dispatch.c): bytes of the ring that
 * carries frames from the reader to each worker.  Not a limit on what is
 * inspected: when a ring is full the reader waits, it never drops a
 * packet.  4 MB holds a few thousand full-size frames, enough that the
 * reader and the workers rarely wait for each other. */
#define CS_DISPATCH_RING_BYTES     (4u * 1024u * 1024u)
/* Largest frame a ring carries: libpcap's MAXIMUM_SNAPLEN, which no
 * capture file it reads can exceed. */
#define CS_DISPATCH_MAX_FRAME      262144u

/* A pcapng block (pcapng.c's reader): a longer one is damage, reported
 * as such (g_stats.capture_block_limit).  libpcap's own bound
 * (INITIAL_MAX_BLOCKSIZE) is the same 16 MB; a Decryption Secrets Block
 * of that size holds the key log of ~80,000 TLS 1.3 sessions. */
#define CS_PCAPNG_MAX_BLOCK        (16u * 1024u * 1024u)
/* Interface Description Blocks in one pcapng section. */
#define CS_PCAPNG_MAX_IFACES       1024u
/* Bytes of one --keylog file read (a longer file is read up to here,
 * said on stderr and counted in the key log's counts). */
#define CS_KEYLOG_MAX_BYTES        (256ull * 1024u * 1024u)

/* TLS record payload: 2^14 plus the 2048 bytes RFC 5246 §6.2.3 allows
 * for ciphertext expansion. */
#define TLS_MAX_RECORD_LEN         (16384u + 2048u)
#define TLS_MAX_SNI                255u
#define TLS_MAX_ALPN               16u
#define TLS_MAX_VERSIONS           16u

struct cs_limits {
	size_t max_flows;
	unsigned flow_timeout;
	unsigned close_grace_ms;
	size_t flow_memcap;
	uint64_t total_memcap;
	size_t max_ooo_segs;
	size_t max_hs_msg;
	size_t max_certs;
	size_t max_cert_size;
	size_t max_prehs_bytes;
	unsigned ndpi_packets;
	size_t chain_cache;
	size_t max_frag_dgrams;
	unsigned frag_timeout;
	size_t frag_memcap;
	size_t quic_crypto_gap;
	size_t quic_crypto_max;
};

static inline void cs_limits_default(struct cs_limits *l)
{
	l->max_flows = CS_DEF_MAX_FLOWS;
	l->flow_timeout = CS_DEF_FLOW_TIMEOUT;
	l->close_grace_ms = CS_DEF_CLOSE_GRACE_MS;
	l->flow_memcap = CS_DEF_FLOW_MEMCAP;
	l->total_memcap = CS_DEF_TOTAL_MEMCAP;
	l->max_ooo_segs = CS_DEF_MAX_OOO_SEGS;
	l->max_hs_msg = CS_DEF_MAX_HS_MSG;
	l->max_certs = CS_DEF_MAX_CERTS;
	l->max_cert_size = CS_DEF_MAX_CERT_SIZE;
	l->max_prehs_bytes = CS_DEF_MAX_PREHS_BYTES;
	l->ndpi_packets = CS_DEF_NDPI_PACKETS;
	l->chain_cache = CS_DEF_CHAIN_CACHE;
	l->max_frag_dgrams = CS_DEF_MAX_FRAG_DGRAMS;
	l->frag_timeout = CS_DEF_FRAG_TIMEOUT;
	l->frag_memcap = CS_DEF_FRAG_MEMCAP;
	l->quic_crypto_gap = CS_DEF_QUIC_CRYPTO_GAP;
	l->quic_crypto_max = CS_DEF_QUIC_CRYPTO_MAX;
}

#endif
