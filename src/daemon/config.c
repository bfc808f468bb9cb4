/* SPDX-License-Identifier: MIT */
/*
 * config.c: the configuration file of docs/daemon.md: "key = value" lines,
 * '#' comments, "[lockspace NAME]" sections. Parsing only: nothing here acts
 * on the values. Every error names the file's line.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "banned.h"

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->engine = IOE_AUTO;
	cfg->log_level = DL_LOG_INFO;
}

void config_free(struct config *cfg)
{
	free(cfg->watchdog);
	free(cfg->kill_command);
	free(cfg->socket_group);
	free(cfg->audit_log);
	free(cfg->metrics_file);
	for (uint32_t i = 0; i < cfg->space_count; i++) {
		for (uint32_t d = 0; d < cfg->spaces[i].disk_count; d++)
			free(cfg->spaces[i].disks[d]);
	}
	memset(cfg, 0, sizeof(*cfg));
}

const struct config_space *config_space_find(const struct config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->space_count; i++) {
		if (strcmp(cfg->spaces[i].name, name) == 0)
			return &cfg->spaces[i];
	}
	return NULL;
}

static char *config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int config_u32(const char *v, uint32_t max, uint32_t *out)
{
	uint64_t x;

	if (proto_parse_u64(v, &x) < 0 || x > max)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

/* "user:root group:kvm uid:1000 gid:27 any" */
static int config_access(char *v, struct access_list *al, char *why, size_t why_size)
{
	char *save = NULL;

	memset(al, 0, sizeof(*al));
	al->set = true;
	for (char *tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		struct access_rule *r;
		char *arg = strchr(tok, ':');

		if (al->count == DLEASED_RULES_MAX) {
			snprintf(why, why_size, "more than %u entries", DLEASED_RULES_MAX);
			return -EINVAL;
		}
		r = &al->rules[al->count++];
		if (strcmp(tok, "any") == 0) {
			r->kind = ACCESS_ANY;
			continue;
		}
		if (!arg) {
			snprintf(why, why_size,
			         "\"%s\": want user:NAME, uid:N, group:NAME, gid:N or any", tok);
			return -EINVAL;
		}
		*arg++ = '\0';
		if (strcmp(tok, "uid") == 0 || strcmp(tok, "gid") == 0) {
			r->kind = tok[0] == 'u' ? ACCESS_UID : ACCESS_GID;
			if (config_u32(arg, UINT32_MAX - 1, &r->id) < 0) {
				snprintf(why, why_size, "\"%s:%s\": not a number", tok, arg);
				return -EINVAL;
			}
		} else if (strcmp(tok, "user") == 0) {
			struct passwd *pw = getpwnam(arg);

			if (!pw) {
				snprintf(why, why_size, "no such user \"%s\"", arg);
				return -EINVAL;
			}
			r->kind = ACCESS_UID;
			r->id = pw->pw_uid;
		} else if (strcmp(tok, "group") == 0) {
			struct group *gr = getgrnam(arg);

			if (!gr) {
				snprintf(why, why_size, "no such group \"%s\"", arg);
				return -EINVAL;
			}
			r->kind = ACCESS_GID;
			r->id = gr->gr_gid;
		} else {
			snprintf(why, why_size, "\"%s\": want user, uid, group, gid or any", tok);
			return -EINVAL;
		}
	}
	return 0;
}

