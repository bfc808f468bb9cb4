/* SPDX-License-Identifier: MIT */
/*
 * access.c: who may do what. The peer's credentials come from SO_PEERCRED
 * (server.c); the rules from the config (a lockspace's section, else the
 * defaults at the top, else root only). The daemon's own uid is always
 * allowed, and admin may do everything. Creating a name by acquiring it
 * needs the create rule (default: the acquire rule). Reading is allowed to
 * anyone who can open the socket.
 */
#include "base/compat.h"
#include "daemon/daemon.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

static bool access_in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd *pw;
	gid_t groups[256];
	int n = (int)DL_ARRAY_SIZE(groups);

	if (gid == want)
		return true;
	pw = getpwuid(uid);
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (groups[i] == want)
			return true;
	}
	return false;
}

static bool access_match(const struct access_list *al, uid_t uid, gid_t gid)
{
	for (uint32_t i = 0; i < al->count; i++) {
		const struct access_rule *r = &al->rules[i];

		if (r->kind == ACCESS_ANY || (r->kind == ACCESS_UID && r->id == uid) ||
		    (r->kind == ACCESS_GID && access_in_group(uid, gid, r->id)))
			return true;
	}
	return false;
}

static const struct access_list *access_list_for(const struct dleased *dd, enum access_class cls,
                                                 const char *lockspace)
{
	const struct config_space *s = lockspace ? config_space_find(&dd->cfg, lockspace) : NULL;
	const struct access_list *al;

	switch (cls) {
	case ACCESS_ADMIN:
		al = s && s->admin.set ? &s->admin : &dd->cfg.admin;
		break;
	case ACCESS_CREATE:
		/* who may create names by acquiring them: the create rule, else the acquire rule */
		al = s && s->create.set ? &s->create
		                        : (dd->cfg.create.set ? &dd->cfg.create : NULL);
		if (al)
			break;
		/* fall through */
	default:
		al = s && s->acquire.set ? &s->acquire : &dd->cfg.acquire;
		break;
	}
	return al;
}

bool access_allowed(const struct dleased *dd, uid_t uid, gid_t gid, enum access_class cls,
                    const char *lockspace, char *why, size_t why_size)
{
	const struct access_list *al;
	struct passwd *pw;

	if (cls == ACCESS_READ || uid == 0 || uid == getuid())
		return true;
	al = access_list_for(dd, ACCESS_ADMIN, lockspace);
	if (access_match(al, uid, gid))
		return true; /* admin may do everything */
	if (cls == ACCESS_ACQUIRE || cls == ACCESS_CREATE) {
		al = access_list_for(dd, cls, lockspace);
		if (access_match(al, uid, gid))
			return true;
	}
	pw = getpwuid(uid);
	snprintf(why, why_size, "uid %u (user %s) may not %s in lockspace %s", (unsigned)uid,
	         pw ? pw->pw_name : "?",
	         cls == ACCESS_ADMIN    ? "administer"
	         : cls == ACCESS_CREATE ? "create resources"
	                                : "acquire",
	         lockspace && *lockspace ? lockspace : "(any)");
	return false;
}
