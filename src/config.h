/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The configuration file: "key = value" lines whose keys are the long option
 * names (lan-dev = eth1). Read with libinih; every key and value is checked
 * when the file is read, so a mistake is refused as FILE:LINE by every command.
 * A command gets the keys it takes as options placed before its own
 * arguments, so its command line wins.
 */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "diag.h"

#define CS_CONFIG_DEFAULT "/etc/cpushaper/cpushaper.conf"

struct config_entry {
	const char *key; /* the table's name */
	char *value;
	unsigned int line;
};

struct config {
	char *file;      /* NULL: no file was read */
	struct config_entry *e;
	size_t n;
};

/*
 * Read @path into @cfg. A file that does not exist is fine unless
 * CONFIG_REQUIRED (then -ENOENT). Every problem goes to @d as FILE:LINE:
 * reason; then -EINVAL and @cfg is empty, or with CONFIG_LENIENT 0 and @cfg
 * holds the lines that were right.
 */
#define CONFIG_REQUIRED 1u
#define CONFIG_LENIENT 2u
int config_read(const char *path, unsigned int flags, struct config *cfg, struct cs_diag *d);
void config_free(struct config *cfg);
/* The value of @key, or NULL; *line (if given) its line. */
const char *config_get(const struct config *cfg, const char *key, unsigned int *line);

/* A command's arguments with the configured options put first. */
struct config_args {
	int argc;
	char **argv;
	char **owned; /* the --key=value strings, freed with the args */
	size_t n_owned;
};

/*
 * The arguments of command @cmd (@argv[0]) with @cfg's keys @cmd takes put
 * first as --key=value, so that options given later override them.
 * Returns 0 or -ENOMEM.
 */
int config_argv(const struct config *cfg, const char *cmd, int argc, char **argv,
		struct config_args *a);
void config_args_free(struct config_args *a);

/* "127.0.0.1:9630", "[::1]:9630" -> a socket address (numeric only). */
int config_parse_listen(const char *text, struct sockaddr_storage *ss);

#endif
