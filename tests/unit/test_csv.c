// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The customer file: what is accepted, and every refusal with its line. */
#include <stdlib.h>
#include <unistd.h>
#include "circuits.h"
#include "test.h"

#define HDR "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6," \
	    "Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment\n"

static int parse(const char *text, struct circuit_set *set, struct cs_diag *d)
{
	return circuits_parse_csv("t.csv", text, strlen(text), set, d);
}

static bool diag_has(const struct cs_diag *d, const char *part)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msg[i], part))
			return true;
	return false;
}

/* @text must be refused with a message containing both @where and @what. */
static void refused(const char *label, const char *text, const char *where, const char *what)
{
	struct circuit_set set;
	struct cs_diag d = { 0 };
	int err = parse(text, &set, &d);
	bool found = false;

	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.msg[i], where) && strstr(d.msg[i], what))
			found = true;
	CHECK(err == -EINVAL && found && set.n == 0, "%s: err %d, want message \"%s ... %s\"; got:",
	      label, err, where, what);
	if (!found)
		diag_print(&d, stderr);
	diag_free(&d);
}

static void test_accepts(void)
{
	const char *text =
		"\xEF\xBB\xBF" /* BOM */
		"circuit id,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,"
		"Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment,"
		"Parent Node ID,Anchor Node ID,sqm\r\n"
		"c-2,\"Bob, Jr.\",d-3,r1,,,198.18.1.20,,1,1,20.5,5,,,,cake\r\n"
		"\r\n"
		"c-1,Alice,d-1,r1,site,aa:bb,\"198.18.1.10, 198.18.2.0/24\",\"2001:db8:1::/64\","
		"5,2,12,4,\"said \"\"hi\"\"\",,,\r\n"
		"c-1,Alice,d-2,r2,site,,198.18.1.11,,5,2,12,4,,,,\r\n";
	struct circuit_set set;
	struct cs_diag d = { 0 };
	int err = parse(text, &set, &d);

	ASSERT_EQ(err, 0, "valid file with BOM, CRLF, quotes, extra columns");
	diag_print(&d, stderr);
	if (err)
		return;
	ASSERT_EQ(set.n, 2, "two circuits from three rows");
	ASSERT_STR(set.v[0].id, "c-1", "sorted by id");
	ASSERT_EQ(set.v[0].n_pfx, 4, "c-1 merges both devices' addresses");
	ASSERT_EQ(set.v[0].down_min, 5000000, "down min");
	ASSERT_EQ(set.v[0].down_max, 12000000, "down max");
	ASSERT_EQ(set.v[0].up_min, 2000000, "up min");
	ASSERT_EQ(set.v[0].up_max, 4000000, "up max");
	ASSERT_EQ(set.v[0].line, 4, "first row of c-1 is line 4");
	ASSERT_STR(set.v[1].name, "Bob, Jr.", "quoted name with comma");
	ASSERT_EQ(set.v[1].down_max, 20500000, "fractional Mbps");
	{
		char buf[64];

		prefix_format(&set.v[0].pfx[0], buf, sizeof(buf));
		ASSERT_STR(buf, "198.18.1.10/32", "IPv4 default /32");
		prefix_format(&set.v[0].pfx[2], buf, sizeof(buf));
		ASSERT_STR(buf, "198.18.2.0/24", "IPv4 CIDR");
		prefix_format(&set.v[0].pfx[3], buf, sizeof(buf));
		ASSERT_STR(buf, "2001:db8:1::/64", "IPv6 prefix");
	}
	circuit_set_free(&set);
	diag_free(&d);
}

static void test_same_prefix_twice_in_one_circuit(void)
{
	struct circuit_set set;
	struct cs_diag d = { 0 };
	int err = parse(HDR "c,,d1,,,,198.18.1.1,,1,1,2,2,\n"
			    "c,,d2,,,,198.18.1.1,,1,1,2,2,\n",
			&set, &d);

	ASSERT_EQ(err, 0, "a circuit may list one address on two devices");
	if (!err)
		ASSERT_EQ(set.v[0].n_pfx, 1, "listed once");
	circuit_set_free(&set);
	diag_free(&d);
}

