/* SPDX-License-Identifier: MIT */
/*
 * json.c: just enough JSON reading for fio's --output-format=json: find a key
 * in an object, an element in an array, a number. It walks the text in place
 * (no tree, no allocation) and returns NULL on anything malformed. Keys are
 * compared byte for byte between their quotes (fio's keys carry no escapes).
 */
#include "base/compat.h"
#include "dlbench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define DLBENCH_JSON_DEPTH_MAX 64

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* p at the opening quote; returns just past the closing one. */
static const char *json_skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *json_skip_value(const char *p, int depth);

/* p at '{' or '['; returns just past the matching close. */
static const char *json_skip_container(const char *p, int depth)
{
	char close = *p == '{' ? '}' : ']';

	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	while (p && *p) {
		if (close == '}') {
			if (*p != '"' || !(p = json_skip_string(p)))
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_skip_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return NULL;
}

static const char *json_skip_value(const char *p, int depth)
{
	const char *start;

	if (depth > DLBENCH_JSON_DEPTH_MAX)
		return NULL;
	p = json_ws(p);
	if (*p == '"')
		return json_skip_string(p);
	if (*p == '{' || *p == '[')
		return json_skip_container(p, depth);
	start = p;
	while (*p && !strchr(",}] \t\r\n", *p))
		p++;
	return p == start ? NULL : p;
}

const char *dlbench_json_get(const char *obj, const char *key)
{
	size_t key_len = strlen(key);
	const char *p = obj ? json_ws(obj) : NULL;

	if (!p || *p != '{')
		return NULL;
	p = json_ws(p + 1);
	while (*p == '"') {
		const char *k = p + 1, *end = json_skip_string(p);

		if (!end)
			return NULL;
		p = json_ws(end);
		if (*p++ != ':')
			return NULL;
		p = json_ws(p);
		if ((size_t)(end - 1 - k) == key_len && !memcmp(k, key, key_len))
			return p;
		p = json_skip_value(p, 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return NULL;
}

const char *dlbench_json_index(const char *arr, uint32_t index)
{
	const char *p = arr ? json_ws(arr) : NULL;

	if (!p || *p != '[')
		return NULL;
	p = json_ws(p + 1);
	if (*p == ']')
		return NULL;
	for (uint32_t i = 0; p && *p; i++) {
		if (i == index)
			return p;
		p = json_skip_value(p, 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p != ',')
			return NULL;
		p = json_ws(p + 1);
	}
	return NULL;
}

int dlbench_json_number(const char *v, double *out)
{
	char *end;

	if (!v)
		return -EINVAL;
	v = json_ws(v);
	if (*v != '-' && (*v < '0' || *v > '9'))
		return -EINVAL;
	*out = strtod(v, &end);
	return end == v ? -EINVAL : 0;
}

int dlbench_json_path_number(const char *obj, const char *const *keys, double *out)
{
	for (; obj && *keys; keys++)
		obj = dlbench_json_get(obj, *keys);
	return obj && dlbench_json_number(obj, out) == 0 ? 0 : -ENOENT;
}