static int config_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static int config_global(struct config *cfg, const char *key, char *v, char *why, size_t why_size)
{
	if (strcmp(key, "host_name") == 0) {
		if (!*v || strlen(v) > ONDISK_HOST_NAME_SIZE) {
			snprintf(why, why_size, "host_name must be 1..%u bytes",
			         ONDISK_HOST_NAME_SIZE);
			return -EINVAL;
		}
		snprintf(cfg->host_name, sizeof(cfg->host_name), "%s", v);
		return 0;
	}
	if (strcmp(key, "engine") == 0) {
		if (ioe_kind_parse(v, &cfg->engine) < 0 || cfg->engine == IOE_SIM) {
			snprintf(why, why_size, "engine must be uring, aio or auto, not \"%s\"", v);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "watchdog") == 0)
		return config_str(&cfg->watchdog, v);
	if (strcmp(key, "kill_command") == 0)
		return config_str(&cfg->kill_command, v);
	if (strcmp(key, "socket_group") == 0) {
		if (!getgrnam(v)) {
			snprintf(why, why_size, "no such group \"%s\"", v);
			return -EINVAL;
		}
		return config_str(&cfg->socket_group, v);
	}
	if (strcmp(key, "audit_log") == 0)
		return config_str(&cfg->audit_log, v);
	if (strcmp(key, "metrics_file") == 0)
		return config_str(&cfg->metrics_file, v);
	if (strcmp(key, "kill_grace_ms") == 0) {
		if (config_u32(v, 3600000, &cfg->kill_grace_ms) < 0) {
			snprintf(why, why_size, "kill_grace_ms must be 0..3600000");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		static const char *const names[] = {"error", "warn", "info", "debug"};

		for (int i = 0; i < 4; i++) {
			if (strcmp(v, names[i]) == 0) {
				cfg->log_level = i;
				return 0;
			}
		}
		snprintf(why, why_size, "log_level must be error, warn, info or debug");
		return -EINVAL;
	}
	if (strcmp(key, "acquire") == 0)
		return config_access(v, &cfg->acquire, why, why_size);
	if (strcmp(key, "create") == 0)
		return config_access(v, &cfg->create, why, why_size);
	if (strcmp(key, "admin") == 0)
		return config_access(v, &cfg->admin, why, why_size);
	snprintf(why, why_size, "unknown key \"%s\"", key);
	return -EINVAL;
}

static int config_section(struct config_space *s, const char *key, char *v, char *why,
                          size_t why_size)
{
	if (strcmp(key, "host_id") == 0) {
		if (config_u32(v, 65535, &s->host_id) < 0 || s->host_id == 0) {
			snprintf(why, why_size, "host_id must be 1..65535");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "disk") == 0) {
		if (s->disk_count == IOE_DISKS_MAX) {
			snprintf(why, why_size, "more than %u disks", IOE_DISKS_MAX);
			return -EINVAL;
		}
		s->disks[s->disk_count] = strdup(v);
		if (!s->disks[s->disk_count])
			return -ENOMEM;
		s->disk_count++;
		return 0;
	}
	if (strcmp(key, "acquire") == 0)
		return config_access(v, &s->acquire, why, why_size);
	if (strcmp(key, "create") == 0)
		return config_access(v, &s->create, why, why_size);
	if (strcmp(key, "admin") == 0)
		return config_access(v, &s->admin, why, why_size);
	snprintf(why, why_size, "unknown key \"%s\" in a lockspace section", key);
	return -EINVAL;
}

int config_load(struct config *cfg, const char *path, char *why, size_t why_size)
{
	struct config_space *sec = NULL;
	char line[1024], msg[200];
	uint32_t n = 0;
	int rc = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		rc = -errno;
		snprintf(why, why_size, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *hash;

		n++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = config_trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char name[128];

			if (sscanf(s, "[lockspace %100[^]]]", name) != 1 || !*config_trim(name)) {
				snprintf(msg, sizeof(msg), "want \"[lockspace NAME]\"");
				rc = -EINVAL;
				break;
			}
			if (strlen(config_trim(name)) > ONDISK_NAME_SIZE ||
			    cfg->space_count == DLEASED_LOCKSPACES_MAX ||
			    config_space_find(cfg, config_trim(name))) {
				snprintf(
				        msg, sizeof(msg),
				        "lockspace name too long, repeated, or more than %u sections",
				        DLEASED_LOCKSPACES_MAX);
				rc = -EINVAL;
				break;
			}
			sec = &cfg->spaces[cfg->space_count++];
			snprintf(sec->name, sizeof(sec->name), "%s", config_trim(name));
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(msg, sizeof(msg), "want \"key = value\"");
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = sec ? config_section(sec, config_trim(s), config_trim(eq + 1), msg,
		                          sizeof(msg))
		         : config_global(cfg, config_trim(s), config_trim(eq + 1), msg,
		                         sizeof(msg));
		if (rc < 0)
			break;
	}
	fclose(f);
	if (rc < 0) {
		snprintf(why, why_size, "%s line %u: %s", path, n, msg);
		return rc;
	}
	for (uint32_t i = 0; i < cfg->space_count; i++) {
		const struct config_space *c = &cfg->spaces[i];

		if ((c->host_id == 0) != (c->disk_count == 0)) {
			snprintf(why, why_size,
			         "%s: [lockspace %s] needs both host_id and disk, or neither", path,
			         c->name);
			return -EINVAL;
		}
	}
	return 0;
}
