/*
 * engine_tls.c - what the engine must still know of TLS, kept here and
 * named so (engine_int.h says why): the TLS 1.3 key log look-up, its
 * wait on live capture, and the end of an encrypted flight that a
 * fingerprint measures.  Everything else reaches TLS through the
 * analyser table (analyser.h).  Every function here returns 0 for a flow
 * whose analyser is not TLS.  Must not: read packet bytes, or judge or
 * report (engine_report.c does).
 */
#include <stdio.h>
#include <string.h>

#include "analyser/tls.h"
#include "core/stats.h"
#include "engine_int.h"
#include "event/evidence.h"
#include "secrets/keylog.h"

/* Is there a key log to look in?  Reading files, main gives every
 * engine one that pcapng inputs fill as they are read (keylog.h): until
 * it holds something, it is as if there were none. */
int engine_have_keylog(const struct engine *e)
{
	return e->o.keylog && !keylog_empty(e->o.keylog);
}

/* No secret for a TLS 1.3 handshake: decided, its certificates unread,
 * and why. */
static void tls13_unread(struct engine *e, struct flow *f, struct tls_session *t)
{
	struct flow_hs *hs = f->hs;
	char note[128];

	if (!engine_have_keylog(e)) {
		tls_tls13_no_key(t, T13_NOT_READ, NULL);
		return;
	}
	g_stats.tls13_no_key++;
	if (hs->key_wait_since)
		snprintf(note, sizeof(note), "TLS 1.3: no key log secret for this ClientHello "
		         "random (waited %llu ms)",
		         (unsigned long long)((e->now - hs->key_wait_since) / 1000));
	else
		snprintf(note, sizeof(note), "TLS 1.3: no key log secret for this ClientHello random");
	tls_tls13_no_key(t, T13_NO_KEY, note);
}

/* A TLS 1.3 handshake waits for the server handshake traffic secret of
 * its ClientHello random.  Files: their key logs are complete, so the
 * look-up is final.  Live: the log may still be growing (a browser
 * appends as it connects), so a miss waits up to keylog_wait_us of packet
 * time, re-reading the files at most every ENGINE_KEYLOG_REFRESH_US;
 * final (the flow ends) makes it the last look.  With no secret and
 * fingerprints on, the flight goes on being measured (TLS13_COLLECT)
 * until the client's second flight ends it (engine_tls13_flight_end).
 * Returns 1 decided. */
static int tls13_key(struct engine *e, struct flow *f, struct tls_session *t, int final)
{
	struct flow_hs *hs = f->hs;
	uint8_t secret[TLS13_MAX_SECRET];
	size_t len = 0;
	int found = engine_have_keylog(e) && keylog_find(e->o.keylog, t->ch_random, secret, &len), rc;

	if (!found && engine_have_keylog(e) && e->o.keylog_wait_us > 0 &&
	    keylog_files(e->o.keylog) > 0) {
		if (hs->key_wait_since == 0)
			hs->key_wait_since = e->now ? e->now : 1;
		if (final || e->now - hs->key_wait_since >= e->o.keylog_wait_us ||
		    e->now - e->keylog_read_ts >= ENGINE_KEYLOG_REFRESH_US) {
			e->keylog_read_ts = e->now;
			keylog_refresh(e->o.keylog);
			found = keylog_find(e->o.keylog, t->ch_random, secret, &len);
		}
		if (!found && !final && e->now - hs->key_wait_since < e->o.keylog_wait_us)
			return 0;
	}
	if (!found) {
		if (fingerprinting(e) && !final) {
			tls_tls13_collect(t);
			return 0;
		}
		tls13_unread(e, f, t);
		return 1;
	}
	/* --evidence: the secret goes into the evidence file, so that it
	 * replays without the key log (evidence.h). */
	if (e->keep_packets)
		evidence_log_secret(&hs->pkts, t->ch_random, secret, len);
	/* QUIC: the transport opens the Handshake packets with it. */
	rc = hs->quic ? engine_quic_keyed(e, f, t, secret, len) : tls_tls13_key(t, secret, len);
	explicit_bzero(secret, sizeof(secret));
	return rc == TLS_DECIDED;
}

int engine_tls13_flight_end(struct engine *e, struct flow *f)
{
	struct tls_session *t = engine_tls(f->hs);

	if (!t || t->decision != TLS_UNDECIDED)
		return 0;
	if (t->t13 == TLS13_NEED_KEY)
		return tls13_key(e, f, t, 1);
	if (t->t13 != TLS13_COLLECT)
		return 0;
	tls13_unread(e, f, t);
	return 1;
}

int engine_tls_fed(struct engine *e, struct flow *f)
{
	struct tls_session *t = engine_tls(f->hs);

	return t && t->t13 == TLS13_NEED_KEY && tls13_key(e, f, t, 0);
}

int engine_tls_packet(struct engine *e, struct flow *f, enum an_dir d, int data)
{
	struct tls_session *t = engine_tls(f->hs);

	if (!t)
		return 0;
	return (t->t13 == TLS13_NEED_KEY && e->o.keylog_wait_us > 0 && tls13_key(e, f, t, 0)) ||
	       (d == AN_CLIENT && data && fingerprinting(e) && t->flight_records > 0 &&
	        engine_tls13_flight_end(e, f));
}
