/*
 * head.h - what a CT log signs about its tree: an RFC 6962 signed tree
 * head (get-sth, section 4.3) or a static-ct-api checkpoint (C2SP
 * static-ct-api and signed-note: the tree's origin, size and root, signed
 * with an RFC6962NoteSignature), the signature checked with the log's key
 * from the log list; and the consistency proofs a log serves
 * (get-sth-consistency, section 4.4).
 *
 * Both forms sign the same bytes, RFC 6962's TreeHeadSignature: version
 * v1 (0), signature_type tree_hash (1), timestamp (ms, 8 bytes), tree_size
 * (8 bytes), sha256_root_hash (32 bytes), as a DigitallySigned (section
 * 2.1.4 of RFC 5246: hash and signature algorithm, 2-byte length,
 * signature): ECDSA P-256 or RSA PKCS#1 v1.5, both with SHA-256.
 *
 * Input is hostile: every parser takes (buf, len), checks each length
 * before use and says what was wrong and where.
 */
#ifndef CS_CT_HEAD_H
#define CS_CT_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ct/merkle.h"

/* Bytes of a DigitallySigned kept (an RSA-4096 signature is 516 bytes). */
#define CT_SIG_MAX 1024
/* Bytes of a get-sth or get-sth-consistency answer, or a checkpoint,
 * read at most (a real answer is under 1 KB, a proof under 5 KB). */
#define CT_HEAD_MAX_BYTES (64u * 1024u)
/* Signature lines a checkpoint may carry (witness cosignatures beside
 * the log's own). */
#define CT_CHECKPOINT_MAX_SIGS 64

struct ct_head {
	uint64_t size;
	uint64_t timestamp_ms;
	uint8_t root[CT_HASH_LEN];
	uint8_t sig[CT_SIG_MAX];          /* the DigitallySigned, as served */
	size_t sig_len;
};

/* A get-sth answer (JSON: tree_size, timestamp, sha256_root_hash and
 * tree_head_signature, both base64) into out; the signature is not
 * checked here.  0, or -1 with err ("sha256_root_hash: not 32 bytes"). */
int ct_sth_parse(const uint8_t *buf, size_t len, struct ct_head *out, char *err,
                 size_t errlen);

/* The TreeHeadSignature bytes of h (50 bytes) into out. */
#define CT_TBS_HEAD_LEN 50
void ct_head_tbs(const struct ct_head *h, uint8_t out[CT_TBS_HEAD_LEN]);

/* Is h->sig the log's signature over h (key: the log's public key)?  The
 * DigitallySigned's algorithms must be SHA-256 with the key's own type.
 * 0, or -1 with err ("signature does not verify with the log's key"). */
int ct_head_verify(const struct ct_head *h, EVP_PKEY *key, char *err, size_t errlen);

/* A get-sth-consistency answer ({"consistency": [base64, ...]}) into
 * proof[0..*k), at most max nodes.  0, or -1 with err. */
int ct_proof_parse(const uint8_t *buf, size_t len, uint8_t (*proof)[CT_HASH_LEN], size_t max,
                   size_t *k, char *err, size_t errlen);

/* A static-ct-api checkpoint: a signed note whose text is the origin
 * line (which must equal origin), the tree size in decimal and the root
 * in base64, and whose signature lines ("\u2014 NAME BASE64") include
 * one by the log: NAME equal to origin, the key id the first 4 bytes of
 * SHA-256(origin || "\n" || 0x05 || LogID), the LogID being SHA-256 of
 * the key's DER SubjectPublicKeyInfo (C2SP static-ct-api, "Checkpoints"),
 * the signature 8 bytes of timestamp then a DigitallySigned over the
 * TreeHeadSignature.  Other lines (extension lines of the note text, which
 * the log's signature does not cover and static-ct-api logs do not write,
 * other signers' signatures) are allowed and passed over.  key_der is the
 * log's SPKI (for the key id), key its parsed form.  0 with out filled
 * and its signature verified, or -1 with err naming the line. */
int ct_checkpoint_verify(const uint8_t *buf, size_t len, const char *origin,
                         const uint8_t *key_der, size_t key_len, EVP_PKEY *key,
                         struct ct_head *out, char *err, size_t errlen);

#endif
