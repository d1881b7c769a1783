// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "cpulist.h"
#include "cpushaper.h"
#include "diag.h"
#include "rate.h"

/* Commands that take a key as an option. */
enum {
	C_LOAD = 1 << 0,
	C_SHOW = 1 << 1,
	C_SETRATE = 1 << 2,
	C_TOP = 1 << 3,
	C_METRICS = 1 << 4,
	C_UNLOAD = 1 << 5,
	C_CHECK = 1 << 6,
	C_ALL = (1 << 7) - 1,
};

static const struct {
	const char *name;
	unsigned int bit;
} commands[] = {
	{ "load", C_LOAD }, { "show", C_SHOW },	      { "set-rate", C_SETRATE },
	{ "top", C_TOP },   { "metrics", C_METRICS }, { "unload", C_UNLOAD }, { "check", C_CHECK },
};

enum kind { K_DEV, K_PATH, K_NETWORK, K_NAME, K_RATE, K_UINT, K_WORD, K_UNKNOWN, K_CPUS, K_BOOL, K_LISTEN };

/* The same ranges and words as the options (cmd_*.c), which parse these again. */
static const struct key {
	const char *name;
	enum kind kind;
	unsigned int cmds; /* 0: read by a command itself (customers: load's FILE) */
	unsigned long lo, hi;
	const char *words;
} keys[] = {
	{ .name = "lan-dev", .kind = K_DEV, .cmds = C_ALL & ~C_CHECK },
	{ .name = "wan-dev", .kind = K_DEV, .cmds = C_ALL & ~C_CHECK },
	{ .name = "customers", .kind = K_PATH, .cmds = 0 },
	{ .name = "network", .kind = K_NETWORK, .cmds = C_LOAD | C_CHECK },
	{ .name = "root", .kind = K_NAME, .cmds = C_LOAD | C_CHECK },
	{ .name = "cpus", .kind = K_CPUS, .cmds = C_LOAD },
	{ .name = "htbs-per-cpu", .kind = K_UINT, .cmds = C_LOAD, .lo = 1, .hi = 256 },
	{ .name = "link-mbps", .kind = K_RATE, .cmds = C_LOAD },
	{ .name = "default-mbps", .kind = K_RATE, .cmds = C_LOAD },
	{ .name = "unknown", .kind = K_UNKNOWN, .cmds = C_LOAD },
	{ .name = "leaf", .kind = K_WORD, .cmds = C_LOAD, .words = "fq_codel cake fifo none pfifo" },
	{ .name = "queue-ms", .kind = K_UINT, .cmds = C_LOAD, .lo = 1, .hi = 1000 },
	{ .name = "xdp-mode", .kind = K_WORD, .cmds = C_LOAD, .words = "native skb" },
	{ .name = "cpumap-qsize", .kind = K_UINT, .cmds = C_LOAD, .lo = 8, .hi = 16384 },
	{ .name = "skip-local", .kind = K_BOOL, .cmds = C_LOAD },
	{ .name = "xdp-meta", .kind = K_BOOL, .cmds = C_LOAD },
	{ .name = "rtt", .kind = K_BOOL, .cmds = C_LOAD },
	{ .name = "rtt-flows", .kind = K_UINT, .cmds = C_LOAD, .lo = CS_FLOW_SETS_MIN * CS_FLOW_WAYS,
	  .hi = CS_FLOW_SETS_MAX * CS_FLOW_WAYS },
	{ .name = "skip-invalid", .kind = K_BOOL, .cmds = C_LOAD | C_CHECK },
	{ .name = "max-remove", .kind = K_UINT, .cmds = C_LOAD, .lo = 0, .hi = 100 },
	{ .name = "listen", .kind = K_LISTEN, .cmds = C_METRICS },
	{ .name = "circuit-series", .kind = K_BOOL, .cmds = C_METRICS },
	{ .name = "circuit-rtt", .kind = K_BOOL, .cmds = C_METRICS },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

int config_parse_listen(const char *text, struct sockaddr_storage *ss)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char host[128];
	const char *port;
	size_t hl;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - text - 1);
		port = close + 2;
		text++;
	} else {
		port = strrchr(text, ':');
		if (!port)
			return -EINVAL;
		hl = (size_t)(port - text);
		port++;
	}
	if (hl == 0 || hl >= sizeof(host) || !*port)
		return -EINVAL;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, port, &hints, &res))
		return -EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int parse_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcmp(v, yes[i]))
			return 1;
		if (!strcmp(v, no[i]))
			return 0;
	}
	return -1;
}

static bool has_word(const char *words, const char *v)
{
	size_t n = strlen(v);

	for (const char *w = words; *w;) {
		size_t wl = strcspn(w, " ");

		if (wl == n && !strncmp(w, v, n))
			return true;
		w += wl + (w[wl] == ' ');
	}
	return false;
}

