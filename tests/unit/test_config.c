// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The configuration file: what is accepted, every refusal with its line, the options a command gets. */
#include <stdlib.h>
#include <unistd.h>
#include "config.h"
#include "test.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* @text must be refused with a message "FILE:@line: ...@what...". */
static void refused(const char *label, const char *text, unsigned int line, const char *what)
{
	struct config cfg;
	struct cs_diag d = { 0 };
	const char *path = write_file("bad.conf", text);
	char where[160];
	bool found = false;
	int err = config_read(path, CONFIG_REQUIRED, &cfg, &d);

	snprintf(where, sizeof(where), "%s:%u: ", path, line);
	for (size_t i = 0; i < d.n; i++)
		found |= !strncmp(d.msg[i], where, strlen(where)) && strstr(d.msg[i], what);
	CHECK(err == -EINVAL && found && cfg.n == 0 && !cfg.file,
	      "%s: err %d, want \"%s...%s\"; got:", label, err, where, what);
	if (!found)
		diag_print(&d, stderr);
	diag_free(&d);
}

static void test_accepts(void)
{
	struct config cfg;
	struct cs_diag d = { 0 };
	unsigned int line = 0;
	char want[128];
	const char *path = write_file("good.conf",
		"\xef\xbb\xbf# cpushaper on the edge box\r\n"
		"lan-dev = eth1\r\n"
		"wan-dev=eth0 ; the uplink\n"
		"\n"
		"   customers = exports/ShapedDevices.csv\n"
		"network = /srv/lqos/network.json\n"
		"link-mbps = 2500.5\n"
		"default-mbps: 100\n"
		"cpus = 0-1\n"
		"htbs-per-cpu = 8\n"
		"unknown = cpu:1\n"
		"leaf = cake\n"
		"xdp-mode = skb\n"
		"cpumap-qsize = 4096\n"
		"skip-local = no\n"
		"xdp-meta = yes\n"
		"root = Site A\n"
		"listen = [::1]:9630\n"
		"; the end");
	int err = config_read(path, CONFIG_REQUIRED, &cfg, &d);

	ASSERT_EQ(err, 0, "a file with every key");
	diag_print(&d, stderr);
	ASSERT_EQ(cfg.n, 16, "keys read");
	ASSERT_STR(cfg.file ? cfg.file : "", path, "the file read");
	ASSERT_STR(config_get(&cfg, "lan-dev", &line) ?: "", "eth1", "lan-dev after a BOM and a comment, CRLF");
	ASSERT_EQ(line, 2, "lan-dev's line");
	ASSERT_STR(config_get(&cfg, "wan-dev", NULL) ?: "", "eth0", "an inline comment is not the value");
	snprintf(want, sizeof(want), "%s/exports/ShapedDevices.csv", dir);
	ASSERT_STR(config_get(&cfg, "customers", &line) ?: "", want,
		   "a relative path is read from the file's directory");
	ASSERT_EQ(line, 5, "an indented key is a key, not a continuation");
	ASSERT_STR(config_get(&cfg, "network", NULL) ?: "", "/srv/lqos/network.json", "an absolute path");
	ASSERT_STR(config_get(&cfg, "default-mbps", NULL) ?: "", "100", "key: value");
	ASSERT_STR(config_get(&cfg, "root", NULL) ?: "", "Site A", "a value with a space");
	ASSERT_TRUE(config_get(&cfg, "nonsense", NULL) == NULL, "a key not given");
	diag_free(&d);
	config_free(&cfg);

	path = write_file("none.conf", "network = none\nlan-dev = a\n");
	ASSERT_EQ(config_read(path, CONFIG_REQUIRED, &cfg, &d), 0, "network = none");
	ASSERT_STR(config_get(&cfg, "network", NULL) ?: "", "none", "'none' is not a path");
	config_free(&cfg);

	path = write_file("empty.conf", "");
	ASSERT_EQ(config_read(path, CONFIG_REQUIRED, &cfg, &d), 0, "an empty file");
	ASSERT_EQ(cfg.n, 0, "an empty file has no keys");
	config_free(&cfg);
	diag_free(&d);
}