static void test_reports_all(void)
{
	struct circuit_set set;
	struct cs_diag d = { 0 };

	parse(HDR "a,,,,,,300.1.1.1,,1,1,2,2,\n"
		  "b,,,,,,198.18.0.1,,x,1,2,2,\n",
	      &set, &d);
	ASSERT_TRUE(diag_has(&d, "t.csv:2:") && diag_has(&d, "t.csv:3:"),
		    "every bad line is reported, not only the first");
	diag_free(&d);

	ASSERT_EQ(parse(HDR "a,,,,,,198.18.0.1,,1,1,2,x,\n"
			    "b,,,,,,198.18.0.2,,1,1,2,2,\n"
			    "c,,,,,,198.18.0.2,,1,1,2,2,\n",
			&set, &d),
		  -EINVAL, "a bad row and an overlap");
	ASSERT_TRUE(diag_has(&d, "t.csv:2: Upload Max Mbps") &&
		    diag_has(&d, "t.csv:4: 198.18.0.2/32 of circuit \"c\" overlaps"),
		    "the overlap among good rows is reported beside the bad row");
	ASSERT_EQ(set.n, 0, "nothing returned from a refused file");
	diag_free(&d);
}

/* What spreadsheets write: empty rows, a dropped empty last column, other separators. */
static void test_spreadsheets(void)
{
	struct circuit_set set;
	struct cs_diag d = { 0 };

	ASSERT_EQ(parse(HDR "a,,,,,,198.18.0.1,,1,1,2,2,\n,,,,,,,,,,,,\n\"\",,,\n"
			    "b,,,,,,198.18.0.2,,1,1,2,2\n",
			&set, &d),
		  0, "empty rows and a row without its empty last column");
	diag_print(&d, stderr);
	ASSERT_EQ(set.n, 2, "both circuits");
	ASSERT_TRUE(set.ignored == NULL, "LibreQoS's descriptive columns are not worth a note");
	circuit_set_free(&set);
	ASSERT_EQ(parse("Circuit ID,IPv4,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,sqm,Plan\n"
			"c,198.18.0.1,1,1,2,2,cake,gold\n",
			&set, &d),
		  0, "columns cpushaper does not use");
	ASSERT_STR(set.ignored ? set.ignored : "", "Plan", "are named, once (sqm is read)");
	circuit_set_free(&set);
	diag_free(&d);

	refused("a last row cut short, without its newline",
		HDR "a,,,,,,198.18.0.1,,1,1,2,2,\nb,,,,,,198.18.0.2,,1,1,6.5,1", "t.csv:3:",
		"row has 12 fields, the header has 13");
	refused("a row without its last column, which is needed",
		"Circuit ID,IPv4,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps\n"
		"c,198.18.0.1,1,1,10\n",
		"t.csv:2:", "Upload Max Mbps \"\"");
	ASSERT_EQ(parse("Circuit ID;IPv4;IPv6;Download Min Mbps;Upload Min Mbps;Download Max Mbps;Upload Max Mbps\n"
			"c;198.18.0.1;;1;1;2;2\n",
			&set, &d),
		  -EINVAL, "a file saved with semicolons");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "t.csv:1:") && strstr(d.msg[0], "semicolons between columns"),
		    "one message that says so, not six missing columns");
	diag_free(&d);
	ASSERT_EQ(parse("Circuit ID\tIPv4\tDownload Min Mbps\n", &set, &d), -EINVAL, "tabs");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], "tabs between columns"), "named as tabs");
	diag_free(&d);
}

