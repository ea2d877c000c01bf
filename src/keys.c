#define _GNU_SOURCE

#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

#define PUB_TAG "x25519"
#define SECRET_TAG "x25519-secret"
/* Key files are one short line; anything longer is not ours. */
#define KEY_FILE_MAX 1024
#define PASSPHRASE_MAX 1024
/*
 * Bounds on the Argon2id cost read from a file, so a damaged or crafted key
 * file cannot make us spend seconds and gigabytes before "wrong passphrase":
 * at most libsodium's "moderate" cost (3 passes over 256 MiB). keygen writes
 * the "interactive" cost (2 passes over 64 MiB). saasctl-sealed(5) documents
 * both.
 */
#define PWHASH_OPS_MAX 3ULL
#define PWHASH_MEM_MAX (256ULL * 1024 * 1024)

static const int b64_variant = sodium_base64_VARIANT_ORIGINAL;

int keys_init(struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, "cannot initialise libsodium");
	return 0;
}

void keys_id(unsigned char id[KEYS_ID_BYTES],
	     const unsigned char pk[KEYS_PUBLIC_BYTES])
{
	unsigned char h[crypto_generichash_BYTES];

	/* libsodium's BLAKE2b has a 16-byte minimum output, so the ID is a
	 * truncation of BLAKE2b-256 (not BLAKE2b with an 8-byte output). */
	crypto_generichash(h, sizeof(h), pk, KEYS_PUBLIC_BYTES, NULL, 0);
	memcpy(id, h, KEYS_ID_BYTES);
}

void keys_id_hex(char out[KEYS_ID_HEX], const unsigned char id[KEYS_ID_BYTES])
{
	sodium_bin2hex(out, KEYS_ID_HEX, id, KEYS_ID_BYTES);
}

int keys_id_parse(unsigned char id[KEYS_ID_BYTES], const char *hex)
{
	size_t n = 0;
	const char *end = NULL;

	if (strlen(hex) != 2 * KEYS_ID_BYTES)
		return -1;
	if (sodium_hex2bin(id, KEYS_ID_BYTES, hex, strlen(hex), NULL, &n,
			   &end) != 0 || n != KEYS_ID_BYTES || *end)
		return -1;
	return 0;
}

void keys_public_set(struct keys_public *pub,
		     const unsigned char pk[KEYS_PUBLIC_BYTES])
{
	memcpy(pub->pk, pk, KEYS_PUBLIC_BYTES);
	keys_id(pub->id, pub->pk);
	keys_id_hex(pub->id_hex, pub->id);
}

static struct keys_secret *secret_new(void)
{
	struct keys_secret *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->sk = sodium_malloc(KEYS_SECRET_BYTES);
	if (!k->sk) {
		free(k);
		return NULL;
	}
	return k;
}

void keys_secret_free(struct keys_secret *k)
{
	if (!k)
		return;
	sodium_free(k->sk); /* wipes */
	free(k);
}

int keys_generate(struct keys_secret **out, struct err *e)
{
	struct keys_secret *k = NULL;
	unsigned char pk[KEYS_PUBLIC_BYTES];

	*out = NULL;
	if (keys_init(e) < 0)
		return -1;
	k = secret_new();
	if (!k)
		return err_set(e, "cannot allocate key memory");
	crypto_box_keypair(pk, k->sk);
	keys_public_set(&k->pub, pk);
	*out = k;
	return 0;
}

int keys_public_format(struct strbuf *out, const struct keys_public *pub,
		       const char *comment)
{
	char b64[sodium_base64_ENCODED_LEN(KEYS_PUBLIC_BYTES,
					   sodium_base64_VARIANT_ORIGINAL)];

	sodium_bin2base64(b64, sizeof(b64), pub->pk, KEYS_PUBLIC_BYTES,
			  b64_variant);
	if (comment && *comment)
		return strbuf_addf(out, "%s %s %s %s\n", PUB_TAG, pub->id_hex,
				   b64, comment);
	return strbuf_addf(out, "%s %s %s\n", PUB_TAG, pub->id_hex, b64);
}

/* Split a line into at most max whitespace-separated fields, in place. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		fields[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* Decode standard base64 into exactly len bytes. */
static int b64_exact(unsigned char *bin, size_t len, const char *b64)
{
	size_t n = 0;
	const char *end = NULL;

	if (sodium_base642bin(bin, len, b64, strlen(b64), NULL, &n, &end,
			      b64_variant) != 0 || n != len || *end)
		return -1;
	return 0;
}

