// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* network.json: what is accepted, every refusal with where it is, and parent resolution. */
#include <stdlib.h>
#include "network.h"
#include "test.h"

#define HDR "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6," \
	    "Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment," \
	    "Parent Node ID,Anchor Node ID\n"

/* Five levels: Site > PoP > Tower > AP, with a virtual "Group" between Tower and AP. */
static const char *five = "{\n"
	"  \"Site\": { \"downloadBandwidthMbps\": 1000, \"uploadBandwidthMbps\": 500, \"type\": \"Site\",\n"
	"    \"children\": {\n"
	"      \"PoP\": { \"downloadBandwidthMbps\": 400, \"uploadBandwidthMbps\": 200, \"id\": \"p-1\",\n"
	"        \"children\": {\n"
	"          \"Tower\": { \"downloadBandwidthMbps\": 300, \"uploadBandwidthMbps\": 150,\n"
	"            \"children\": {\n"
	"              \"Group\": { \"downloadBandwidthMbps\": 300, \"uploadBandwidthMbps\": 150, \"virtual\": true,\n"
	"                \"children\": {\n"
	"                  \"AP-1\": { \"downloadBandwidthMbps\": 30, \"uploadBandwidthMbps\": 10.5, \"id\": 17,\n"
	"                     \"children\": { \"CPE-hub\": { \"downloadBandwidthMbps\": 20, \"uploadBandwidthMbps\": 5 } } },\n"
	"                  \"AP-2\": { \"downloadBandwidthMbps\": 0.25, \"uploadBandwidthMbps\": 0.125, \"id\": \"ap-2\" }\n"
	"    } } } } } } } },\n"
	"  \"Cloud\": { \"downloadBandwidthMbps\": 100, \"uploadBandwidthMbps\": 100, \"virtual\": true,\n"
	"    \"children\": { \"Edge\": { \"downloadBandwidthMbps\": 50, \"uploadBandwidthMbps\": 50 } } }\n"
	"}\n";

static int parse(const char *text, struct network *net, struct cs_diag *d)
{
	return network_parse("n.json", text, strlen(text), net, d);
}

/* @text must be refused with a message containing @what. */
static void refused(const char *label, const char *text, const char *what)
{
	struct network net;
	struct cs_diag d = { 0 };
	int err = parse(text, &net, &d);
	bool found = false;

	for (size_t i = 0; i < d.n; i++)
		found |= strstr(d.msg[i], what) != NULL;
	CHECK(err == -EINVAL && found && net.n == 0, "%s: err %d, want a message with \"%s\"; got:",
	      label, err, what);
	if (!found)
		diag_print(&d, stderr);
	diag_free(&d);
}

static const struct net_node *node(const struct network *net, const char *name)
{
	int i = network_find_name(net, name);

	return i < 0 ? NULL : &net->v[i];
}

static const char *name_of(const struct network *net, int i)
{
	return i < 0 ? "(root)" : net->v[i].name;
}

static void test_accepts(void)
{
	struct network net;
	struct cs_diag d = { 0 };
	const struct net_node *n;

	ASSERT_EQ(parse(five, &net, &d), 0, "the five-level file is accepted");
	diag_print(&d, stderr);
	ASSERT_EQ(net.n, 9, "every node is read, virtual ones too");
	n = node(&net, "AP-1");
	ASSERT_TRUE(n != NULL, "AP-1 found by name");
	if (!n)
		goto out;
	ASSERT_EQ(n->down_bps, 30000000, "AP-1 download bandwidth in bit/s");
	ASSERT_EQ(n->up_bps, 10500000, "a fractional bandwidth is exact");
	ASSERT_STR(n->id, "17", "a numeric id is read as text");
	ASSERT_EQ(n->depth, 4, "AP-1 is the fourth real level (the virtual Group does not count)");
	ASSERT_STR(name_of(&net, n->real_parent), "Tower", "AP-1's class hangs under Tower's (Group is virtual)");
	ASSERT_STR(name_of(&net, n->parent), "Group", "its parent in the file is still Group");
	ASSERT_STR(name_of(&net, n->unit), "Site", "everything under Site shares Site's CPU");
	n = node(&net, "CPE-hub");
	ASSERT_EQ(n->depth, 5, "CPE-hub is the fifth real level");
	n = node(&net, "Group");
	ASSERT_TRUE(n->is_virtual && n->depth == 0, "Group is virtual and has no level");
	n = node(&net, "AP-2");
	ASSERT_EQ(n->down_bps, 250000, "0.25 Mbps");
	ASSERT_STR(node(&net, "Site")->type, "Site", "type is kept");
	/* a virtual top level: its children spread on their own */
	n = node(&net, "Edge");
	ASSERT_STR(name_of(&net, n->real_parent), "(root)", "Edge hangs on the CPU's root class");
	ASSERT_STR(name_of(&net, n->unit), "Edge", "Edge is a unit of its own");
	ASSERT_EQ(node(&net, "Cloud")->unit, -1, "a virtual top level is no unit");
	ASSERT_EQ(network_find_id(&net, "p-1"), network_find_name(&net, "PoP"), "find by id");
	ASSERT_EQ(network_find_id(&net, "nope"), -1, "an unknown id");
	network_free(&net);

	ASSERT_EQ(parse("{}", &net, &d), 0, "{} is an empty network");
	ASSERT_EQ(net.n, 0, "no node in {}");
	network_free(&net);
	ASSERT_EQ(parse(" {\"A\": {\"downloadBandwidthMbps\": 5, \"uploadBandwidthMbps\": 5, \"children\": {}, \"extra\": [1]}}",
			&net, &d), 0, "empty children and unknown keys are fine");
	network_free(&net);
out:
	network_free(&net);
	diag_free(&d);
}