static void test_missing(void)
{
	struct config cfg;
	struct cs_diag d = { 0 };
	char path[128];

	snprintf(path, sizeof(path), "%s/no-such.conf", dir);
	ASSERT_EQ(config_read(path, 0, &cfg, &d), 0, "the default file may be missing");
	ASSERT_TRUE(cfg.file == NULL && cfg.n == 0 && d.n == 0, "nothing read, nothing said");
	ASSERT_EQ(config_read(path, CONFIG_REQUIRED, &cfg, &d), -ENOENT, "a --config file may not");
	ASSERT_TRUE(d.n == 1 && strstr(d.msg[0], path) && strstr(d.msg[0], "No such file"),
		    "and says which file");
	diag_free(&d);
	snprintf(path, sizeof(path), "%s", dir);
	ASSERT_TRUE(config_read(path, CONFIG_REQUIRED, &cfg, &d) < 0 && d.n == 1, "a directory is refused");
	diag_free(&d);
}

static void test_refusals(void)
{
	refused("unknown key", "lan-dev = a\nlan-device = b\n", 2, "unknown key \"lan-device\"");
	refused("underscore", "lan_dev = a\n", 1, "(did you mean lan-dev?)");
	refused("section", "lan-dev = a\n[shaper]\nwan-dev = b\n", 2, "the file has no sections");
	refused("section alone", "lan-dev = a\n  [shaper]\n", 2, "the file has no sections");
	refused("unterminated section", "lan-dev = a\n[shaper\n", 2, "the file has no sections");
	refused("twice", "lan-dev = a\nwan-dev = b\nlan-dev = c\n", 3, "lan-dev given again (first on line 1)");
	refused("no value", "lan-dev =\n", 1, "lan-dev has no value");
	refused("not a setting", "lan-dev = a\neth1\n", 2, "expected key = value");
	refused("not a setting, last line", "lan-dev = a\nwan-dev", 2, "expected key = value");
	refused("device", "lan-dev = eth1/2\n", 1, "lan-dev \"eth1/2\" is not a device name");
	refused("long device", "wan-dev = abcdefghijklmnop\n", 1, "is not a device name");
	refused("rate", "link-mbps = 10G\n", 1, "link-mbps \"10G\"");
	refused("negative rate", "default-mbps = -1\n", 1, "default-mbps \"-1\"");
	refused("cpus", "cpus = 3-1\n", 1, "cpus \"3-1\"");
	refused("htbs", "htbs-per-cpu = 257\n", 1, "htbs-per-cpu \"257\" takes 1 to 256");
	refused("qsize", "cpumap-qsize = 4k\n", 1, "cpumap-qsize \"4k\" takes 8 to 16384");
	refused("rtt-flows", "rtt-flows = 32\n", 1, "rtt-flows \"32\" takes 64 to 4194304");
	refused("leaf", "leaf = sfq\n", 1, "leaf \"sfq\" takes one of: fq_codel cake fifo none pfifo");
	refused("leaf prefix", "leaf = fq\n", 1, "leaf \"fq\" takes one of");
	refused("xdp-mode", "xdp-mode = drv\n", 1, "xdp-mode \"drv\" takes one of: native skb");
	refused("unknown policy", "unknown = drop\n", 1, "unknown \"drop\" takes pass or cpu:N");
	refused("unknown cpu", "unknown = cpu:1024\n", 1, "unknown \"cpu:1024\"");
	refused("bool", "skip-local = maybe\n", 1, "skip-local \"maybe\" takes yes or no");
	refused("listen", "listen = 9630\n", 1, "listen \"9630\" takes ADDR:PORT");
	refused("listen name", "listen = localhost:9630\n", 1, "listen \"localhost:9630\"");

	/* a line longer than the parser's buffer: refused, and its tail is not read as a line */
	{
		char *text = malloc(10000);
		size_t n = 0;

		n += (size_t)sprintf(text + n, "lan-dev = a\n# ");
		memset(text + n, 'x', 5000);
		n += 5000;
		n += (size_t)sprintf(text + n, "wan-dev = evil0\nleaf = pfifo\n");
		text[n] = '\0';
		refused("long line", text, 2, "line longer than");
		free(text);
	}

	/* every mistake of a file, each with its own line */
	{
		struct config cfg;
		struct cs_diag d = { 0 };
		const char *path = write_file("many.conf", "leaf = x\n\nlink-mbps = y\nz\nlan-dev = a\n");

		ASSERT_EQ(config_read(path, CONFIG_REQUIRED, &cfg, &d), -EINVAL, "three mistakes");
		ASSERT_EQ(d.n, 3, "all three are reported");
		ASSERT_TRUE(d.n == 3 && strstr(d.msg[0], ":1: ") && strstr(d.msg[1], ":3: ") &&
				    strstr(d.msg[2], ":4: "),
			    "in the order of their lines");
		diag_free(&d);
	}
}

