/*
 * fuzz_ct_checkpoint.c - libFuzzer target for what a CT log signs and
 * proves (sensor/ct/head.c, sensor/ct/merkle.c): static-ct-api
 * checkpoints, get-sth and get-sth-consistency answers, and the
 * consistency check on the proof read.
 *
 * Input: [mode] then the bytes.  mode % 3: 0 a checkpoint checked with the
 * fixed log key below (origin "log.example/fuzz"; tests/fuzz/seeds.py signs
 * seeds with the same key, so the signature path is reached), 1 a get-sth
 * answer, then its signature checked, 2 a get-sth-consistency answer, then
 * ct_consistency_verify on it with sizes m, n from the mode byte's upper
 * bits and the proof's first node.
 * Checks: every failure says why; a checkpoint accepted verifies again
 * through ct_head_verify on what it returned; sizes and counts within
 * their limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ct/head.h"
#include "ct/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGIN "log.example/fuzz"
/* A fixed P-256 key, only for fuzzing: seeds.py holds the same one. */
static const char key_pem[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIEkSm2VLC5FC8xm3MJHUd11Akcdf8PqKJC0AiDMY5Yq3oAoGCCqGSM49\n"
	"AwEHoUQDQgAEuO4JiLItWsV7+jyCFYuPNRw9aXojKgJvKeCUAfGi7BfCSsel8IG8\n"
	"5/qyS/djgnxIODYeh08R+J+vjLAfLjUKaA==\n"
	"-----END EC PRIVATE KEY-----\n";

static EVP_PKEY *key;                /* made once, for the process' life */
static uint8_t key_der[200];
static size_t key_len;

static void load_key(void)
{
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	uint8_t *p = key_der;
	int n;

	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!key)
		abort();
	n = i2d_PUBKEY(key, NULL);
	if (n <= 0 || (size_t)n > sizeof key_der || i2d_PUBKEY(key, &p) != n)
		abort();
	key_len = (size_t)n;
}

static void check_err(int rc, const char *err)
{
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && err[0] == '\0')
		abort();
}

static void one_checkpoint(const uint8_t *buf, size_t len)
{
	struct ct_head h;
	char err[300];
	int rc = ct_checkpoint_verify(buf, len, ORIGIN, key_der, key_len, key, &h, err,
	                              sizeof err);

	check_err(rc, err);
	if (rc == 0 && (h.sig_len > CT_SIG_MAX || ct_head_verify(&h, key, err, sizeof err) != 0))
		abort();
}

static void one_sth(const uint8_t *buf, size_t len)
{
	struct ct_head h;
	char err[300];
	int rc = ct_sth_parse(buf, len, &h, err, sizeof err);

	check_err(rc, err);
	if (rc == 0) {
		if (h.sig_len > CT_SIG_MAX)
			abort();
		check_err(ct_head_verify(&h, key, err, sizeof err), err);
	}
}

static void one_proof(uint8_t mode, const uint8_t *buf, size_t len)
{
	static uint8_t proof[CT_PROOF_MAX][CT_HASH_LEN];
	struct ct_frontier f;
	uint8_t root[CT_HASH_LEN];
	char err[300];
	size_t k;
	uint64_t m, n;
	int rc = ct_proof_parse(buf, len, proof, CT_PROOF_MAX, &k, err, sizeof err);

	check_err(rc, err);
	if (rc != 0)
		return;
	if (k > CT_PROOF_MAX)
		abort();
	m = 0;
	for (size_t i = 0; k > 0 && i < 8; i++)
		m = m << 8 | proof[0][i];
	m >>= (mode >> 2) & 63;
	n = m + ((uint64_t)proof[k > 0 ? k - 1 : 0][0] << (mode >> 4));
	memset(root, mode, sizeof root);
	rc = ct_consistency_verify(m, (mode & 0x80) ? NULL : root, n, root,
	                           (const uint8_t (*)[CT_HASH_LEN])proof, k, &f, err, sizeof err);
	check_err(rc, err);
	if (rc == 0 && (f.size != m || f.n > 64 || f.n != (unsigned)__builtin_popcountll(m)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!key)
		load_key();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		one_checkpoint(data + 1, size - 1);
		break;
	case 1:
		one_sth(data + 1, size - 1);
		break;
	default:
		one_proof(data[0], data + 1, size - 1);
		break;
	}
	return 0;
}