static void test_refusals(void)
{
	refused("syntax", "{\n \"A\": { \"downloadBandwidthMbps\": 5,, } }", "n.json:2:");
	refused("duplicate key in one object",
		"{\"A\": {\"downloadBandwidthMbps\": 1, \"uploadBandwidthMbps\": 1},\n"
		" \"A\": {\"downloadBandwidthMbps\": 1, \"uploadBandwidthMbps\": 1}}",
		"n.json:2:");
	refused("duplicate name in the whole file",
		"{\"A\": {\"downloadBandwidthMbps\": 9, \"uploadBandwidthMbps\": 9, \"children\": {"
		"  \"B\": {\"downloadBandwidthMbps\": 1, \"uploadBandwidthMbps\": 1}}},"
		" \"C\": {\"downloadBandwidthMbps\": 9, \"uploadBandwidthMbps\": 9, \"children\": {"
		"  \"B\": {\"downloadBandwidthMbps\": 1, \"uploadBandwidthMbps\": 1}}}}",
		"node name \"B\" is used twice (A > B, and C > B)");
	refused("duplicate id",
		"{\"A\": {\"downloadBandwidthMbps\": 9, \"uploadBandwidthMbps\": 9, \"id\": \"x\"},"
		" \"C\": {\"downloadBandwidthMbps\": 9, \"uploadBandwidthMbps\": 9, \"id\": \"x\"}}",
		"node id \"x\" is used twice");
	refused("missing bandwidth", "{\"A\": {\"uploadBandwidthMbps\": 9}}",
		"node \"A\": downloadBandwidthMbps is missing");
	refused("zero bandwidth", "{\"A\": {\"downloadBandwidthMbps\": 0, \"uploadBandwidthMbps\": 9}}",
		"node \"A\": downloadBandwidthMbps must be greater than 0");
	refused("negative bandwidth", "{\"A\": {\"downloadBandwidthMbps\": 5, \"uploadBandwidthMbps\": -1.5}}",
		"node \"A\": uploadBandwidthMbps must be greater than 0");
	refused("text bandwidth", "{\"A\": {\"downloadBandwidthMbps\": \"100\", \"uploadBandwidthMbps\": 9}}",
		"downloadBandwidthMbps is not a number");
	refused("too large", "{\"A\": {\"downloadBandwidthMbps\": 1e9, \"uploadBandwidthMbps\": 9}}",
		"is too large");
	refused("children not an object",
		"{\"A\": {\"downloadBandwidthMbps\": 5, \"uploadBandwidthMbps\": 5, \"children\": [1, 2]}}",
		"node \"A\": children is not an object");
	refused("node not an object", "{\"A\": 5}", "node \"A\" is not an object");
	refused("top level not an object", "[1]", "the top level is not an object");
	refused("virtual not boolean",
		"{\"A\": {\"downloadBandwidthMbps\": 5, \"uploadBandwidthMbps\": 5, \"virtual\": \"yes\"}}",
		"virtual is not true or false");
	refused("not UTF-8", "{\"M\xfcller\": {\"downloadBandwidthMbps\": 5, \"uploadBandwidthMbps\": 5}}",
		"n.json:1:");
	/* seven real levels: the seventh is named; virtual levels do not count */
	{
		char buf[4096] = "{";
		const char *names[] = { "L1", "L2", "V", "L3", "L4", "L5", "L6", "L7" };

		for (int i = 0; i < 8; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "\"%s\": {\"downloadBandwidthMbps\": 5, \"uploadBandwidthMbps\": 5%s, \"children\": {",
				 names[i], names[i][0] == 'V' ? ", \"virtual\": true" : "");
		for (int i = 0; i < 8; i++)
			strcat(buf, "}}");
		strcat(buf, "}");
		refused("seven real levels", buf,
			"node \"L1 > L2 > V > L3 > L4 > L5 > L6 > L7\" is 7 levels deep");
		/* six are fine */
		{
			struct network net;
			struct cs_diag d = { 0 };
			char *cut = strstr(buf, "\"L7\"");

			strcpy(cut, "\"L7x\": 1}}}}}}}}}");
			/* L7x is not an object: only that, no depth error */
			ASSERT_EQ(parse(buf, &net, &d), -EINVAL, "six levels and a bad node");
			ASSERT_EQ(d.n, 1, "one message: six real levels are allowed");
			diag_free(&d);
		}
	}
}