/* NULL if @v is a good value of @k, else why not. */
static const char *check_value(const struct key *k, const char *v, char *buf, size_t len)
{
	const char *why = NULL;
	uint64_t bps;
	bool cpus[CS_MAX_CPUS];
	struct sockaddr_storage ss;

	switch (k->kind) {
	case K_DEV:
		if (strlen(v) >= IFNAMSIZ || strpbrk(v, "/: \t"))
			return "is not a device name";
		return NULL;
	case K_PATH:
	case K_NETWORK:
	case K_NAME:
		return NULL;
	case K_RATE:
		return rate_parse_mbps(v, &bps, &why) ? why : NULL;
	case K_CPUS:
		return cpulist_parse(v, cpus, &why) ? why : NULL;
	case K_UINT: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (*end || errno || v[0] == '-' || n < k->lo || n > k->hi) {
			snprintf(buf, len, "takes %lu to %lu", k->lo, k->hi);
			return buf;
		}
		return NULL;
	}
	case K_WORD:
		if (has_word(k->words, v))
			return NULL;
		snprintf(buf, len, "takes one of: %s", k->words);
		return buf;
	case K_UNKNOWN:
		if (!strcmp(v, "pass"))
			return NULL;
		if (!strncmp(v, "cpu:", 4) && v[4]) {
			char *end;
			unsigned long cpu = strtoul(v + 4, &end, 10);

			if (!*end && v[4] != '-' && cpu < CS_MAX_CPUS)
				return NULL;
		}
		return "takes pass or cpu:N";
	case K_BOOL:
		return parse_bool(v) < 0 ? "takes yes or no" : NULL;
	case K_LISTEN:
		return config_parse_listen(v, &ss) ? "takes ADDR:PORT, e.g. 127.0.0.1:9630 or [::1]:9630" :
						     NULL;
	}
	return NULL;
}

/* Longest line read whole: Debian's libinih lets us size its buffer; upstream's is fixed. */
#ifdef CS_INIH_RUNTIME
#define LINE_MAX_BYTES 4096
#else
#define LINE_MAX_BYTES INI_MAX_LINE
#endif

struct parse {
	const char *file;
	FILE *f;
	unsigned int line;  /* of the text inih has read last */
	size_t line_len;    /* of it, so far */
	bool at_start;      /* the next text read starts a line */
	bool nomem;
	char *dir;          /* relative paths are read from the file's directory */
	struct config *cfg;
	struct cs_diag *diag;
};

/* Neither key = value, a comment nor blank (a [section] line is refused by itself). */
static bool not_a_setting(const char *s)
{
	s += strspn(s, " \t\r\n");
	return *s && !strchr("#;[", *s) && !strpbrk(s, "=:");
}

/*
 * fgets that counts lines, since inih does not tell its handler the line; it
 * also refuses what inih would misread: a line too long for its buffer (inih
 * would parse the rest as a line of its own) and sections.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s = fgets(str, num, p->f);
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	if (p->at_start) {
		const char *t = p->line == 0 && !strncmp(s, "\xef\xbb\xbf", 3) ? s + 3 : s;

		p->line++;
		p->line_len = 0;
		t += strspn(t, " \t");
		/* inih refuses these too, but names only the first */
		if (not_a_setting(t))
			diag_add(p->diag, "%s:%u: expected key = value, a comment (#) or an empty line",
				 p->file, p->line);
		else if (*t == '[')
			diag_add(p->diag, "%s:%u: the file has no sections: key = value lines only",
				 p->file, p->line);
	}
	p->line_len += n;
	p->at_start = n && s[n - 1] == '\n';
	if (!p->at_start && p->line_len >= LINE_MAX_BYTES - 1 && !feof(p->f)) {
		int c;

		diag_add(p->diag, "%s:%u: line longer than %d bytes", p->file, p->line,
			 LINE_MAX_BYTES - 2);
		while ((c = fgetc(p->f)) != EOF && c != '\n')
			;
		p->at_start = true;
	}
	return s;
}

__attribute__((format(printf, 2, 3)))
static void error(struct parse *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(p->diag, "%s:%u: %s", p->file, p->line, msg);
}