int keys_public_parse(struct keys_public *out, const char *text, size_t len,
		      const char *path, struct err *e)
{
	char line[KEY_FILE_MAX];
	char *fields[4];
	unsigned char pk[KEYS_PUBLIC_BYTES], id[KEYS_ID_BYTES];
	size_t n, linelen = strcspn(text, "\r\n");

	if (linelen > len)
		linelen = len;
	if (linelen >= sizeof(line))
		return err_set(e, "'%s' is not a saasctl public key: line too long",
			       path);
	memcpy(line, text, linelen);
	line[linelen] = '\0';
	n = split_fields(line, fields, 4);
	if (n < 3 || strcmp(fields[0], PUB_TAG))
		return err_set(e, "'%s' is not a saasctl public key: want '%s KEYID KEY'",
			       path, PUB_TAG);
	if (keys_id_parse(id, fields[1]) < 0)
		return err_set(e, "'%s' is not a saasctl public key: bad key ID",
			       path);
	if (b64_exact(pk, sizeof(pk), fields[2]) < 0)
		return err_set(e, "'%s' is not a saasctl public key: the key is not 32 bytes of base64",
			       path);
	keys_public_set(out, pk);
	if (sodium_memcmp(out->id, id, KEYS_ID_BYTES) != 0)
		return err_set(e, "'%s' is damaged: its key ID does not match its key",
			       path);
	return 0;
}

int keys_public_load(struct keys_public *out, const char *path, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	if (strbuf_read_file(&sb, path, KEY_FILE_MAX, e) < 0)
		return err_wrap(e, "cannot read public key");
	/* An empty file has no buffer at all. */
	r = keys_public_parse(out, sb.buf ? sb.buf : "", sb.len, path, e);
	strbuf_release(&sb);
	return r;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create path O_EXCL with mode and write buf; nothing is left on failure. */
static int create_file(const char *path, mode_t mode, const char *buf,
		       size_t len, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0)
		return err_errno(e, "cannot create '%s'", path);
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		err_errno(e, "cannot write '%s'", path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		err_errno(e, "cannot write '%s'", path);
		unlink(path);
		return -1;
	}
	return 0;
}

/* The secret key line, in sodium_malloc memory (it holds the key). */
static char *secret_line(const struct keys_secret *k, const char *passphrase,
			 size_t plen, size_t *len, struct err *e)
{
	enum { LINE = 512 };
	char *line = NULL, *b64 = NULL;
	unsigned char *dk = NULL;
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char ct[KEYS_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	char salt64[64], nonce64[64];
	unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	int n;

	line = sodium_malloc(LINE);
	b64 = sodium_malloc(LINE);
	dk = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (!line || !b64 || !dk) {
		err_set(e, "cannot allocate key memory");
		goto fail;
	}
	if (!passphrase) {
		sodium_bin2base64(b64, LINE, k->sk, KEYS_SECRET_BYTES,
				  b64_variant);
		n = snprintf(line, LINE, "%s %s plain %s\n", SECRET_TAG,
			     k->pub.id_hex, b64);
	} else {
		randombytes_buf(salt, sizeof(salt));
		randombytes_buf(nonce, sizeof(nonce));
		if (crypto_pwhash(dk, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
				  passphrase, plen, salt, ops, mem,
				  crypto_pwhash_ALG_ARGON2ID13) != 0) {
			err_set(e, "cannot derive a key from the passphrase: out of memory");
			goto fail;
		}
		/* The AAD is the key ID, so the ciphertext cannot be
		 * paired with another key's public half. */
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			ct, NULL, k->sk, KEYS_SECRET_BYTES,
			(const unsigned char *)k->pub.id_hex,
			2 * KEYS_ID_BYTES, NULL, nonce, dk);
		sodium_bin2base64(salt64, sizeof(salt64), salt, sizeof(salt),
				  b64_variant);
		sodium_bin2base64(nonce64, sizeof(nonce64), nonce,
				  sizeof(nonce), b64_variant);
		sodium_bin2base64(b64, LINE, ct, sizeof(ct), b64_variant);
		n = snprintf(line, LINE, "%s %s argon2id %llu %zu %s %s %s\n",
			     SECRET_TAG, k->pub.id_hex, ops, mem, salt64,
			     nonce64, b64);
	}
	if (n < 0 || n >= LINE) {
		err_set(e, "key line too long");
		goto fail;
	}
	*len = (size_t)n;
	sodium_free(b64);
	sodium_free(dk);
	return line;
fail:
	sodium_free(line);
	sodium_free(b64);
	sodium_free(dk);
	return NULL;
}