/* --skip-invalid: rows with a problem are left out and named; the file's own problems still refuse it. */
static void test_skip_invalid(void)
{
	char path[] = "/tmp/cs-skip-XXXXXX";
	int fd = mkstemp(path);
	struct circuit_set set;
	struct cs_diag d = { 0 }, skipped = { 0 };
	FILE *f;

	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fputs(HDR "a,,,,,,198.18.0.1,,1,1,2,2,\n"
		  "b,,,,,,198.18.0.300,,1,1,2,2,\n"   /* line 3: bad address */
		  "c,,,,,,198.18.0.3,,1,1,2,x,\n"     /* line 4: bad rate */
		  "d,,,,,,198.18.0.1,,1,1,2,2,\n"     /* line 5: a's address */
		  "e,,,,,,198.18.0.5,,1,1,2,2,\n",
	      f);
	fclose(f);
	ASSERT_EQ(circuits_load_csv_skipping(path, &set, &d, &skipped), 0, "the valid rows load");
	ASSERT_EQ(set.n, 2, "a and e");
	ASSERT_TRUE(set.n == 2 && !strcmp(set.v[0].id, "a") && !strcmp(set.v[1].id, "e"), "a and e, by id");
	ASSERT_EQ(skipped.n, 3, "three rows left out");
	ASSERT_TRUE(skipped.n == 3 && strstr(skipped.msg[0], ":3: ") && strstr(skipped.msg[1], ":4: ") &&
			    strstr(skipped.msg[2], ":5: "),
		    "each named by its line, the overlap by the later row");
	ASSERT_EQ(d.n, 0, "no error");
	circuit_set_free(&set);
	diag_free(&skipped);
	ASSERT_EQ(circuits_load_csv(path, &set, &d), -EINVAL, "without it the same file is refused");
	diag_free(&d);

	/* a conflict drops the later row, whichever of the two the message names first */
	f = fopen(path, "w");
	fputs(HDR "a,,,,,,198.18.0.5,,1,1,2,2,\n"
		  "typo,,,,,,198.18.0.0/24,,1,1,2,2,\n",
	      f);
	fclose(f);
	ASSERT_EQ(circuits_load_csv_skipping(path, &set, &d, &skipped), 0, "an overlap");
	ASSERT_TRUE(set.n == 1 && !strcmp(set.v[0].id, "a"), "the first row stays, the later one goes");
	circuit_set_free(&set);
	diag_free(&skipped);

	/* more conflicts than passes are worth: refused, saying why */
	f = fopen(path, "w");
	fputs(HDR, f);
	fputs("a,,,,,,198.18.0.0/16,,1,1,2,2,\n", f);
	for (int i = 0; i < 70; i++)
		fprintf(f, "b,,,,,,198.18.%d.0/24,,1,1,2,%d,\n", i, i + 3); /* overlaps a, and b's rates disagree */
	fclose(f);
	ASSERT_EQ(circuits_load_csv_skipping(path, &set, &d, &skipped), 0, "70 conflicting rows");
	ASSERT_TRUE(set.n == 1 && !strcmp(set.v[0].id, "a"), "all left out, a stays");
	circuit_set_free(&set);
	diag_free(&skipped);
	diag_free(&d);

	f = fopen(path, "w");
	fputs("Circuit ID,IPv4\nb,198.18.0.1\n", f);
	fclose(f);
	ASSERT_EQ(circuits_load_csv_skipping(path, &set, &d, &skipped), -EINVAL,
		  "a header problem refuses the file");
	ASSERT_EQ(skipped.n, 0, "and skips nothing");
	diag_free(&d);
	f = fopen(path, "w");
	fputs(HDR "b,,,,,,198.18.0.300,,1,1,2,2,\n", f);
	fclose(f);
	ASSERT_EQ(circuits_load_csv_skipping(path, &set, &d, &skipped), -EINVAL,
		  "no valid row at all: refused");
	ASSERT_TRUE(diag_has(&d, "no customer rows"), "saying there is none left");
	diag_free(&d);
	diag_free(&skipped);
	unlink(path);
}