/* Comments after a value, quotes around it; unload's lenient reading. */
static void test_values(void)
{
	struct config cfg;
	struct cs_diag d = { 0 };
	const char *path = write_file("values.conf",
		"root = Site A   # the main site\ncustomers = \"/srv/my files/x.csv\"\n"
		"lan-dev = 'eth1'\nwan-dev = eth0 ; uplink\n");

	ASSERT_EQ(config_read(path, CONFIG_REQUIRED, &cfg, &d), 0, "values with comments and quotes");
	ASSERT_STR(config_get(&cfg, "root", NULL) ?: "", "Site A", "a # comment after a value");
	ASSERT_STR(config_get(&cfg, "customers", NULL) ?: "", "/srv/my files/x.csv", "double quotes");
	ASSERT_STR(config_get(&cfg, "lan-dev", NULL) ?: "", "eth1", "single quotes");
	ASSERT_STR(config_get(&cfg, "wan-dev", NULL) ?: "", "eth0", "a ; comment after a value");
	config_free(&cfg);
	diag_free(&d);

	path = write_file("lenient.conf", "lan-dev = lan0\nleaf = sfq\nbogus = 1\nwan-dev = wan0\n");
	ASSERT_EQ(config_read(path, CONFIG_REQUIRED | CONFIG_LENIENT, &cfg, &d), 0,
		  "lenient: mistakes do not fail the read");
	ASSERT_EQ(d.n, 2, "lenient: both mistakes are still reported");
	ASSERT_STR(config_get(&cfg, "wan-dev", NULL) ?: "", "wan0", "lenient: the lines that are right count");
	ASSERT_TRUE(config_get(&cfg, "leaf", NULL) == NULL, "lenient: a bad value is left out");
	config_free(&cfg);
	diag_free(&d);
}

/* The options a command gets: the keys it takes, first, so its own arguments win. */
static void test_argv(void)
{
	struct config cfg;
	struct cs_diag d = { 0 };
	struct config_args a;
	char *argv[] = { "load", "--link-mbps", "200", "file.csv" };
	char *top[] = { "top", "--once" };
	const char *path = write_file("args.conf",
		"lan-dev = eth1\nwan-dev = eth0\nlink-mbps = 100\nskip-local = off\nxdp-meta = true\n"
		"customers = /c.csv\nlisten = 127.0.0.1:9\n");

	ASSERT_EQ(config_read(path, CONFIG_REQUIRED, &cfg, &d), 0, "read");
	ASSERT_EQ(config_argv(&cfg, "load", 4, argv, &a), 0, "load's arguments");
	ASSERT_EQ(a.argc, 9, "load: 5 configured options and its own 3");
	if (a.argc == 9) {
		ASSERT_STR(a.argv[0], "load", "the command stays first");
		ASSERT_STR(a.argv[1], "--lan-dev=eth1", "file order");
		ASSERT_STR(a.argv[2], "--wan-dev=eth0", "wan-dev");
		ASSERT_STR(a.argv[3], "--link-mbps=100", "a rate");
		ASSERT_STR(a.argv[4], "--no-skip-local", "a false boolean");
		ASSERT_STR(a.argv[5], "--xdp-meta", "a true boolean");
		ASSERT_STR(a.argv[6], "--link-mbps", "the command line after the file");
		ASSERT_STR(a.argv[8], "file.csv", "the FILE last");
	}
	config_args_free(&a);
	ASSERT_EQ(config_argv(&cfg, "top", 2, top, &a), 0, "top's arguments");
	ASSERT_EQ(a.argc, 4, "top takes only the devices of the file");
	if (a.argc == 4)
		ASSERT_STR(a.argv[3], "--once", "and its own option");
	config_args_free(&a);
	ASSERT_EQ(config_argv(&cfg, "metrics", 1, top, &a), 0, "metrics' arguments");
	ASSERT_TRUE(a.argc == 4 && !strcmp(a.argv[3], "--listen=127.0.0.1:9"), "metrics takes listen");
	config_args_free(&a);
	config_free(&cfg);
	diag_free(&d);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cs-config-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_accepts();
	test_missing();
	test_refusals();
	test_values();
	test_argv();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			t_fail++;
	}
	return test_done("config");
}