static void test_resolve(void)
{
	struct network net;
	struct circuit_set set;
	struct cs_diag d = { 0 };
	const char *csv =
		HDR
		"c-name,N,d1,,AP-2,,198.18.0.1,,1,1,5,5,,,\n"
		"c-pid,N,d2,,AP-2,,198.18.0.2,,1,1,5,5,,17,\n"       /* Parent Node ID wins over the name */
		"c-anchor,N,d3,,AP-2,,198.18.0.3,,1,1,5,5,,17,p-1\n" /* Anchor Node ID wins over both */
		"c-virtual,N,d4,,Group,,198.18.0.4,,1,1,5,5,,,\n"    /* virtual: under Tower */
		"c-cloud,N,d5,,Cloud,,198.18.0.5,,1,1,5,5,,,\n"      /* virtual to the top: the root */
		"c-none,N,d6,,,,198.18.0.6,,1,1,5,5,,,\n"
		"c-two,N,d7,,AP-1,,198.18.0.7,,1,1,5,5,,,\n"
		"c-two,N,d8,,AP-1,,198.18.0.8,,1,1,5,5,,,\n";
	struct {
		const char *circuit, *node;
	} want[] = {
		{ "c-name", "AP-2" }, { "c-pid", "AP-1" }, { "c-anchor", "PoP" }, { "c-virtual", "Tower" },
		{ "c-cloud", NULL }, { "c-none", NULL }, { "c-two", "AP-1" },
	};

	ASSERT_EQ(parse(five, &net, &d), 0, "network");
	ASSERT_EQ(circuits_parse_csv("c.csv", csv, strlen(csv), &set, &d), 0, "customers");
	diag_print(&d, stderr);
	ASSERT_EQ(network_parents_named(&set), 6, "six circuits name a parent");
	ASSERT_EQ(network_resolve(&net, &set, "c.csv", &d), 0, "every parent resolves");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct circuit *c = circuit_set_find(&set, want[i].circuit);
		char what[128];

		snprintf(what, sizeof(what), "%s hangs under %s", want[i].circuit,
			 want[i].node ? want[i].node : "its CPU's root");
		ASSERT_TRUE(c && (want[i].node ? c->node == (uint32_t)network_find_name(&net, want[i].node) + 1
					       : c->node == 0), what);
	}
	circuit_set_free(&set);

	/* unknown parents: FILE:LINE, the column and the value */
	{
		const char *bad = HDR
			"a,N,d1,,Nowhere,,198.18.0.1,,1,1,5,5,,,\n"
			"b,N,d2,,AP-2,,198.18.0.2,,1,1,5,5,,99,\n"
			"c,N,d3,,,,198.18.0.3,,1,1,5,5,,,zz\n";

		ASSERT_EQ(circuits_parse_csv("c.csv", bad, strlen(bad), &set, &d), 0, "customers");
		ASSERT_EQ(network_resolve(&net, &set, "c.csv", &d), -EINVAL, "unknown parents refused");
		ASSERT_EQ(d.n, 3, "one message each");
		if (d.n == 3) {
			ASSERT_STR(d.msg[0], "c.csv:2: Parent Node \"Nowhere\" is no node name of the network", "by name");
			ASSERT_STR(d.msg[1], "c.csv:3: Parent Node ID \"99\" is no node id of the network", "by id");
			ASSERT_STR(d.msg[2], "c.csv:4: Anchor Node ID \"zz\" is no node id of the network", "by anchor");
		}
		circuit_set_free(&set);
		diag_free(&d);
	}
	/* rows of one circuit must agree on the parent */
	{
		const char *bad = HDR
			"a,N,d1,,AP-1,,198.18.0.1,,1,1,5,5,,,\n"
			"a,N,d2,,AP-2,,198.18.0.2,,1,1,5,5,,,\n";

		ASSERT_EQ(circuits_parse_csv("c.csv", bad, strlen(bad), &set, &d), -EINVAL,
			  "two parents for one circuit refused");
		ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "c.csv:3: circuit \"a\": its parent (Parent Node \"AP-2\") differs from line 2's (Parent Node \"AP-1\")"),
			    "the message names both lines");
		diag_free(&d);
	}
	network_free(&net);
}