int keys_write_pair(const struct keys_secret *k, const char *dir,
		    const char *name, const char *passphrase,
		    size_t passphrase_len, struct err *e)
{
	struct strbuf keypath = STRBUF_INIT, pubpath = STRBUF_INIT;
	struct strbuf pub = STRBUF_INIT;
	char *line = NULL;
	size_t len = 0;
	int ret = -1;

	if (keys_init(e) < 0)
		return -1;
	strbuf_addf(&keypath, "%s/%s.key", dir, name);
	strbuf_addf(&pubpath, "%s/%s.pub", dir, name);
	/* Refuse before writing anything when either file exists. */
	if (access(pubpath.buf, F_OK) == 0) {
		err_set(e, "cannot create '%s': file exists", pubpath.buf);
		goto out;
	}
	line = secret_line(k, passphrase, passphrase_len, &len, e);
	if (!line)
		goto out;
	if (keys_public_format(&pub, &k->pub, name) < 0) {
		err_set(e, "out of memory");
		goto out;
	}
	if (create_file(keypath.buf, 0600, line, len, e) < 0)
		goto out;
	if (create_file(pubpath.buf, 0644, pub.buf, pub.len, e) < 0) {
		unlink(keypath.buf);
		goto out;
	}
	ret = 0;
out:
	sodium_free(line);
	strbuf_release(&keypath);
	strbuf_release(&pubpath);
	strbuf_release(&pub);
	return ret;
}

/*
 * Read a small file into sodium_malloc memory, NUL-terminated; *mode gets
 * its permission bits.
 */
static char *read_guarded(const char *path, size_t max, unsigned *mode,
			  size_t *len, struct err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err_errno(e, "cannot open '%s'", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		err_errno(e, "cannot stat '%s'", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "cannot read '%s': not a regular file", path);
		goto fail;
	}
	*mode = (unsigned)(st.st_mode & 07777);
	buf = sodium_malloc(max + 1);
	if (!buf) {
		err_set(e, "cannot allocate key memory");
		goto fail;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, max - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, "cannot read '%s'", path);
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == max) {
			err_set(e, "cannot read '%s': larger than %zu bytes",
				path, max);
			goto fail;
		}
	}
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
fail:
	sodium_free(buf);
	close(fd);
	return NULL;
}

static int open_encrypted(struct keys_secret *k, char **f, const char *path,
			  struct err *e)
{
	unsigned char salt[crypto_pwhash_SALTBYTES];
	unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned char ct[KEYS_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned char *dk = NULL;
	char *pass = NULL, *end = NULL, prompt[512];
	unsigned long long ops, mem;
	size_t plen = 0;
	int ret = -1;

	/* The messages name the limits, never the values read. */
	errno = 0;
	ops = strtoull(f[3], &end, 10);
	if (errno || *end || f[3][0] < '0' || f[3][0] > '9' ||
	    ops < crypto_pwhash_OPSLIMIT_MIN)
		return err_set(e, "'%s' is damaged: bad Argon2id opslimit", path);
	if (ops > PWHASH_OPS_MAX)
		return err_set(e, "refusing '%s': its Argon2id opslimit is above the maximum of %llu",
			       path, PWHASH_OPS_MAX);
	errno = 0;
	mem = strtoull(f[4], &end, 10);
	if (errno || *end || f[4][0] < '0' || f[4][0] > '9' ||
	    mem < crypto_pwhash_MEMLIMIT_MIN)
		return err_set(e, "'%s' is damaged: bad Argon2id memlimit", path);
	if (mem > PWHASH_MEM_MAX)
		return err_set(e, "refusing '%s': its Argon2id memlimit is above the maximum of %llu bytes (256 MiB)",
			       path, PWHASH_MEM_MAX);
	if (b64_exact(salt, sizeof(salt), f[5]) < 0 ||
	    b64_exact(nonce, sizeof(nonce), f[6]) < 0 ||
	    b64_exact(ct, sizeof(ct), f[7]) < 0)
		return err_set(e, "'%s' is damaged: bad base64 field", path);

	snprintf(prompt, sizeof(prompt), "passphrase for '%s': ", path);
	if (keys_passphrase_read(&pass, &plen, prompt, 0, e) < 0)
		return err_wrap(e, "cannot open '%s'", path);
	dk = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	if (!dk) {
		err_set(e, "cannot allocate key memory");
		goto out;
	}
	log_debug("deriving the key of '%s' with Argon2id (ops %llu, mem %llu)",
		  path, ops, mem);
	if (crypto_pwhash(dk, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
			  pass, plen, salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		err_set(e, "cannot open '%s': Argon2id ran out of memory", path);
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    k->sk, NULL, NULL, ct, sizeof(ct),
		    (const unsigned char *)f[1], 2 * KEYS_ID_BYTES, nonce,
		    dk) != 0) {
		err_set(e, "cannot open '%s': wrong passphrase (or the file is damaged)",
			path);
		goto out;
	}
	ret = 0;
out:
	sodium_free(dk);
	keys_passphrase_free(pass, plen);
	return ret;
}

int keys_secret_load(struct keys_secret **out, const char *path,
		     struct err *e)
{
	struct keys_secret *k = NULL;
	unsigned char pk[KEYS_PUBLIC_BYTES], id[KEYS_ID_BYTES];
	char *text = NULL, *f[9];
	size_t len = 0, n;
	unsigned mode = 0;
	int ret = -1;

