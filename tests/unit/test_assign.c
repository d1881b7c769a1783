// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CPU assignment: balance of plan rates, stability, capacity. */
#include "assign.h"
#include "fixtures.h"
#include "test.h"

static bool two_cpus[CS_MAX_CPUS] = { [0] = true, [1] = true };

static uint64_t cpu_load(const struct circuit_set *s, uint32_t cpu)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].cpu == cpu)
			sum += circuit_weight(&s->v[i]);
	return sum;
}

static void test_balance(void)
{
	struct circuit_set want, none = { 0 };
	struct cs_diag d = { 0 };
	unsigned plans[] = { 100, 50, 50, 30, 20, 10, 10, 5, 5, 1000 };
	uint64_t l0, l1, biggest = 1000 * 2 * 1000000ULL;

	fx_set(&want, 10);
	for (unsigned i = 0; i < 10; i++)
		fx_circuit(&want.v[i], i, plans[i], plans[i]);
	ASSERT_EQ(assign_circuits(&want, &none, two_cpus, &L1, "t", &d), 0, "assign 10");
	l0 = cpu_load(&want, 0);
	l1 = cpu_load(&want, 1);
	/* greedy on sorted weights: the gap is at most the biggest circuit */
	ASSERT_TRUE((l0 > l1 ? l0 - l1 : l1 - l0) <= biggest, "gap within the largest plan");
	/* with the 1000 alone on one CPU, everything else lands on the other */
	for (unsigned i = 0; i < 10; i++)
		if (plans[i] != 1000)
			ASSERT_TRUE(want.v[i].cpu != want.v[9].cpu, "small plans avoid the big one's CPU");

	/* equal plans split evenly */
	circuit_set_free(&want);
	fx_set(&want, 100);
	for (unsigned i = 0; i < 100; i++)
		fx_circuit(&want.v[i], i, 10, 5);
	ASSERT_EQ(assign_circuits(&want, &none, two_cpus, &L1, "t", &d), 0, "assign 100");
	ASSERT_EQ(cpu_load(&want, 0), cpu_load(&want, 1), "100 equal plans split 50/50");
	{
		bool seen[CS_MINORS_PER_CPU + CS_FIRST_MINOR] = { 0 };
		bool dup = false, range = true;

		for (size_t i = 0; i < want.n; i++) {
			if (want.v[i].cpu != 0)
				continue;
			range &= want.v[i].minor >= CS_FIRST_MINOR && want.v[i].minor <= CS_LAST_MINOR;
			dup |= seen[want.v[i].minor];
			seen[want.v[i].minor] = true;
		}
		ASSERT_TRUE(range && !dup, "minors unique per CPU and from 3 on");
	}
	circuit_set_free(&want);
	diag_free(&d);
}

static void test_stable(void)
{
	struct circuit_set first, have, again, more, none = { 0 };
	struct cs_diag d = { 0 };
	size_t moved = 0;

	fx_set(&first, 50);
	for (unsigned i = 0; i < 50; i++)
		fx_circuit(&first.v[i], i, 10 + i, 5);
	assign_circuits(&first, &none, two_cpus, &L1, "t", &d);
	fx_copy(&have, &first);

	/* the same file again: identical placement */
	fx_copy(&again, &first);
	for (size_t i = 0; i < again.n; i++)
		again.v[i].cpu = again.v[i].minor = again.v[i].index = 0;
	ASSERT_EQ(assign_circuits(&again, &have, two_cpus, &L1, "t", &d), 0, "reassign");
	for (size_t i = 0; i < again.n; i++)
		moved += again.v[i].cpu != first.v[i].cpu || again.v[i].minor != first.v[i].minor ||
			 again.v[i].index != first.v[i].index;
	ASSERT_EQ(moved, 0, "reloading the same file moves nothing");

	/* one more circuit, a heavy one: nobody moves, it gets fresh ids */
	fx_set(&more, 51);
	for (unsigned i = 0; i < 50; i++)
		fx_circuit(&more.v[i], i, 10 + i, 5);
	fx_circuit(&more.v[50], 50, 5000, 5000);
	ASSERT_EQ(assign_circuits(&more, &have, two_cpus, &L1, "t", &d), 0, "assign with one more");
	moved = 0;
	for (size_t i = 0; i < 50; i++)
		moved += more.v[i].cpu != first.v[i].cpu || more.v[i].minor != first.v[i].minor;
	ASSERT_EQ(moved, 0, "adding a circuit moves no existing one");
	for (size_t i = 0; i < 50; i++) {
		ASSERT_TRUE(more.v[50].index != first.v[i].index, "new index is fresh");
		if (first.v[i].cpu == more.v[50].cpu)
			ASSERT_TRUE(more.v[50].minor != first.v[i].minor, "new minor is fresh");
	}

	/* removing CPU 1: its circuits move to CPU 0, CPU 0's stay put */
	{
		bool only0[CS_MAX_CPUS] = { [0] = true };
		size_t kept = 0, on0 = 0;

		for (size_t i = 0; i < again.n; i++)
			again.v[i].cpu = again.v[i].minor = 0;
		ASSERT_EQ(assign_circuits(&again, &have, only0, &L1, "t", &d), 0, "assign to CPU 0 only");
		for (size_t i = 0; i < again.n; i++) {
			ASSERT_EQ(again.v[i].cpu, 0, "all on CPU 0");
			ASSERT_EQ(again.v[i].index, first.v[i].index, "a moved circuit keeps its index");
			if (first.v[i].cpu == 0) {
				on0++;
				kept += again.v[i].minor == first.v[i].minor;
			}
		}
		ASSERT_EQ(kept, on0, "circuits already on CPU 0 keep their class");
	}
	circuit_set_free(&first);
	circuit_set_free(&have);
	circuit_set_free(&again);
	circuit_set_free(&more);
	diag_free(&d);
}

