/*
 * fuzz_engine.c - libFuzzer target for the whole per-packet pipeline
 * (sensor/engine/engine.c: decode, flows, reassembly, TLS, X.509, policy, nDPI,
 * EVE output to /dev/null).
 *
 * Input:
 *   [0] bit 0: engine A (ports 443 and 853, nDPI on, chains in tls
 *       events) or B (--any-port, no nDPI); bits 1-3 a limits profile
 *       (memcaps, out-of-order segments, handshake and certificate sizes,
 *       pre-handshake bytes, nDPI packets)
 *   then packets: a 2-byte big-endian word, then the Ethernet frame.  The
 *   word's low 14 bits are the frame length (cut to what is left), its top
 *   2 bits the time step before the packet: 0 +100 us, 1 +1 s, 2 +200 s
 *   (past the flow timeout), 3 -1 s (a clock going back).
 *
 * Both engines are made once (nDPI's start-up is expensive) with a flow
 * table of 8 flows (evictions), a policy of a generated CA protecting
 * every address (so every handshake is judged and alerts are written),
 * plus pcaps/test.rules' CAs when run from the top directory.  After each
 * input the engine is flushed: then no flow and no reassembly byte may be
 * left (abort() otherwise).  Each input starts 10^6 s after the previous
 * one, so one input's flows never meet another's clock.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "core/cs_limits.h"
#include "capture/decode.h"
#include "core/digest.h"
#include "engine/engine.h"
#include "pki.h"
#include "event/output.h"
#include "verdict/policy.h"
#include "core/stats.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmpdir[256];
static struct cs_limits lim;
static struct policy *pol;
static struct output *out;
static struct engine *eng[2];
static uint8_t port_map[8192];
static uint64_t ts_base = 1700000000ull * 1000000ull;

/* ---- set-up ------------------------------------------------------------ */

static void cleanup(void)
{
	char path[512];

	engine_free(eng[0]);
	engine_free(eng[1]);
	eng[0] = eng[1] = NULL;
	output_close(out);
	out = NULL;
	policy_free(pol);
	pol = NULL;
	if (!tmpdir[0])
		return;
	snprintf(path, sizeof path, "%s/root.pem", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/fuzz.rules", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	tmpdir[0] = '\0';
}

static void write_rules(const char *path)
{
	EVP_PKEY *key = fz_key(21);
	X509 *root = fz_cert(key, key, NULL, "Fuzz Engine Root CA", 1, 1, 2);
	FILE *f;

	fz_write_pem(tmpdir, "root.pem", root, NULL);
	X509_free(root);
	EVP_PKEY_free(key);
	f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "owner everything\n"
	           "protect ip 0.0.0.0/0 ::/0\n"
	           "protect name fuzz.example\n"
	           "approve ca root.pem\n");
	fz_add_test_pki(f);
	if (fclose(f) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("TMPDIR");
	struct output_opts oo = { .path = "/dev/null", .tls_chain = 1 };
	struct engine_opts eo;
	char path[512], err[512];

	(void)argc;
	(void)argv;
	snprintf(tmpdir, sizeof tmpdir, "%s/cs-fuzz-engine.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	atexit(cleanup);
	snprintf(path, sizeof path, "%s/fuzz.rules", tmpdir);
	write_rules(path);
	pol = policy_load(path, err, sizeof err);
	if (!pol) {
		fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
	out = output_open(&oo, err, sizeof err);
	if (!out) {
		fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
	cs_limits_default(&lim);
	lim.max_flows = 8;
	port_map[443 >> 3] |= (uint8_t)(1u << (443 & 7));
	port_map[853 >> 3] |= (uint8_t)(1u << (853 & 7));
	memset(&eo, 0, sizeof eo);
	eo.lim = &lim;
	eo.pol = pol;
	eo.out = out;
	eo.port_map = port_map;
	eng[0] = engine_new(&eo, err, sizeof err);
	eo.any_port = 1;
	eo.no_ndpi = 1;
	eng[1] = engine_new(&eo, err, sizeof err);
	if (!eng[0] || !eng[1]) {
		fprintf(stderr, "fuzz_engine: %s\n", err);
		abort();
	}
	engine_set_source(eng[0], "fuzz.pcap");
	return 0;
}

/* The limits the engine reads live (through its lim pointer); the flow
 * table's size and timeout were fixed at engine_new. */
static void set_limits(unsigned profile)
{
	cs_limits_default(&lim);
	lim.max_flows = 8;
	switch (profile) {
	case 1:
		lim.flow_memcap = 4096;
		lim.max_ooo_segs = 4;
		break;
	case 2:
		lim.max_hs_msg = 2048;
		lim.max_certs = 2;
		lim.max_cert_size = 1500;
		break;
	case 3:
		lim.max_prehs_bytes = 64;
		lim.ndpi_packets = 2;
		break;
	case 4:
		lim.total_memcap = 8192;
		lim.max_ooo_segs = 1;
		break;
	case 5:
		lim.flow_memcap = 65536;
		lim.max_certs = 1;
		lim.max_hs_msg = 65536;
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t steps[3] = { 100, 1000000, 200000000 };
	struct engine *e;
	uint8_t *frame;
	uint64_t ts;
	size_t pos = 1;

	if (size < 1)
		return 0;
	e = eng[data[0] & 1];
	set_limits(data[0] >> 1 & 7);
	ts_base += 1000000ull * 1000000ull;
	ts = ts_base;
	while (size - pos >= 2) {
		unsigned w = (unsigned)data[pos] << 8 | data[pos + 1];
		size_t len = w & 0x3fff;

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		if (w >> 14 == 3)
			ts -= 1000000;
		else
			ts += steps[w >> 14];
		/* Its own allocation, so a read past the frame is caught. */
		frame = malloc(len ? len : 1);
		if (!frame)
			abort();
		memcpy(frame, data + pos, len);
		engine_packet(e, CS_DLT_EN10MB, frame, len, ts);
		free(frame);
		pos += len;
	}
	engine_flush(e);
	if (g_stats.flows_active != 0 || g_stats.mem_in_use != 0)
		abort();
	return 0;
}