	*out = NULL;
	if (keys_init(e) < 0)
		return -1;
	text = read_guarded(path, KEY_FILE_MAX, &mode, &len, e);
	if (!text)
		return -1;
	text[strcspn(text, "\r\n")] = '\0';
	n = split_fields(text, f, 9);
	if (n < 3 || strcmp(f[0], SECRET_TAG)) {
		if (n >= 1 && !strcmp(f[0], PUB_TAG))
			err_set(e, "'%s' is a public key; -k wants the secret key (NAME.key)",
				path);
		else
			err_set(e, "'%s' is not a saasctl secret key", path);
		goto out;
	}
	/* As ssh does: a key others could read may have leaked. */
	if (mode & 077) {
		err_set(e, "refusing '%s': mode %04o lets group or others read it; run 'chmod 600 %s'",
			path, mode, path);
		goto out;
	}
	if (keys_id_parse(id, f[1]) < 0) {
		err_set(e, "'%s' is damaged: bad key ID", path);
		goto out;
	}
	k = secret_new();
	if (!k) {
		err_set(e, "cannot allocate key memory");
		goto out;
	}
	if (!strcmp(f[2], "plain") && n == 4) {
		if (b64_exact(k->sk, KEYS_SECRET_BYTES, f[3]) < 0) {
			err_set(e, "'%s' is damaged: the key is not 32 bytes of base64",
				path);
			goto out;
		}
	} else if (!strcmp(f[2], "argon2id") && n == 8) {
		if (open_encrypted(k, f, path, e) < 0)
			goto out;
	} else if (!strcmp(f[2], "plain") || !strcmp(f[2], "argon2id")) {
		err_set(e, "'%s' is damaged: a %s key line has %d fields",
			path, !strcmp(f[2], "plain") ? "plain" : "argon2id",
			!strcmp(f[2], "plain") ? 4 : 8);
		goto out;
	} else {
		/* Never quote the field: in a damaged file it may be the
		 * secret key itself. */
		err_set(e, "'%s' is not a saasctl secret key: unknown protection (want plain or argon2id)",
			path);
		goto out;
	}
	crypto_scalarmult_base(pk, k->sk);
	keys_public_set(&k->pub, pk);
	if (sodium_memcmp(k->pub.id, id, KEYS_ID_BYTES) != 0) {
		err_set(e, "'%s' is damaged: its key ID does not match its key",
			path);
		goto out;
	}
	log_debug("loaded secret key '%s' (key ID %s)", path, k->pub.id_hex);
	*out = k;
	k = NULL;
	ret = 0;
out:
	keys_secret_free(k);
	sodium_free(text);
	return ret;
}

void keys_passphrase_free(char *p, size_t len)
{
	(void)len;
	sodium_free(p);
}

/* One line from the terminal with echo off; the prompt goes there too. */
static int tty_line(int fd, const char *prompt, char *buf, size_t max,
		    size_t *len, struct err *e)
{
	struct termios old, quiet;
	size_t got = 0;
	int restore = 0, ret = -1;

	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	if (write_all(fd, prompt, strlen(prompt)) < 0) {
		err_errno(e, "cannot write to the terminal");
		goto out;
	}
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, "cannot read the terminal");
			goto out;
		}
		if (n == 0 || c == '\n' || c == '\r')
			break;
		if (got + 1 >= max) {
			err_set(e, "passphrase longer than %zu bytes", max - 1);
			goto out;
		}
		buf[got++] = c;
	}
	buf[got] = '\0';
	*len = got;
	ret = 0;
out:
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	return ret;
}

