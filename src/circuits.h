/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The customer model: circuits with rates and address prefixes, read from a ShapedDevices.csv. */
#ifndef CS_CIRCUITS_H
#define CS_CIRCUITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpushaper.h"
#include "diag.h"

/* A prefix in the 128-bit key space: IPv4 is ::ffff:a.b.c.d with len + 96. */
struct cs_prefix {
	uint8_t addr[16];
	uint8_t len;
	int line; /* where the file named it; 0 when read from the kernel */
};

/* The columns that name a circuit's parent, in the order they are asked (LibreQoS v2.2). */
enum circuit_parent_col {
	CS_PARENT_NONE = 0,
	CS_PARENT_ANCHOR_ID, /* "Anchor Node ID": a node's "id" */
	CS_PARENT_NODE_ID,   /* "Parent Node ID": a node's "id" */
	CS_PARENT_NAME,      /* "Parent Node": a node's name */
};
const char *circuit_parent_column(enum circuit_parent_col col);

/*
 * The sqm column (LibreQoS v2.2) of a circuit, per direction: empty (the
 * --leaf default), none (HTB's own pfifo, no queue management), fq_codel or
 * cake; "down/up" names each direction ("cake/fq_codel").
 */
enum circuit_sqm { CS_SQM_UNSET = 0, CS_SQM_NONE, CS_SQM_FQ_CODEL, CS_SQM_CAKE };
/* Parse an sqm field into @sqm[0] (down), @sqm[1] (up): 0, or -EINVAL. */
int circuit_sqm_parse(const char *text, uint8_t sqm[2]);

struct circuit {
	char id[CS_ID_LEN];
	char name[CS_NAME_LEN];
	uint64_t down_min, down_max, up_min, up_max; /* bit/s */
	struct cs_prefix *pfx;
	size_t n_pfx;
	int line; /* first row of the circuit */
	/* its node in the network as the file names it (NULL: none), and by which column */
	char *parent;
	enum circuit_parent_col parent_col;
	uint32_t node; /* set by network_resolve: 1 + the node's index; 0: its CPU's root class */
	/* placement, set by assign (or read from the kernel) */
	uint32_t cpu;
	uint32_t minor;
	uint32_t major; /* of the circuit's HTB on its CPU */
	uint32_t parent_minor; /* its node's class in that HTB; 0: the root class :1 */
	uint32_t index;
	uint32_t flags; /* CS_REC_*: as the kernel's record has them; 0 from a file */
	uint8_t sqm[2]; /* enum circuit_sqm from the file, down and up */
	/* its leaves, down and up (enum cs_leaf): wanted and applied (src/leaf.c, or the kernel's record) */
	uint8_t leaf_want[2], leaf[2];
	uint16_t leaf_major; /* handle major of its leaves on both devices; 0: none */
};

struct circuit_set {
	struct circuit *v;
	size_t n;
	size_t names_fixed; /* circuits whose name had bytes that are not UTF-8 (now '?') */
	char *ignored;      /* the file's columns cpushaper does not read ("A, B"), or NULL */
};

/* Parse prefix text; @v4 says which column it came from. -EINVAL with *why. */
int prefix_parse(const char *s, bool v4, struct cs_prefix *p, const char **why);
void prefix_format(const struct cs_prefix *p, char *buf, size_t len);
bool prefix_is_v4(const struct cs_prefix *p);
int prefix_cmp(const struct cs_prefix *a, const struct cs_prefix *b);
bool prefix_contains(const struct cs_prefix *outer, const struct cs_prefix *inner);

/*
 * Read a customer file. Every problem goes to @d as "FILE:LINE: what"; on any
 * problem the result is -EINVAL and @set is left empty. On success @set is
 * sorted by circuit id.
 */
int circuits_load_csv(const char *path, struct circuit_set *set, struct cs_diag *d);
/*
 * The same, but rows with a problem are left out and their messages go to
 * @skipped_rows (LibreQoS's way; --skip-invalid): a problem that names no row
 * (the file, its header) still refuses it. NULL @skipped_rows: as above.
 */
int circuits_load_csv_skipping(const char *path, struct circuit_set *set, struct cs_diag *d,
			       struct cs_diag *skipped_rows);
int circuits_parse_csv(const char *name, const char *data, size_t len,
		       struct circuit_set *set, struct cs_diag *d);

void circuit_set_sort(struct circuit_set *s);
/* Binary search in a set sorted by id. */
struct circuit *circuit_set_find(const struct circuit_set *s, const char *id);
void circuit_set_free(struct circuit_set *s);

#endif