static void test_capacity(void)
{
	bool one[CS_MAX_CPUS] = { [0] = true };
	struct circuit_set want, none = { 0 };
	struct cs_diag d = { 0 };
	size_t n = CS_MINORS_PER_CPU + 1;

	fx_set(&want, n);
	for (size_t i = 0; i < n; i++)
		fx_circuit(&want.v[i], (unsigned)i, 1, 1);
	ASSERT_EQ(assign_circuits(&want, &none, one, &L1, "t.csv", &d), -ENOSPC,
		  "one more circuit than an HTB holds");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "65534 circuits do not fit: 1 CPU x 65533"),
		    "capacity message");
	diag_free(&d);
	want.n--;
	ASSERT_EQ(assign_circuits(&want, &none, one, &L1, "t.csv", &d), 0, "exactly a full HTB fits");
	want.n++;
	circuit_set_free(&want);
	diag_free(&d);
}

/* Four HTBs per CPU: each circuit in HTB minor % 4 of its CPU, the HTBs filled evenly. */
static void test_layout(void)
{
	const struct cs_layout l4 = { .htbs_per_cpu = 4, .stride = 2 };
	struct circuit_set want, have, none = { 0 };
	struct cs_diag d = { 0 };
	unsigned per_major[9] = { 0 };
	bool right = true, kept = true;

	fx_set(&want, 40);
	for (unsigned i = 0; i < 40; i++)
		fx_circuit(&want.v[i], i, 10, 10);
	ASSERT_EQ(assign_circuits(&want, &none, two_cpus, &l4, "t", &d), 0, "assign 40 over 2 x 4 HTBs");
	for (size_t i = 0; i < want.n; i++) {
		const struct circuit *c = &want.v[i];

		right &= c->major == handle_htb(2, c->cpu, c->minor % 4);
		if (handle_index(c->major) >= 0 && handle_index(c->major) < 8)
			per_major[handle_index(c->major)]++;
	}
	ASSERT_TRUE(right, "HTB minor % 4 of the circuit's CPU");
	for (unsigned q = 0; q < 8; q++)
		ASSERT_EQ(per_major[q], 5, "5 circuits in each of the 8 HTBs");
	fx_copy(&have, &want);
	for (size_t i = 0; i < want.n; i++)
		want.v[i].cpu = want.v[i].minor = want.v[i].major = 0;
	ASSERT_EQ(assign_circuits(&want, &have, two_cpus, &l4, "t", &d), 0, "reassign");
	for (size_t i = 0; i < want.n; i++)
		kept &= want.v[i].major == have.v[i].major && want.v[i].minor == have.v[i].minor;
	ASSERT_TRUE(kept, "a reload keeps every circuit in its HTB");
	circuit_set_free(&want);
	circuit_set_free(&have);
	diag_free(&d);
}

/*
 * The network of the placement tests: three sites, Big far heavier than the
 * others; a virtual Cloud whose two children are units of their own.
 */