int keys_passphrase_read(char **out, size_t *len, const char *prompt,
			 int confirm, struct err *e)
{
	const char *file = getenv("SAASCTL_PASSPHRASE_FILE");
	char *buf = NULL, *again = NULL;
	size_t n = 0, n2 = 0;
	int fd = -1, ret = -1;

	*out = NULL;
	*len = 0;
	if (keys_init(e) < 0)
		return -1;
	if (file && *file) {
		unsigned mode = 0;

		buf = read_guarded(file, PASSPHRASE_MAX, &mode, &n, e);
		if (!buf)
			return err_wrap(e, "cannot read the passphrase (SAASCTL_PASSPHRASE_FILE)");
		/* The passphrase guards a key: refused as a key file is. */
		if (mode & 077) {
			err_set(e, "refusing the passphrase file '%s' (SAASCTL_PASSPHRASE_FILE): mode %04o lets group or others read it; run 'chmod 600 %s'",
				file, mode, file);
			goto out;
		}
		n = strcspn(buf, "\r\n");
		sodium_memzero(buf + n, PASSPHRASE_MAX + 1 - n);
	} else {
		fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			err_set(e, "cannot read the passphrase: no terminal; set SAASCTL_PASSPHRASE_FILE");
			goto out;
		}
		buf = sodium_malloc(PASSPHRASE_MAX + 1);
		if (!buf) {
			err_set(e, "cannot allocate key memory");
			goto out;
		}
		if (tty_line(fd, prompt, buf, PASSPHRASE_MAX + 1, &n, e) < 0)
			goto out;
		if (confirm) {
			again = sodium_malloc(PASSPHRASE_MAX + 1);
			if (!again) {
				err_set(e, "cannot allocate key memory");
				goto out;
			}
			if (tty_line(fd, "again: ", again, PASSPHRASE_MAX + 1,
				     &n2, e) < 0)
				goto out;
			if (n != n2 || sodium_memcmp(buf, again, n) != 0) {
				err_set(e, "the passphrases do not match");
				goto out;
			}
		}
	}
	if (n == 0) {
		err_set(e, "the passphrase is empty");
		goto out;
	}
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	sodium_free(buf);
	sodium_free(again);
	return ret;
}

int keys_secret_format_plain(char **out, size_t *len,
			     const struct keys_secret *k, struct err *e)
{
	enum { LINE = 512 };
	char b64[128];
	int n;

	*out = sodium_malloc(LINE);
	*len = 0;
	if (!*out)
		return err_set(e, "cannot allocate key memory");
	sodium_bin2base64(b64, sizeof(b64), k->sk, KEYS_SECRET_BYTES,
			  b64_variant);
	n = snprintf(*out, LINE, "%s %s plain %s\n", SECRET_TAG,
		     k->pub.id_hex, b64);
	sodium_memzero(b64, sizeof(b64));
	*len = (size_t)n;
	return 0;
}

static int keys_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int keys_add(struct keys_secret ***out, size_t *n, const char *path,
		    struct err *e)
{
	struct keys_secret *k = NULL, **na;

	if (keys_secret_load(&k, path, e) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*out)[i]->pub.id_hex, k->pub.id_hex)) {
			keys_secret_free(k);
			return 0;
		}
	na = realloc(*out, (*n + 1) * sizeof(*na));
	if (!na)
		abort();
	*out = na;
	(*out)[(*n)++] = k;
	return 0;
}

int keys_secret_load_all(struct keys_secret ***out, size_t *n,
			 const char *const *paths, size_t npaths,
			 struct err *e)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;
		char **names = NULL;
		size_t nnames = 0, before = *n;
		int r = 0;

		if (stat(paths[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (keys_add(out, n, paths[i], e) < 0)
				goto fail;
			continue;
		}
		if (!(d = opendir(paths[i]))) {
			err_errno(e, "cannot read '%s'", paths[i]);
			goto fail;
		}
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);

			/* a Secret volume's own "..data" links are skipped */
			if (de->d_name[0] == '.' || l < 5 ||
			    strcmp(de->d_name + l - 4, ".key"))
				continue;
			names = realloc(names, (nnames + 1) * sizeof(char *));
			if (!names || asprintf(&names[nnames], "%s/%s", paths[i],
					       de->d_name) < 0)
				abort();
			nnames++;
		}
		closedir(d);
		qsort(names, nnames, sizeof(char *), keys_cmp_str);
		for (size_t j = 0; j < nnames; j++) {
			if (!r && keys_add(out, n, names[j], e) < 0)
				r = -1;
			free(names[j]);
		}
		free(names);
		if (r < 0)
			goto fail;
		if (*n == before) {
			err_set(e, "no key files (*.key) in '%s'", paths[i]);
			goto fail;
		}
	}
	return 0;
fail:
	for (size_t i = 0; i < *n; i++)
		keys_secret_free((*out)[i]);
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}
