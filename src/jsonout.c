#include "jsonout.h"

#include <stdio.h>
#include <string.h>

int jsonout_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			min = 0x80;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			min = 0x800;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			min = 0x10000;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* The text for a message: valid UTF-8 kept, other bytes and controls as
 * \xNN (a backslash as \\), cut to the buffer. */
static void escape(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0, i = 0;

	while (i < len && o + 12 < cap) {
		unsigned char c = (unsigned char)s[i];
		size_t w = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c >= 0x20 && c != 0x7f && i + w <= len &&
			   jsonout_utf8_valid(s + i, w)) {
			memcpy(out + o, s + i, w);
			o += w;
			i += w;
			continue;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		}
		i++;
	}
	if (i < len)
		o += (size_t)snprintf(out + o, cap - o, "...");
	out[o] = '\0';
}

json_t *jsonout_strn(struct jsonout *jo, const char *s, size_t len)
{
	json_t *j;

	if (!s)
		return json_null();
	if (jsonout_utf8_valid(s, len) && (j = json_stringn(s, len)))
		return j;
	if (!jo->failed)
		escape(jo->first, sizeof(jo->first), s, len);
	jo->failed = 1;
	return json_null();
}

json_t *jsonout_str(struct jsonout *jo, const char *s)
{
	return jsonout_strn(jo, s, s ? strlen(s) : 0);
}

int jsonout_check(const struct jsonout *jo, struct err *e)
{
	if (!jo->failed)
		return 0;
	return err_set(e, "cannot write JSON: '%s' is not UTF-8 text (JSON "
			  "strings must be); rename it or use the text output",
		       jo->first);
}
