#ifndef SAASCTL_SECRET_H
#define SAASCTL_SECRET_H

/*
 * What the sealed secrets commands and the in-cluster controller share
 * beyond the item format of src/sealed: an opened Secret rendered as YAML,
 * as JSON or as env lines; a SealedSecret re-wrapped for another recipient
 * set (rekey); a SealedSecret checked item by item (verify); and the key
 * that opens a SealedSecret picked from several by key ID.
 *
 * Rendered buffers hold plaintext: wipe them (sodium_memzero) before
 * releasing them.
 */

#include <stddef.h>

#include <jansson.h>

#include "err.h"
#include "keys.h"
#include "sealed.h"
#include "strbuf.h"

/*
 * A Secret as YAML: apiVersion, kind, metadata (annotations, labels, name,
 * namespace), type and data (base64), keys sorted. Sorts p's lists.
 */
void secret_yaml(struct strbuf *out, struct sealed_plain *p);
/* The same as a JSON object (new reference). */
json_t *secret_json(const struct sealed_plain *p);
/*
 * KEY=VALUE lines, each value one shell word. Fails when an item key is
 * not a variable name or a value holds a NUL byte.
 */
int secret_env(struct strbuf *out, const struct sealed_plain *p,
	       struct err *e);

/* Append base64 (standard alphabet, padded) of v. */
void secret_base64(struct strbuf *out, const void *v, size_t len);

/*
 * The recipients of s as hex key IDs: spec.recipients, or the wraps of its
 * first item. *out is malloc'd, each string too.
 */
int secret_recipients(const struct sealed_secret *s, char ***out, size_t *n,
		      struct err *e);
void secret_ids_free(char **ids, size_t n);

/*
 * Rekey s in memory for its current recipients, less remove (hex key IDs),
 * plus add. The public keys of the recipients kept come from pool. k is
 * the secret key of a current recipient. With a removal every item is
 * sealed again with a fresh item key (a removed recipient may have kept
 * the old ones); with additions only the wraps change. Returns 1 when s
 * changed, 0 when it already had that recipient set, -1 on error.
 */
int secret_rekey(struct sealed_secret *s, const struct keys_secret *k,
		 const struct keys_public *pool, size_t npool,
		 const struct keys_public *add, size_t nadd,
		 char *const *remove, size_t nremove, struct err *e);

/*
 * Check s without trusting it: recipients and items present, every item
 * decodes, is wrapped to exactly spec.recipients, and (with k) opens.
 * Calls problem() once per finding (item NULL for the whole secret; line
 * where it was read); returns the number of findings.
 */
size_t secret_check(const struct sealed_secret *s, const struct keys_secret *k,
		    void (*problem)(void *ud, unsigned line, const char *item,
				    const char *msg),
		    void *ud);

/*
 * The key of keys that opens s, chosen by key ID (spec.recipients, else
 * the wraps of its first item), never by trial. NULL with e filled ("no
 * key for recipients 8ef1..., 0c2a...") when none is a recipient.
 */
const struct keys_secret *secret_pick_key(const struct sealed_secret *s,
					  struct keys_secret *const *keys,
					  size_t nkeys, struct err *e);

#endif