/* LibreQoS v2.2's sqm column: a leaf for both directions or a down/up pair; refusals name file, line and field. */
static void test_sqm(void)
{
	struct circuit_set set;
	struct cs_diag d = { 0 };
	const char *text =
		"Circuit ID,IPv4,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,SQM\n"
		"a,198.18.0.1,1,1,2,2,cake\n"
		"b,198.18.0.2,1,1,2,2,\n"
		"c,198.18.0.3,1,1,2,2,cake/fq_codel\n"
		"d,198.18.0.4,1,1,2,2, None \n"
		"e,198.18.0.5,1,1,2,2,/none\n"
		"f,198.18.0.6,1,1,2,2,FQ_CODEL/\n"
		"f,198.18.0.7,1,1,2,2,fq_codel/\n";

	ASSERT_EQ(parse(text, &set, &d), 0, "sqm values");
	diag_print(&d, stderr);
	ASSERT_EQ(set.n, 6, "six circuits");
	if (set.n == 6) {
		ASSERT_TRUE(set.v[0].sqm[0] == CS_SQM_CAKE && set.v[0].sqm[1] == CS_SQM_CAKE, "cake: both directions");
		ASSERT_TRUE(set.v[1].sqm[0] == CS_SQM_UNSET && set.v[1].sqm[1] == CS_SQM_UNSET, "empty: the --leaf default");
		ASSERT_TRUE(set.v[2].sqm[0] == CS_SQM_CAKE && set.v[2].sqm[1] == CS_SQM_FQ_CODEL, "down/up");
		ASSERT_TRUE(set.v[3].sqm[0] == CS_SQM_NONE && set.v[3].sqm[1] == CS_SQM_NONE, "none, any case, spaces trimmed");
		ASSERT_TRUE(set.v[4].sqm[0] == CS_SQM_UNSET && set.v[4].sqm[1] == CS_SQM_NONE, "an empty side: the default");
		ASSERT_TRUE(set.v[5].sqm[0] == CS_SQM_FQ_CODEL && set.v[5].sqm[1] == CS_SQM_UNSET, "rows of a circuit that agree");
	}
	circuit_set_free(&set);
	diag_free(&d);
	ASSERT_EQ(parse(HDR "a,,,,,,198.18.0.1,,1,1,2,2,\n", &set, &d), 0, "no sqm column");
	ASSERT_TRUE(set.n == 1 && set.v[0].sqm[0] == CS_SQM_UNSET, "no column: the default");
	circuit_set_free(&set);
	diag_free(&d);

#define SQMHDR "Circuit ID,IPv4,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,sqm\n"
	refused("sqm word", SQMHDR "a,198.18.0.1,1,1,2,2,fq-codel\n", "t.csv:2:",
		"sqm \"fq-codel\" is not cake, fq_codel, none, empty or a down/up pair");
	refused("sqm sfq", SQMHDR "a,198.18.0.1,1,1,2,2,ok\nb,198.18.0.2,1,1,2,2,sfq\n", "t.csv:3:", "sqm \"sfq\"");
	refused("sqm three sides", SQMHDR "a,198.18.0.1,1,1,2,2,cake/cake/cake\n", "t.csv:2:", "sqm \"cake/cake/cake\"");
	refused("sqm bad side", SQMHDR "a,198.18.0.1,1,1,2,2,cake/codel\n", "t.csv:2:", "sqm \"cake/codel\"");
	refused("sqm rows disagree", SQMHDR "a,198.18.0.1,1,1,2,2,cake\na,198.18.0.2,1,1,2,2,none\n",
		"t.csv:3:", "circuit \"a\": its sqm differs from line 2's");
#undef SQMHDR
}