static void test_root(void)
{
	struct network net;
	struct circuit_set set;
	struct cs_diag d = { 0 };
	const char *csv = HDR
		"in-mesh,N,d1,,CPE-hub,,198.18.0.1,,1,1,5,5,,,\n"
		"in-ap1,N,d2,,,,198.18.0.2,,1,1,5,5,,17,\n"
		"in-ap2,N,d3,,AP-2,,198.18.0.3,,1,1,5,5,,,\n"
		"at-pop,N,d4,,PoP,,198.18.0.4,,1,1,5,5,,,\n"
		"flat,N,d5,,,,198.18.0.5,,1,1,5,5,,,\n";

	ASSERT_EQ(parse(five, &net, &d), 0, "network");
	ASSERT_EQ(circuits_parse_csv("c.csv", csv, strlen(csv), &set, &d), 0, "customers");
	ASSERT_EQ(network_root(&net, "Nowhere", &set, "c.csv", &d), -EINVAL, "an unknown --root");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "--root \"Nowhere\" is no node of the network"), "named");
	diag_free(&d);
	ASSERT_EQ(network_root(&net, "Tower", &set, "c.csv", &d), 0, "--root Tower");
	ASSERT_EQ(set.n, 3, "only the circuits under Tower stay (AP-1 by id, CPE-hub, AP-2)");
	ASSERT_TRUE(circuit_set_find(&set, "at-pop") == NULL && circuit_set_find(&set, "flat") == NULL,
		    "circuits above Tower or under no node are another shaper's");
	ASSERT_TRUE(node(&net, "Site")->is_virtual && node(&net, "PoP")->is_virtual &&
		    node(&net, "Edge")->is_virtual, "nodes outside the subtree get no class");
	ASSERT_TRUE(!node(&net, "Tower")->is_virtual && node(&net, "Tower")->depth == 1 &&
		    node(&net, "Tower")->real_parent == -1 &&
		    node(&net, "Tower")->unit == network_find_name(&net, "Tower"),
		    "Tower is at the top, a unit of its own");
	ASSERT_EQ(node(&net, "CPE-hub")->depth, 3, "CPE-hub two levels below it");
	ASSERT_EQ(network_resolve(&net, &set, "c.csv", &d), 0, "resolve in the subtree");
	ASSERT_EQ(circuit_set_find(&set, "in-mesh")->node, (uint32_t)network_find_name(&net, "CPE-hub") + 1,
		  "in-mesh under CPE-hub");
	circuit_set_free(&set);
	network_free(&net);
	diag_free(&d);

	/* a parent that is no node at all is refused, not dropped as another shaper's */
	{
		const char *typo = HDR
			"ok,N,d1,,AP-2,,198.18.0.1,,1,1,5,5,,,\n"
			"typo,N,d2,,AP_2,,198.18.0.2,,1,1,5,5,,,\n";

		ASSERT_EQ(parse(five, &net, &d), 0, "network");
		ASSERT_EQ(circuits_parse_csv("c.csv", typo, strlen(typo), &set, &d), 0, "customers");
		ASSERT_EQ(network_root(&net, "Site", &set, "c.csv", &d), 0, "--root Site");
		ASSERT_EQ(network_resolve(&net, &set, "c.csv", &d), -EINVAL, "the typo is refused");
		ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "c.csv:3: Parent Node \"AP_2\" is no node name"),
			    "named with its line");
		circuit_set_free(&set);
		network_free(&net);
		diag_free(&d);
	}
	/* a --root with no circuit under it would remove every running one: refused */
	{
		const char *other = HDR "ok,N,d1,,AP-2,,198.18.0.1,,1,1,5,5,,,\n";

		ASSERT_EQ(parse(five, &net, &d), 0, "network");
		ASSERT_EQ(circuits_parse_csv("c.csv", other, strlen(other), &set, &d), 0, "customers");
		ASSERT_EQ(network_root(&net, "Edge", &set, "c.csv", &d), -EINVAL, "--root with nothing under it");
		ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "no circuit hangs under --root \"Edge\""), "said");
		circuit_set_free(&set);
		network_free(&net);
		diag_free(&d);
	}
}

int main(void)
{
	test_root();
	test_accepts();
	test_refusals();
	test_resolve();
	return test_done("network");
}