static const char *sites =
	"{\"Big\": {\"downloadBandwidthMbps\": 1000, \"uploadBandwidthMbps\": 1000, \"children\": {"
	"   \"Tower\": {\"downloadBandwidthMbps\": 900, \"uploadBandwidthMbps\": 900, \"children\": {"
	"     \"AP-1\": {\"downloadBandwidthMbps\": 30, \"uploadBandwidthMbps\": 30},"
	"     \"AP-2\": {\"downloadBandwidthMbps\": 500, \"uploadBandwidthMbps\": 500}}}}},"
	" \"Mid\": {\"downloadBandwidthMbps\": 300, \"uploadBandwidthMbps\": 300, \"children\": {"
	"   \"AP-3\": {\"downloadBandwidthMbps\": 300, \"uploadBandwidthMbps\": 300}}},"
	" \"Small\": {\"downloadBandwidthMbps\": 100, \"uploadBandwidthMbps\": 100},"
	" \"Cloud\": {\"downloadBandwidthMbps\": 100, \"uploadBandwidthMbps\": 100, \"virtual\": true, \"children\": {"
	"   \"Edge-1\": {\"downloadBandwidthMbps\": 100, \"uploadBandwidthMbps\": 100},"
	"   \"Edge-2\": {\"downloadBandwidthMbps\": 100, \"uploadBandwidthMbps\": 100}}}}";

/* circuits 0-9 under AP-1, 10-19 under AP-2, 20-29 under AP-3, 30-31 under Small, 32-33 Edge-1/2, 34-39 flat */
static const char *parent_of(unsigned i)
{
	return i < 10 ? "AP-1" : i < 20 ? "AP-2" : i < 30 ? "AP-3" : i < 32 ? "Small" :
	       i == 32 ? "Edge-1" : i == 33 ? "Edge-2" : NULL;
}

static void net_want(struct circuit_set *want, const struct network *net)
{
	fx_set(want, 40);
	for (unsigned i = 0; i < 40; i++) {
		fx_circuit(&want->v[i], i, 50, 20);
		want->v[i].node = parent_of(i) ? (uint32_t)network_find_name(net, parent_of(i)) + 1 : 0;
	}
}

/* What the kernel would hand back of the nodes placed: sorted by name. */
static int place_cmp(const void *a, const void *b)
{
	return strcmp(((const struct node_rec *)a)->name, ((const struct node_rec *)b)->name);
}

static size_t net_have(const struct network *net, struct node_rec *out)
{
	size_t n = 0;

	for (size_t i = 0; i < net->n; i++) {
		if (net->v[i].is_virtual)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", net->v[i].name);
		out[n].cpu = net->v[i].cpu;
		out[n].major = net->v[i].major;
		out[n].minor = net->v[i].minor;
		out[n].parent_minor = net->v[i].parent_minor;
		n++;
	}
	qsort(out, n, sizeof(*out), place_cmp);
	return n;
}

static const struct net_node *nn(const struct network *net, const char *name)
{
	return &net->v[network_find_name(net, name)];
}

