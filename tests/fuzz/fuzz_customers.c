// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Fuzz target: any bytes as a customer file through the parser, CPU placement
 * and the planner. Beyond "no crash, no sanitizer report", every accepted file
 * must satisfy the model's invariants, and planning it against itself must
 * yield an empty plan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "assign.h"
#include "circuits.h"
#include "plan.h"

/* Three HTBs per CPU: HTB j of CPU k on queue j * 2 + k (src/handles.h). */
static const struct cs_layout L1 = { .htbs_per_cpu = 3, .stride = 2 };

#define INVARIANT(c) \
	do {         \
		if (!(c)) \
			abort(); \
	} while (0)

static void check_model(const struct circuit_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct circuit *c = &s->v[i];

		INVARIANT(c->id[0] && strlen(c->id) < CS_ID_LEN);
		INVARIANT(i == 0 || strcmp(s->v[i - 1].id, c->id) < 0); /* sorted, unique */
		INVARIANT(c->n_pfx > 0);
		INVARIANT(c->down_min > 0 && c->down_min <= c->down_max);
		INVARIANT(c->up_min > 0 && c->up_min <= c->up_max);
		for (size_t k = 0; k < c->n_pfx; k++)
			INVARIANT(c->pfx[k].len >= 1 && c->pfx[k].len <= 128);
	}
}

/* The kernel's view after applying @want to an empty kernel. */
static void as_running(const struct circuit_set *want, struct circuit_set *have)
{
	have->n = want->n;
	have->v = calloc(want->n ? want->n : 1, sizeof(*have->v));
	INVARIANT(have->v);
	for (size_t i = 0; i < want->n; i++) {
		have->v[i] = want->v[i];
		have->v[i].parent = NULL; /* the kernel records no parent text */
		have->v[i].parent_col = CS_PARENT_NONE;
		have->v[i].pfx = malloc((want->v[i].n_pfx ? want->v[i].n_pfx : 1) * sizeof(struct cs_prefix));
		INVARIANT(have->v[i].pfx);
		memcpy(have->v[i].pfx, want->v[i].pfx, want->v[i].n_pfx * sizeof(struct cs_prefix));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bool cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };
	struct circuit_set want = { 0 }, have = { 0 }, none = { 0 };
	struct lpm_entry *lpm = NULL;
	struct cs_diag d = { 0 };
	struct plan p;
	size_t n_lpm = 0;

	if (circuits_parse_csv("fuzz.csv", (const char *)data, size, &want, &d)) {
		INVARIANT(diag_count(&d) > 0 && want.n == 0); /* a refusal always says why */
		goto out;
	}
	INVARIANT(diag_count(&d) == 0);
	check_model(&want);
	if (assign_circuits(&want, &none, cpus, &L1, "fuzz.csv", &d))
		goto out;
	for (size_t i = 0; i < want.n; i++)
		INVARIANT(want.v[i].cpu <= 1 && want.v[i].minor >= CS_FIRST_MINOR &&
			  want.v[i].minor <= CS_LAST_MINOR);
	INVARIANT(!plan_build(&want, &none, NULL, 0, &p));
	INVARIANT(p.n_class_add == want.n && p.n_class_del == 0);
	plan_free(&p);

	as_running(&want, &have);
	INVARIANT(!plan_lpm_entries(&have, &lpm, &n_lpm));
	INVARIANT(!assign_circuits(&want, &have, cpus, &L1, "fuzz.csv", &d));
	INVARIANT(!plan_build(&want, &have, lpm, n_lpm, &p));
	INVARIANT(plan_empty(&p)); /* the same file again changes nothing */
	plan_free(&p);
out:
	free(lpm);
	circuit_set_free(&want);
	circuit_set_free(&have);
	diag_free(&d);
	return 0;
}