static char *resolve(const struct parse *p, const char *v)
{
	char *out;

	if (v[0] == '/' || !p->dir)
		return strdup(v);
	if (asprintf(&out, "%s/%s", p->dir, v) < 0)
		return NULL;
	return out;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	struct config *cfg = p->cfg;
	const struct key *k = NULL;
	struct config_entry *e;
	char buf[96], unq[LINE_MAX_BYTES];
	const char *why;

	(void)section; /* refused by read_line */
	for (size_t i = 0; i < N_KEYS && !k; i++)
		if (!strcmp(keys[i].name, name))
			k = &keys[i];
	if (!k) {
		char alt[64];

		snprintf(alt, sizeof(alt), "%s", name);
		for (char *c = alt; *c; c++)
			*c = *c == '_' ? '-' : *c;
		for (size_t i = 0; i < N_KEYS; i++)
			if (!strcmp(keys[i].name, alt)) {
				error(p, "unknown key \"%s\" (did you mean %s?)", name, alt);
				return 0;
			}
		error(p, "unknown key \"%s\"", name);
		return 0;
	}
	for (size_t i = 0; i < cfg->n; i++)
		if (cfg->e[i].key == k->name) {
			error(p, "%s given again (first on line %u)", name, cfg->e[i].line);
			return 0;
		}
	/* a value quoted as in a shell: the quotes are not part of it */
	{
		size_t vl = strlen(value);

		if (vl >= 2 && (value[0] == '"' || value[0] == '\'') && value[vl - 1] == value[0]) {
			snprintf(unq, sizeof(unq), "%.*s", (int)(vl - 2), value + 1);
			value = unq;
		}
	}
	if (!value[0]) {
		error(p, "%s has no value", name);
		return 0;
	}
	if ((why = check_value(k, value, buf, sizeof(buf)))) {
		error(p, "%s \"%.100s\" %s", name, value, why);
		return 0;
	}
	e = realloc(cfg->e, (cfg->n + 1) * sizeof(*e));
	if (!e) {
		p->nomem = true;
		return 0;
	}
	cfg->e = e;
	e = &cfg->e[cfg->n];
	e->key = k->name;
	e->line = p->line;
	if ((k->kind == K_PATH || (k->kind == K_NETWORK && strcmp(value, "none"))))
		e->value = resolve(p, value);
	else
		e->value = strdup(value);
	if (!e->value) {
		p->nomem = true;
		return 0;
	}
	cfg->n++;
	return 1;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++)
		free(cfg->e[i].value);
	free(cfg->e);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}

int config_read(const char *path, unsigned int flags, struct config *cfg, struct cs_diag *d)
{
	struct parse p = { .file = path, .at_start = true, .cfg = cfg, .diag = d };
	const char *slash = strrchr(path, '/');
	size_t before = diag_count(d);
	int ret, err = 0;

	memset(cfg, 0, sizeof(*cfg));
	p.f = fopen(path, "r");
	if (!p.f) {
		err = -errno;
		if (err == -ENOENT && !(flags & CONFIG_REQUIRED))
			return 0;
		diag_add(d, "%s: cannot read the configuration: %s", path, strerror(-err));
		return err;
	}
	if (slash)
		p.dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
#ifdef CS_INIH_RUNTIME
	/* whole lines, no continuation lines (an indented key is a key), '#' comments inline too */
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = LINE_MAX_BYTES;
	ini_allow_multiline = false;
	ini_inline_comment_prefixes = ";#";
#endif
	ret = ini_parse_stream(read_line, &p, handler, &p);
	if (ferror(p.f)) {
		diag_add(d, "%s: cannot read the configuration", path);
		err = -EIO;
	} else if (ret < 0 || p.nomem) {
		diag_add(d, "%s: out of memory", path);
		err = -ENOMEM;
	} else if (ret > 0 && diag_count(d) == before) {
		/* a refusal of inih's that read_line did not foresee */
		diag_add(d, "%s:%d: cannot parse this line", path, ret);
		err = -EINVAL;
	} else if (diag_count(d) != before) {
		err = flags & CONFIG_LENIENT ? 0 : -EINVAL;
	}
	fclose(p.f);
	free(p.dir);
	if (!err && !(cfg->file = strdup(path)))
		err = -ENOMEM;
	if (err)
		config_free(cfg);
	return err;
}

const char *config_get(const struct config *cfg, const char *key, unsigned int *line)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (!strcmp(cfg->e[i].key, key)) {
			if (line)
				*line = cfg->e[i].line;
			return cfg->e[i].value;
		}
	return NULL;
}

void config_args_free(struct config_args *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

int config_argv(const struct config *cfg, const char *cmd, int argc, char **argv,
		struct config_args *a)
{
	unsigned int bit = 0;
	int n = 0;

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, cmd))
			bit = commands[i].bit;
	a->argv = calloc((size_t)argc + cfg->n + 1, sizeof(*a->argv));
	a->owned = calloc(cfg->n + 1, sizeof(*a->owned));
	if (!a->argv || !a->owned)
		goto nomem;
	a->argv[n++] = argv[0];
	for (size_t i = 0; i < cfg->n; i++) {
		const struct config_entry *e = &cfg->e[i];
		const struct key *k = NULL;
		char *s;
		int r;

		for (size_t j = 0; j < N_KEYS && !k; j++)
			if (keys[j].name == e->key)
				k = &keys[j];
		if (!k || !(k->cmds & bit))
			continue;
		if (k->kind == K_BOOL)
			r = asprintf(&s, "--%s%s", parse_bool(e->value) ? "" : "no-", k->name);
		else
			r = asprintf(&s, "--%s=%s", k->name, e->value);
		if (r < 0)
			goto nomem;
		a->owned[a->n_owned++] = s;
		a->argv[n++] = s;
	}
	for (int i = 1; i < argc; i++)
		a->argv[n++] = argv[i];
	a->argc = n;
	return 0;
nomem:
	config_args_free(a);
	return -ENOMEM;
}