static void test_network(void)
{
	struct network net;
	struct circuit_set want, have, none = { 0 };
	struct cs_diag d = { 0 }, notes = { 0 };
	struct node_rec places[16];
	struct assign_net an = { .notes = &notes };
	const struct cs_layout l4 = { .htbs_per_cpu = 4, .stride = 2 };
	bool whole = true, chain = true, residue = true, kept = true;

	ASSERT_EQ(network_parse("n.json", sites, strlen(sites), &net, &d), 0, "network");
	diag_print(&d, stderr);
	an.net = &net;
	net_want(&want, &net);
	ASSERT_EQ(assign_all(&want, &none, &an, two_cpus, &l4, "t", &d), 0, "place a network");
	diag_print(&d, stderr);

	/* every subtree whole in one HTB: nodes and circuits on their unit's CPU and major */
	for (size_t i = 0; i < net.n; i++) {
		const struct net_node *n = &net.v[i];

		if (n->is_virtual)
			continue;
		whole &= n->cpu == net.v[n->unit].cpu && n->major == net.v[n->unit].major;
		chain &= n->parent_minor == (n->real_parent >= 0 ? net.v[n->real_parent].minor : 0);
		residue &= n->minor % 4 == (uint32_t)handle_index(n->major) / 2;
	}
	for (size_t i = 0; i < want.n; i++) {
		const struct circuit *c = &want.v[i];

		if (!c->node)
			continue;
		whole &= c->cpu == net.v[c->node - 1].cpu && c->major == net.v[c->node - 1].major;
		chain &= c->parent_minor == net.v[c->node - 1].minor;
		residue &= c->minor % 4 == (uint32_t)handle_index(c->major) / 2;
	}
	ASSERT_TRUE(whole, "each unit's nodes and circuits share its CPU and HTB");
	ASSERT_TRUE(chain, "each class hangs under its nearest real ancestor's class (:1 at the top)");
	ASSERT_TRUE(residue, "minors of an HTB are its own (minor % htbs == HTB)");
	ASSERT_TRUE(nn(&net, "AP-1")->real_parent == network_find_name(&net, "Tower"), "AP-1 under Tower");
	/* balance: Big's 20 circuits (1400 Mbit/s of plans, capped at nothing below 2000) alone on one CPU */
	ASSERT_EQ(nn(&net, "Big")->load, 20 * 70 * 1000000ULL, "a unit's load is its circuits' plans");
	ASSERT_EQ(nn(&net, "Small")->load, 2 * 70 * 1000000ULL, "Small's two circuits");
	ASSERT_TRUE(nn(&net, "Mid")->cpu != nn(&net, "Big")->cpu && nn(&net, "Small")->cpu != nn(&net, "Big")->cpu,
		    "the lighter units avoid the heaviest one's CPU");
	ASSERT_TRUE(nn(&net, "Edge-1")->unit == network_find_name(&net, "Edge-1"),
		    "a virtual top level's children are units of their own");
	ASSERT_TRUE(notes.n == 1 && strstr(notes.msg[0], "node \"Big\" alone plans more than a CPU's fair share"),
		    "the heaviest unit is named as too heavy for one CPU");

	/* stable: the same file again moves nothing */
	fx_copy(&have, &want);
	an.have = places;
	an.n_have = net_have(&net, places);
	for (size_t i = 0; i < want.n; i++)
		want.v[i].cpu = want.v[i].minor = want.v[i].major = 0;
	ASSERT_EQ(assign_all(&want, &have, &an, two_cpus, &l4, "t", &d), 0, "place again");
	for (size_t i = 0; i < want.n; i++)
		kept &= want.v[i].cpu == have.v[i].cpu && want.v[i].major == have.v[i].major &&
			want.v[i].minor == have.v[i].minor && want.v[i].index == have.v[i].index;
	for (size_t i = 0; i < an.n_have; i++) {
		const struct net_node *n = nn(&net, places[i].name);

		kept &= n->cpu == places[i].cpu && n->major == places[i].major && n->minor == places[i].minor;
	}
	ASSERT_TRUE(kept, "a reload keeps every node and circuit in its class");

	/* a circuit moves from AP-1 to AP-2: a new class under AP-2, nobody else moves */
	want.v[0].node = (uint32_t)network_find_name(&net, "AP-2") + 1;
	ASSERT_EQ(assign_all(&want, &have, &an, two_cpus, &l4, "t", &d), 0, "move a circuit");
	kept = true;
	for (size_t i = 1; i < want.n; i++)
		kept &= want.v[i].minor == have.v[i].minor && want.v[i].major == have.v[i].major;
	ASSERT_TRUE(kept, "the other circuits keep their classes");
	ASSERT_TRUE(want.v[0].minor != have.v[0].minor && want.v[0].parent_minor == nn(&net, "AP-2")->minor &&
		    want.v[0].index == have.v[0].index, "the moved circuit: a new class under AP-2, same identity");
	want.v[0].node = (uint32_t)network_find_name(&net, "AP-1") + 1;

	/* a node moves (AP-1 from Tower to Big): AP-1 and its circuits anew, its old sibling stays */
	network_free(&net);
	{
		char *moved = strdup(sites), *ap1 = strstr(moved, "\"AP-1\""), *tower = strstr(moved, "\"Tower\"");
		const char *cut = "\"AP-1\": {\"downloadBandwidthMbps\": 30, \"uploadBandwidthMbps\": 30},";
		char buf[4096];

		/* Big > {AP-1, Tower > AP-2} */
		memmove(ap1, ap1 + strlen(cut), strlen(ap1 + strlen(cut)) + 1);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(tower - moved), moved, cut, tower);
		ASSERT_EQ(network_parse("n.json", buf, strlen(buf), &net, &d), 0, "the moved network");
		diag_print(&d, stderr);
		free(moved);
	}
	an.net = &net;
	for (size_t i = 0; i < want.n; i++)
		want.v[i].node = parent_of(i) ? (uint32_t)network_find_name(&net, parent_of(i)) + 1 : 0;
	ASSERT_EQ(assign_all(&want, &have, &an, two_cpus, &l4, "t", &d), 0, "move a node");
	ASSERT_TRUE(nn(&net, "AP-1")->parent_minor == nn(&net, "Big")->minor, "AP-1 now under Big");
	kept = true;
	for (size_t i = 0; i < an.n_have; i++)
		if (!strcmp(places[i].name, "AP-1"))
			kept &= nn(&net, "AP-1")->minor != places[i].minor;
		else
			kept &= nn(&net, places[i].name)->minor == places[i].minor;
	ASSERT_TRUE(kept, "the moved node gets a new class, every other node keeps its own");
	kept = true;
	for (size_t i = 0; i < want.n; i++)
		kept &= (i < 10) == (want.v[i].minor != have.v[i].minor);
	ASSERT_TRUE(kept, "the moved node's circuits get new classes, nobody else's");

	/* --rebalance: a state with everything on CPU 0 spreads again; without it, it stays */
	for (size_t i = 0; i < have.n; i++) {
		have.v[i].cpu = 0;
		have.v[i].major = layout_major(&l4, 0, (uint32_t)handle_index(have.v[i].major) / 2 % 4);
	}
	for (size_t i = 0; i < an.n_have; i++)
		places[i].major = layout_major(&l4, places[i].cpu = 0, (uint32_t)handle_index(places[i].major) / 2 % 4);
	ASSERT_EQ(assign_all(&want, &have, &an, two_cpus, &l4, "t", &d), 0, "place on a lopsided state");
	ASSERT_TRUE(nn(&net, "Mid")->cpu == 0 && nn(&net, "Big")->cpu == 0, "without --rebalance units stay");
	an.rebalance = true;
	ASSERT_EQ(assign_all(&want, &have, &an, two_cpus, &l4, "t", &d), 0, "rebalance");
	ASSERT_TRUE(nn(&net, "Mid")->cpu != nn(&net, "Big")->cpu, "--rebalance spreads the units again");
	/* a second --rebalance of the same files moves nothing: what lands where it was keeps its class */
	circuit_set_free(&have);
	fx_copy(&have, &want);
	an.n_have = net_have(&net, places);
	ASSERT_EQ(assign_all(&want, &have, &an, two_cpus, &l4, "t", &d), 0, "rebalance again");
	kept = true;
	for (size_t i = 0; i < want.n; i++)
		kept &= want.v[i].cpu == have.v[i].cpu && want.v[i].major == have.v[i].major &&
			want.v[i].minor == have.v[i].minor;
	ASSERT_TRUE(kept, "a second --rebalance keeps every class");

	/* a class the kernel holds that no record names (an interrupted apply) is never given out */
	{
		struct circuit_set fresh, none2 = { 0 };
		uint32_t present[] = { (handle_major(0) << 16) | CS_FIRST_MINOR,
				       (handle_major(1) << 16) | CS_FIRST_MINOR };
		bool clash = false;

		an.rebalance = false;
		an.have = NULL;
		an.n_have = 0;
		an.present = present;
		an.n_present = 2;
		net_want(&fresh, &net);
		ASSERT_EQ(assign_all(&fresh, &none2, &an, two_cpus, &l4, "t", &d), 0, "place beside leftovers");
		for (size_t i = 0; i < fresh.n; i++)
			clash |= fresh.v[i].minor == CS_FIRST_MINOR;
		for (size_t i = 0; i < net.n; i++)
			clash |= !net.v[i].is_virtual && net.v[i].minor == CS_FIRST_MINOR;
		ASSERT_TRUE(!clash, "no node or circuit takes the minor of a class the kernel holds");
		circuit_set_free(&fresh);
		an.present = NULL;
		an.n_present = 0;
	}
	/* more HTBs per CPU than 16: allowed (a device with many queues) */
	{
		const struct cs_layout l32 = { .htbs_per_cpu = 32, .stride = 2 };
		struct circuit_set fresh, none2 = { 0 };

		net_want(&fresh, &net);
		ASSERT_EQ(assign_all(&fresh, &none2, &an, two_cpus, &l32, "t", &d), 0, "32 HTBs per CPU");
		circuit_set_free(&fresh);
	}

	circuit_set_free(&want);
	circuit_set_free(&have);
	network_free(&net);
	diag_free(&d);
	diag_free(&notes);
}

int main(void)
{
	test_network();
	test_layout();
	test_balance();
	test_stable();
	test_capacity();
	return test_done("assign");
}