int main(void)
{
	test_sqm();
	test_accepts();
	test_spreadsheets();
	test_skip_invalid();
	test_same_prefix_twice_in_one_circuit();
	test_reports_all();

	refused("bad IPv4", HDR "c,,,,,,198.18.1,,1,1,2,2,\n", "t.csv:2:", "not a valid IPv4");
	refused("IPv4 octet out of range", HDR "c,,,,,,198.18.1.256,,1,1,2,2,\n", "t.csv:2:",
		"not a valid IPv4");
	refused("IPv6 in IPv4 column", HDR "c,,,,,,2001:db8::1,,1,1,2,2,\n", "t.csv:2:",
		"IPv6 address in the IPv4 column");
	refused("bad IPv6", HDR "c,,,,,,,2001:db8:::1,1,1,2,2,\n", "t.csv:2:", "not a valid IPv6");
	refused("IPv4 in IPv6 column", HDR "c,,,,,,,198.18.0.1,1,1,2,2,\n", "t.csv:2:",
		"IPv4 address in the IPv6 column");
	refused("mapped IPv6", HDR "c,,,,,,,::ffff:198.18.0.1,1,1,2,2,\n", "t.csv:2:", "IPv4-mapped");
	refused("mapped IPv6 prefix", HDR "c,,,,,,,::ffff:0:0/96,1,1,2,2,\n", "t.csv:2:", "IPv4-mapped");
	refused("IPv6 prefix covering the mapped range", HDR "c,,,,,,,::fffe:0:0/95,1,1,2,2,\n", "t.csv:2:",
		"covers ::ffff:0:0/96");
	refused("IPv6 /8 covering the mapped range", HDR "c,,,,,,,::/8,1,1,2,2,\n", "t.csv:2:",
		"covers ::ffff:0:0/96");
	refused("Latin-1 Circuit ID", HDR "M\xfcller,,,,,,198.18.0.1,,1,1,2,2,\n", "t.csv:2:",
		"Circuit ID is not valid UTF-8 (byte 0xfc at offset 1)");
	{
		struct circuit_set set;
		struct cs_diag d = { 0 };
		int err = parse("\xef\xbb\xbf" HDR "c,Caf\xe9 Central,,,,,198.18.0.1,,1,1,2,2,\n", &set, &d);

		ASSERT_EQ(err, 0, "a Latin-1 Circuit Name (and a BOM) accepted");
		if (!err) {
			ASSERT_STR(set.v[0].name, "Caf? Central", "its bad byte shown as '?'");
			ASSERT_EQ(set.names_fixed, 1, "and counted for the warning");
			circuit_set_free(&set);
		}
		diag_free(&d);
	}
	refused("overlong UTF-8", HDR "c\xc0\xaf,,,,,,198.18.0.1,,1,1,2,2,\n", "t.csv:2:", "not valid UTF-8");
	{
		struct circuit_set set;
		struct cs_diag d = { 0 };
		int err = parse(HDR "M\xc3\xbcller,Caf\xc3\xa9 \xe2\x82\xac,,,,,198.18.0.1,,1,1,2,2,\n"
				    "x,,,,,,,2001:db8::/32,1,1,2,2,\n", &set, &d);

		ASSERT_EQ(err, 0, "UTF-8 IDs and names, and an IPv6 prefix outside the mapped range, accepted");
		if (!err)
			circuit_set_free(&set);
		diag_free(&d);
	}
	refused("IPv4 prefix too long", HDR "c,,,,,,198.18.0.0/33,,1,1,2,2,\n", "t.csv:2:",
		"outside 1..32");
	refused("IPv6 prefix too long", HDR "c,,,,,,,2001:db8::/129,1,1,2,2,\n", "t.csv:2:",
		"outside 1..128");
	refused("prefix not a number", HDR "c,,,,,,198.18.0.0/x,,1,1,2,2,\n", "t.csv:2:",
		"not a number");
	refused("/0", HDR "c,,,,,,0.0.0.0/0,,1,1,2,2,\n", "t.csv:2:", "/0");
	refused("host bits", HDR "c,,,,,,198.18.1.10/24,,1,1,2,2,\n", "t.csv:2:", "bits set past");
	refused("same address in two circuits",
		HDR "a,,,,,,198.18.1.1,,1,1,2,2,\n\nb,,,,,,198.18.1.1,,1,1,2,2,\n", "t.csv:4:",
		"overlaps 198.18.1.1/32 of circuit \"a\" on line 2");
	refused("nested prefixes in two circuits",
		HDR "a,,,,,,198.18.0.0/16,,1,1,2,2,\nb,,,,,,198.18.7.0/24,,1,1,2,2,\n", "t.csv:3:",
		"on line 2");
	refused("nested IPv6 prefixes",
		HDR "a,,,,,,,2001:db8::/32,1,1,2,2,\nb,,,,,,,2001:db8:5::1,1,1,2,2,\n", "t.csv:3:",
		"overlaps 2001:db8::/32");
	refused("Min > Max down", HDR "c,,,,,,198.18.0.1,,20,1,10,2,\n", "t.csv:2:",
		"Download Min Mbps (20) is greater than Download Max Mbps (10)");
	refused("Min > Max up", HDR "c,,,,,,198.18.0.1,,1,3,10,2,\n", "t.csv:2:",
		"Upload Min Mbps (3) is greater than Upload Max Mbps (2)");
	refused("zero rate", HDR "c,,,,,,198.18.0.1,,0,1,10,2,\n", "t.csv:2:",
		"Download Min Mbps \"0\" must be greater than 0");
	refused("negative rate", HDR "c,,,,,,198.18.0.1,,1,1,-10,2,\n", "t.csv:2:",
		"Download Max Mbps \"-10\" must be positive");
	refused("non-numeric rate", HDR "c,,,,,,198.18.0.1,,1,1,10,fast,\n", "t.csv:2:",
		"Upload Max Mbps \"fast\" is not a decimal number");
	refused("empty rate", HDR "c,,,,,,198.18.0.1,,1,,10,2,\n", "t.csv:2:",
		"Upload Min Mbps \"\" is not a decimal number");
	refused("rows disagree", HDR "c,,,,,,198.18.0.1,,1,1,10,2,\nc,,,,,,198.18.0.2,,1,1,12,2,\n",
		"t.csv:3:", "Download Max Mbps 12 differs from 10 on line 2");
	refused("no address", HDR "c,,,,,,,,1,1,10,2,\n", "t.csv:2:", "has no IPv4 or IPv6 address");
	refused("no address over two rows", HDR "c,,,,,,\" , \",,1,1,10,2,\nc,,,,,,,,1,1,10,2,\n",
		"t.csv:2:", "has no IPv4 or IPv6 address");
	refused("missing column",
		"Circuit ID,IPv4,IPv6,Download Min Mbps,Upload Min Mbps,Download Max Mbps\n"
		"c,198.18.0.1,,1,1,2\n",
		"t.csv:1:", "missing required column \"Upload Max Mbps\"");
	refused("no address column",
		"Circuit ID,Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps\n"
		"c,1,1,2,2\n",
		"t.csv:1:", "\"IPv4\" or \"IPv6\"");
	refused("duplicate column", "Circuit ID,IPv4,IPv4,Download Min Mbps,Upload Min Mbps,"
				    "Download Max Mbps,Upload Max Mbps\nc,198.18.0.1,,1,1,2,2\n",
		"t.csv:1:", "appears twice");
	refused("short row", HDR "c,,,,,,198.18.0.1,,1,1,10\n", "t.csv:2:",
		"row has 11 fields, the header has 13");
	refused("long row", HDR "c,,,,,,198.18.0.1,,1,1,10,2,,extra\n", "t.csv:2:",
		"row has 14 fields");
	refused("unbalanced quote", HDR "c,,,,,,198.18.0.1,,1,1,10,2,\nd,\"Bob,,,,,198.18.0.2,,1,1,10,2,\n",
		"t.csv:3:", "unbalanced quote");
	refused("quote in unquoted field", HDR "c,Bo\"b,,,,,198.18.0.1,,1,1,10,2,\n", "t.csv:2:",
		"quote inside an unquoted field");
	refused("text after closing quote", HDR "c,\"Bob\"x,,,,,198.18.0.1,,1,1,10,2,\n", "t.csv:2:",
		"after a closing quote");
	refused("line numbers count newlines inside quotes",
		HDR "c,\"two\nlines\",,,,,198.18.0.1,,1,1,10,2,\nd,,,,,,bad,,1,1,10,2,\n", "t.csv:4:",
		"not a valid IPv4");
	refused("empty circuit id", HDR ",,,,,,198.18.0.1,,1,1,10,2,\n", "t.csv:2:", "Circuit ID is empty");
	refused("long circuit id",
		HDR "0123456789012345678901234567890123456789012345678901234567890123456789,,,,,,"
		    "198.18.0.1,,1,1,10,2,\n",
		"t.csv:2:", "longer than 63 bytes");
	refused("empty file", "", "t.csv:1:", "empty");
	refused("header only", HDR, "t.csv:", "no customer rows");
	{
		static const char nul[] = HDR "c,,,,,,198.18.0.1,,1,1,10,2,\nx\0y\n";
		struct circuit_set set;
		struct cs_diag d = { 0 };

		ASSERT_EQ(circuits_parse_csv("t.csv", nul, sizeof(nul) - 1, &set, &d), -EINVAL, "NUL");
		ASSERT_TRUE(diag_has(&d, "t.csv:3: NUL byte"), "NUL byte reported on its line");
		diag_free(&d);
	}
	return test_done("csv");
}
