#ifndef SAASCTL_KEYS_H
#define SAASCTL_KEYS_H

/*
 * X25519 key pairs for sealed secrets, and their files.
 *
 *   NAME.pub  one line, safe to commit:
 *             "x25519 KEYID PUBLIC [COMMENT]"
 *   NAME.key  one line, mode 0600, created O_EXCL:
 *             "x25519-secret KEYID plain SECRET"
 *             "x25519-secret KEYID argon2id OPSLIMIT MEMLIMIT SALT NONCE+CT"
 *
 * KEYID is 16 hex digits: the first 8 bytes of BLAKE2b-256 of the 32-byte
 * public key; the keys and salts are standard base64. saasctl-sealed(5)
 * documents the files byte by byte.
 *
 * Secret keys live in sodium_malloc() memory and are wiped when freed.
 */

#include <stddef.h>

#include "err.h"
#include "strbuf.h"

#define KEYS_ID_BYTES 8
#define KEYS_ID_HEX (2 * KEYS_ID_BYTES + 1)
#define KEYS_PUBLIC_BYTES 32
#define KEYS_SECRET_BYTES 32

struct keys_public {
	unsigned char pk[KEYS_PUBLIC_BYTES];
	unsigned char id[KEYS_ID_BYTES];
	char id_hex[KEYS_ID_HEX];
};

struct keys_secret {
	unsigned char *sk;		/* sodium_malloc, KEYS_SECRET_BYTES */
	struct keys_public pub;
};

/* Initialise libsodium; cheap after the first call. */
int keys_init(struct err *e);

/* The key ID of a public key, raw and as 16 lowercase hex digits. */
void keys_id(unsigned char id[KEYS_ID_BYTES],
	     const unsigned char pk[KEYS_PUBLIC_BYTES]);
void keys_id_hex(char out[KEYS_ID_HEX], const unsigned char id[KEYS_ID_BYTES]);
/* Parse 16 hex digits into a key ID. */
int keys_id_parse(unsigned char id[KEYS_ID_BYTES], const char *hex);

/* Fill pk/id/id_hex from a public key. */
void keys_public_set(struct keys_public *pub,
		     const unsigned char pk[KEYS_PUBLIC_BYTES]);

/* A fresh key pair. */
int keys_generate(struct keys_secret **out, struct err *e);
void keys_secret_free(struct keys_secret *k);

/* The .pub line (with a trailing newline); comment may be NULL. */
int keys_public_format(struct strbuf *out, const struct keys_public *pub,
		       const char *comment);
/* Parse the text of a .pub file; path is for messages. */
int keys_public_parse(struct keys_public *out, const char *text, size_t len,
		      const char *path, struct err *e);
int keys_public_load(struct keys_public *out, const char *path, struct err *e);

/*
 * Write DIR/NAME.key and DIR/NAME.pub. Both are created O_EXCL; when the
 * second cannot be written the first is removed, so nothing is left half
 * done. With a passphrase, the secret key is encrypted with a key from
 * Argon2id (crypto_pwhash) and XChaCha20-Poly1305.
 */
int keys_write_pair(const struct keys_secret *k, const char *dir,
		    const char *name, const char *passphrase,
		    size_t passphrase_len, struct err *e);

/*
 * Load a secret key file. Refuses files that group or others can read.
 * An encrypted key asks for its passphrase (keys_passphrase_read()).
 */
int keys_secret_load(struct keys_secret **out, const char *path,
		     struct err *e);

/*
 * The unencrypted key file line of k ("x25519-secret KEYID plain ...\n")
 * into out (sodium_malloc'd, free with keys_passphrase_free(out, *len)):
 * what the cluster's key Secret holds, since a controller cannot type a
 * passphrase.
 */
int keys_secret_format_plain(char **out, size_t *len,
			     const struct keys_secret *k, struct err *e);

/*
 * Load key files: each path is a key file, or a folder whose *.key files
 * are all loaded (the cluster's key Secret mounted as a volume: one file
 * per key during a rotation). *out is malloc'd; free each key with
 * keys_secret_free() and the array with free().
 */
int keys_secret_load_all(struct keys_secret ***out, size_t *n,
			 const char *const *paths, size_t npaths,
			 struct err *e);

/*
 * Read a passphrase into sodium_malloc memory: from the file named by
 * SAASCTL_PASSPHRASE_FILE (its first line), else from the terminal
 * (/dev/tty, echo off), like ssh-keygen and signify. The prompt goes to the
 * terminal, never to stdout or stderr. With confirm, the terminal asks
 * twice. Free with keys_passphrase_free().
 */
int keys_passphrase_read(char **out, size_t *len, const char *prompt,
			 int confirm, struct err *e);
void keys_passphrase_free(char *p, size_t len);

#endif
