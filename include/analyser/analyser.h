/*
 * analyser.h - what the engine knows of an application protocol: a table
 * of function pointers, one per analyser (TLS today, analyser_tls in
 * tls.h), as the sinks are a table.  The engine registers analysers in
 * one line (ANALYSERS in engine.c), keeps per inspected flow a pointer to
 * one of them and state_size bytes of its state, and reaches the protocol
 * only through these functions: it never reads protocol bytes itself.
 *
 * A transport hands an analyser in-order bytes of each direction: TCP its
 * reassembled stream, found with probe (a stream may open with something
 * else: STARTTLS, a proxy's CONNECT, a capture that starts mid-stream);
 * QUIC, next, its CRYPTO stream, which is TLS from its first byte.
 *
 * Lifetime of a state: init, then feed until decided says so (never
 * after), then free (always, whether decided or not).  The engine owns
 * the memory (inside its per-flow allocation); the analyser owns what it
 * allocates behind it, and free releases that.
 */
#ifndef CS_ANALYSER_H
#define CS_ANALYSER_H

#include <stddef.h>
#include <stdint.h>

#include "core/cs_limits.h"

/* Direction of the bytes: who sent them.  Equal to enum tls_dir. */
enum an_dir { AN_CLIENT = 0, AN_SERVER = 1 };

/* probe() results */
enum an_probe {
	AN_PROBE_NO = -1,    /* not this protocol in this direction: stop looking */
	AN_PROBE_MORE = 0,   /* not found yet: the first *skip bytes can never
	                        start it (drop them), look again with more */
	AN_PROBE_YES = 1,    /* it starts at buf + *skip */
};

/* probe() flags: what the transport knows of where buf begins. */
#define AN_PROBE_FIRST  1u   /* buf[0] is the first byte of the direction the
                                transport has (nothing skipped yet) */
#define AN_PROBE_OPENED 2u   /* the transport saw the connection open (TCP:
                                the SYN), so that byte is the sender's first */

/* init() flags */
#define AN_FOLLOW_ENCRYPTED 1u   /* read on where the handshake turns
                                    encrypted (a key log or fingerprints
                                    may still read or measure it) */

/* feed() results */
#define AN_MORE     0
#define AN_DECIDED  1

/* decided() results */
enum an_decided {
	AN_UNDECIDED = 0,
	AN_DONE,             /* nothing more to read: report now */
	AN_DONE_ON_SERVER,   /* decided on what the server sent (TLS: its
	                        certificates): the engine holds the report
	                        until the client acknowledges those bytes, so
	                        a retransmission of them is still compared */
};

/* seen() bits */
#define AN_SEEN_CLIENT 1u    /* the client's opening message was parsed */
#define AN_SEEN_SERVER 2u    /* the server's answer was parsed */

struct analyser {
	const char *name;     /* "tls": for logs and the docs */
	size_t state_size;    /* bytes of state per flow, aligned for any type */

	/* Where the protocol starts in buf (in-order bytes of direction d;
	 * flags AN_PROBE_*): AN_PROBE_YES with *skip its offset,
	 * AN_PROBE_MORE with *skip bytes to drop, or AN_PROBE_NO.  Reads
	 * only [buf, buf + len); len may be 0. */
	int (*probe)(const uint8_t *buf, size_t len, enum an_dir d, unsigned flags,
	             size_t *skip);
	/* Which end sent buf, the start of a packet's payload, when it opens
	 * a message only one end sends (TLS: a ClientHello or ServerHello
	 * record): AN_CLIENT, AN_SERVER, or -1 when it cannot tell.  Used to
	 * learn roles without the connection's opening. */
	int (*role)(const uint8_t *buf, size_t len);

	/* Ready state (state_size bytes, not initialised) for a new flow;
	 * flags AN_FOLLOW_*.  lim is not owned and outlives the state. */
	void (*init)(void *state, const struct cs_limits *lim, unsigned flags);
	/* In-order bytes of direction d from where probe said it starts,
	 * any split.  AN_MORE or AN_DECIDED. */
	int (*feed)(void *state, enum an_dir d, const uint8_t *buf, size_t len);
	enum an_decided (*decided)(const void *state);
	unsigned (*seen)(const void *state);   /* AN_SEEN_* */
	/* Are bytes of direction d still read?  0: the transport may stop
	 * keeping them (TLS: the client's, once its ClientHello is parsed). */
	int (*wants)(const void *state, enum an_dir d);
	/* Release what the state holds (not the state's own memory). */
	void (*free)(void *state);
};

#endif
