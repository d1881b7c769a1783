// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <string.h>
#include <malloc.h>
#include <microhttpd.h>
#include <zlib.h>
#include "circuits.h"
#include "cli.h"
#include "maps.h"
#include "output.h"
#include "qdisc.h"
#include "state.h"
#include "rttstat.h"
#include "stats.h"

#define DEFAULT_LISTEN "127.0.0.1:9630"
#define EXPORTER_MAX_CONNS 64     /* open connections in all */
#define EXPORTER_MAX_PER_IP 8     /* from one client address */
#define EXPORTER_IDLE_S 5         /* a connection silent this long is closed */
#define EXPORTER_CONN_MEM 16384   /* request line + headers of one connection */

static const char help[] =
	"Usage: cpushaper metrics --lan-dev DEV --wan-dev DEV [--listen ADDR:PORT] [--no-circuit-series]\n"
	"                         [--circuit-rtt]\n"
	"\n"
	"Serve the shaper's counters to Prometheus at http://ADDR:PORT/metrics, in the\n"
	"text exposition format (gzip when the client asks): per CPU (label cpu), per\n"
	"circuit (labels circuit, direction) and per network node (labels node,\n"
	"direction) bytes, packets, drops and backlog from the HTBs, plan rates and node\n"
	"bandwidths; cpushaper_circuit_info{circuit,name,cpu,parent} and\n"
	"cpushaper_node_info{node,cpu,parent} (1) say where each is, so a circuit that\n"
	"moves keeps its series; the data path's per-CPU counters; cpushaper_build_info;\n"
	"the time and success of the last load (cpushaper_last_load_*); and what to\n"
	"alert on: circuit classes missing in the kernel, hooks without our program, a\n"
	"shaped device that does not exist (run load to repair). A scrape shows the\n"
	"kernel as it was at most a second before, so it follows loads and unloads;\n"
	"cpushaper_up is 0 while nothing is loaded. TCP round trips (load --rtt): the\n"
	"histogram cpushaper_rtt_seconds{side} of every circuit's samples (side:\n"
	"subscriber or internet), and per circuit cpushaper_circuit_retransmits_total\n"
	"and, with --circuit-rtt, cpushaper_circuit_rtt_seconds{circuit,side}.\n"
	"Runs until SIGINT or SIGTERM; the cpushaper-metrics unit runs it under systemd.\n"
	"\n"
	"Scrapes within a second share one page: the kernel is read at most once a\n"
	"second, however many clients ask. Limits against misbehaving clients: at most\n"
	"64 connections, 8 from one address; a connection idle for 5 s is closed; a\n"
	"request line with its headers must fit in about 8 KiB (longer: 414/431). Only\n"
	"GET and HEAD of /metrics are served. It reads, never changes, the shaper.\n"
	"\n"
	"Options:\n" COMMON_OPTS_HELP
	"  --listen ADDR:PORT   where to listen (default " DEFAULT_LISTEN "; IPv6 as [::1]:9630)\n"
	"  --no-circuit-series  leave out the per-circuit series (a shaper of tens of\n"
	"                       thousands of circuits; per-CPU and per-node ones stay)\n"
	"  --circuit-rtt        a round-trip histogram per circuit and side too (8 series\n"
	"                       each: 640 000 at 40 000 circuits; off by default)\n";

struct exporter {
	const char *lan, *wan;
	bool circuit_series;
	bool circuit_rtt;
	struct nl_sock *sk;
	/* the last scrape's reading: circuits idle since keep its drops and backlog */
	struct circuit_set last_have;
	struct cs_stats last_st;
	__u32 last_config;
	uint64_t last_full; /* when every circuit's class was last asked for */
	/*
	 * The last page, shared by every scrape within CACHE_NS: scrapes cost one
	 * kernel read per second however many clients ask, and concurrent slow
	 * readers hold one page between them (libmicrohttpd counts references).
	 * Only the server's one thread touches it.
	 */
	struct MHD_Response *page;
	struct MHD_Response *page_gz; /* the same, gzip-compressed (NULL for an error page) */
	z_stream z;
	bool z_ok;
	unsigned int page_code;
	uint64_t page_at;
	uint64_t log_at, log_quiet; /* rate limit of libmicrohttpd's messages */
};

#define CACHE_NS 1000000000ull

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/*
 * A label value: backslash, quote and newline escaped as the format requires,
 * and bytes that are not UTF-8 (the format's encoding) as U+FFFD: one bad ID
 * must not make the whole page unparseable.
 */
static void label(FILE *f, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;

	while (*s) {
		int n = utf8_len(s);

		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if (!n) {
			fputs("\xef\xbf\xbd", f);
			s++;
		} else {
			fwrite(s, 1, (size_t)n, f);
			s += n;
		}
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help_text)
{
	fprintf(f, "# HELP cpushaper_%s %s\n# TYPE cpushaper_%s %s\n", name, help_text, name, type);
}

/*
 * One sample of a circuit's or node's series: cpushaper_NAME{KEY="VALUE",direction=..} V.
 * No cpu label: a circuit that moves keeps its series (its _info series says where it is).
 */
static void sample(FILE *f, const char *name, const char *key, const char *value, int up,
		   unsigned long long v)
{
	fprintf(f, "cpushaper_%s{%s=\"", name, key);
	label(f, value);
	fprintf(f, "\",direction=\"%s\"} %llu\n", up ? "up" : "down", v);
}

/* cpushaper_KIND_info{KIND="ID",name=..,cpu=..,parent=..} 1: what a dashboard joins on. */
static void info(FILE *f, const char *kind, const char *id, const char *name, uint32_t cpu,
		 const char *parent)
{
	fprintf(f, "cpushaper_%s_info{%s=\"", kind, kind);
	label(f, id);
	if (name) {
		fputs("\",name=\"", f);
		label(f, name);
	}
	fprintf(f, "\",cpu=\"%u\",parent=\"", cpu);
	label(f, parent);
	fputs("\"} 1\n", f);
}

/* A counter family with one series per shaping CPU: the uint64_t at @off in struct cpu_stats. */
static void cpu_series(FILE *f, const struct cs_stats *st, const char *name, const char *help_text,
		       size_t off)
{
	family(f, name, "counter", help_text);
	for (int c = 0; c < CS_MAX_CPUS; c++)
		if (st->cpu[c].enabled)
			fprintf(f, "cpushaper_%s{cpu=\"%d\"} %llu\n", name, c,
				(unsigned long long)*(const uint64_t *)((const char *)&st->cpu[c] + off));
}

enum field { F_BYTES, F_PACKETS, F_DROPS, F_BACKLOG };

static uint64_t dir_field(const struct dir_stats *d, enum field fl)
{
	switch (fl) {
	case F_BYTES: return d->bytes;
	case F_PACKETS: return d->packets;
	case F_DROPS: return d->drops;
	default: return d->backlog;
	}
}

static const struct {
	const char *cpu_name, *circuit_name, *node_name, *type, *help;
	enum field field;
} dir_metrics[] = {
	{ "cpu_bytes_total", "circuit_bytes_total", "node_bytes_total", "counter",
	  "Bytes sent by the HTB", F_BYTES },
	{ "cpu_packets_total", "circuit_packets_total", "node_packets_total", "counter",
	  "Packets sent by the HTB", F_PACKETS },
	{ "cpu_drops_total", "circuit_drops_total", "node_drops_total", "counter",
	  "Packets dropped in the HTB", F_DROPS },
	{ "cpu_backlog_bytes", "circuit_backlog_bytes", "node_backlog_bytes", "gauge",
	  "Bytes queued in the HTB", F_BACKLOG },
};

/* Where the kernel and the maps disagree, as show reports it: what to alert on. */
static void write_damage(FILE *f, const struct cs_state *s, const struct cs_stats *st)
{
	family(f, "circuit_classes_missing", "gauge",
	       "Circuits whose HTB class the kernel does not have (deleted under the shaper): run load to repair.");
	for (int d = 0; d < 2; d++)
		fprintf(f, "cpushaper_circuit_classes_missing{direction=\"%s\"} %zu\n", d ? "up" : "down",
			st->classes_checked[d] - st->classes_present[d]);
	family(f, "program_missing", "gauge",
	       "1 when the hook lacks our program on the running maps (missing, stale or another tool's).");
	for (int at = 0; at < CS_AT_N; at++)
		fprintf(f, "cpushaper_program_missing{device=\"%s\",hook=\"%s\"} %d\n",
			at & 1 ? "wan" : "lan", at >= CS_AT_LAN_XDP ? "xdp" : "tc", !state_at_ok(s, at));
	family(f, "device_missing", "gauge",
	       "1 when the shaped device does not exist (deleted, or not created yet): load once it is back.");
	for (int d = 0; d < 2; d++)
		fprintf(f, "cpushaper_device_missing{device=\"%s\"} %d\n", d ? "wan" : "lan",
			(d ? s->wan_ix : s->lan_ix) < 0);
}

/* Per node of the network (none without one): its classes' counters and bandwidth. */
static void write_nodes(FILE *f, const struct cs_state *s, const struct cs_stats *st)
{
	char name[96];

	if (!s->n_nodes)
		return;
	for (size_t m = 0; m < sizeof(dir_metrics) / sizeof(dir_metrics[0]); m++) {
		snprintf(name, sizeof(name), "%s class of the network node (all below it).",
			 dir_metrics[m].help);
		family(f, dir_metrics[m].node_name, dir_metrics[m].type, name);
		for (size_t i = 0; i < s->n_nodes; i++)
			for (int d = 0; d < 2; d++)
				sample(f, dir_metrics[m].node_name, "node", s->nodes[i].name, d,
				       dir_field(d ? &st->node_up[i] : &st->node_down[i], dir_metrics[m].field));
	}
	family(f, "node_max_bits_per_second", "gauge", "The network node's bandwidth (HTB ceil).");
	for (size_t i = 0; i < s->n_nodes; i++)
		for (int d = 0; d < 2; d++)
			sample(f, "node_max_bits_per_second", "node", s->nodes[i].name, d,
			       d ? s->nodes[i].up_max : s->nodes[i].down_max);
	family(f, "node_info", "gauge", "1 per network node: its CPU and parent node (\"\": none).");
	for (size_t i = 0; i < s->n_nodes; i++)
		info(f, "node", s->nodes[i].name, NULL, s->nodes[i].cpu, s->nodes[i].parent);
}

/* The parent node of a running circuit ("" for its CPU's root class). */
static const char *parent_of(const struct cs_state *s, const struct circuit *c)
{
	for (size_t i = 0; c->parent_minor && i < s->n_nodes; i++)
		if (s->nodes[i].major == c->major && s->nodes[i].minor == c->parent_minor)
			return s->nodes[i].name;
	return "";
}

/* What the process and the last load were: to alert on a reload that failed. */
static void write_meta(FILE *f, const struct cs_state *s)
{
	family(f, "build_info", "gauge", "1, labelled with the exporter's version.");
	fprintf(f, "cpushaper_build_info{version=\"%s\"} 1\n", CS_VERSION);
	if (!s->loaded)
		return;
	family(f, "last_load_timestamp_seconds", "gauge", "When the last load of this shaper ended (Unix time).");
	fprintf(f, "cpushaper_last_load_timestamp_seconds %llu\n", (unsigned long long)s->cfg.load_time);
	family(f, "last_load_success", "gauge",
	       "1 when the last load applied its files, 0 when it refused them or applied them in part.");
	fprintf(f, "cpushaper_last_load_success %d\n", s->cfg.load_result == CS_LOAD_OK);
	family(f, "last_successful_load_timestamp_seconds", "gauge",
	       "When the last load that succeeded ended (Unix time).");
	fprintf(f, "cpushaper_last_successful_load_timestamp_seconds %llu\n",
		(unsigned long long)s->cfg.load_ok_time);
}

static void write_metrics(FILE *f, const struct cs_state *s, const struct circuit_set *have,
			  const struct cs_stats *st, bool circuits)
{
	char name[96];

	family(f, "up", "gauge", "1 when cpushaper is loaded on the device pair.");
	fprintf(f, "cpushaper_up 1\n");
	family(f, "cpu_circuits", "gauge", "Circuits placed on the CPU.");
	for (int c = 0; c < CS_MAX_CPUS; c++)
		if (st->cpu[c].enabled)
			fprintf(f, "cpushaper_cpu_circuits{cpu=\"%d\"} %u\n", c, st->cpu[c].circuits);
	family(f, "cpu_plan_bits_per_second", "gauge", "Sum of the Max plans of the CPU's circuits.");
	for (int c = 0; c < CS_MAX_CPUS; c++)
		if (st->cpu[c].enabled)
			fprintf(f,
				"cpushaper_cpu_plan_bits_per_second{cpu=\"%d\",direction=\"down\"} %llu\n"
				"cpushaper_cpu_plan_bits_per_second{cpu=\"%d\",direction=\"up\"} %llu\n",
				c, (unsigned long long)st->cpu[c].plan_down_bps, c,
				(unsigned long long)st->cpu[c].plan_up_bps);
	for (size_t m = 0; m < sizeof(dir_metrics) / sizeof(dir_metrics[0]); m++) {
		snprintf(name, sizeof(name), "%s (all circuits of the CPU).", dir_metrics[m].help);
		family(f, dir_metrics[m].cpu_name, dir_metrics[m].type, name);
		for (int c = 0; c < CS_MAX_CPUS; c++) {
			if (!st->cpu[c].enabled)
				continue;
			for (int d = 0; d < 2; d++)
				fprintf(f, "cpushaper_%s{cpu=\"%d\",direction=\"%s\"} %llu\n",
					dir_metrics[m].cpu_name, c, d ? "up" : "down",
					(unsigned long long)dir_field(d ? &st->cpu[c].up : &st->cpu[c].down,
								      dir_metrics[m].field));
		}
	}
	cpu_series(f, st, "cpu_steered_packets_total", "Packets XDP sent to the CPU.",
		   offsetof(struct cpu_stats, xdp_packets));
	cpu_series(f, st, "cpu_cpumap_drops_total",
		   "Packets sent to the CPU that never arrived (cpumap ring full).",
		   offsetof(struct cpu_stats, cpumap_drops));
	cpu_series(f, st, "cpu_tc_meta_packets_total",
		   "Packets TC classified into the CPU's HTBs from XDP's metadata, without a lookup.",
		   offsetof(struct cpu_stats, tc_meta_packets));
	family(f, "unclassified_packets_total", "counter",
	       "Packets of no circuit, put in the default class by TC, by the CPU that saw them and reason (counted once; never dropped).");
	for (int c = 0; c < CS_MAX_CPUS; c++) {
		const struct cs_misc_counters *m = &st->cpu[c].misc;

		if (!st->cpu[c].enabled && !m->unknown && !m->non_ip && !m->truncated)
			continue;
		fprintf(f, "cpushaper_unclassified_packets_total{cpu=\"%d\",reason=\"unknown_address\"} %llu\n"
			   "cpushaper_unclassified_packets_total{cpu=\"%d\",reason=\"not_ip\"} %llu\n"
			   "cpushaper_unclassified_packets_total{cpu=\"%d\",reason=\"truncated\"} %llu\n",
			c, (unsigned long long)m->unknown, c, (unsigned long long)m->non_ip, c,
			(unsigned long long)m->truncated);
	}

	if (!circuits)
		return; /* --no-circuit-series: a big shaper's scrape stays small */
	family(f, "circuit_info", "gauge", "1 per circuit: its name, CPU and parent node (\"\": none).");
	for (size_t i = 0; i < have->n; i++)
		info(f, "circuit", have->v[i].id, have->v[i].name, have->v[i].cpu, parent_of(s, &have->v[i]));
	for (size_t m = 0; m < sizeof(dir_metrics) / sizeof(dir_metrics[0]); m++) {
		snprintf(name, sizeof(name), "%s class of the circuit.", dir_metrics[m].help);
		family(f, dir_metrics[m].circuit_name, dir_metrics[m].type, name);
		for (size_t i = 0; i < have->n; i++)
			for (int d = 0; d < 2; d++)
				sample(f, dir_metrics[m].circuit_name, "circuit", have->v[i].id, d,
				       dir_field(d ? &st->up[i] : &st->down[i], dir_metrics[m].field));
	}
	family(f, "circuit_max_bits_per_second", "gauge", "The circuit's plan: Max (HTB ceil).");
	for (size_t i = 0; i < have->n; i++)
		for (int d = 0; d < 2; d++)
			sample(f, "circuit_max_bits_per_second", "circuit", have->v[i].id, d,
			       d ? have->v[i].up_max : have->v[i].down_max);
}

/* One histogram of cumulative buckets @b (CS_RTT_TOTALS), every @step-th bound from @first; @labels not empty. */
static void rtt_hist(FILE *f, const char *name, const char *labels, const __u64 *b, uint64_t sum_us,
		     uint32_t first, uint32_t step)
{
	uint64_t below = 0, all = 0;
	uint32_t c = 0;

	for (uint32_t i = 0; i < CS_RTT_TOTALS; i++)
		all += b[i];
	for (uint32_t bound = first; bound + 1 < CS_RTT_TOTALS; bound += step) {
		for (; c <= bound; c++)
			below += b[c];
		fprintf(f, "cpushaper_%s_bucket{%s,le=\"%.6f\"} %llu\n", name, labels, rtt_total_upper_s(bound),
			(unsigned long long)below);
	}
	fprintf(f, "cpushaper_%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)all);
	fprintf(f, "cpushaper_%s_sum{%s} %.6f\n", name, labels, (double)sum_us / 1e6);
	fprintf(f, "cpushaper_%s_count{%s} %llu\n", name, labels, (unsigned long long)all);
}

/*
 * TCP round trips measured by TC (load --rtt): a histogram per side of every
 * circuit's samples (kept by TC apart from the circuits': it never goes back
 * when circuits go), each circuit's retransmissions, and with @hist a
 * histogram per circuit and side (fewer buckets).
 */
static int write_rtt(FILE *f, const struct cs_state *s, const struct circuit_set *have, bool circuits,
		     bool hist)
{
	static const char *const side[2] = { "subscriber", "internet" };
	struct cs_circuit_rtt *r = NULL;
	struct cs_rtt_total all;
	char lab[64];
	int err;

	if (!(s->cfg.flags & CS_F_RTT))
		return 0;
	if ((err = maps_rtt_total(&s->maps, &all)))
		return err;
	family(f, "rtt_seconds", "histogram",
	       "TCP round trips of every circuit, by side: subscriber (shaper to subscriber and back, the download queue included) or internet (the upload queue included).");
	for (int d = 0; d < 2; d++) {
		snprintf(lab, sizeof(lab), "side=\"%s\"", side[d]);
		rtt_hist(f, "rtt_seconds", lab, all.total[d], all.sum_us[d], 0, 1);
	}
	if (!circuits)
		return 0;
	if ((err = stats_read_rtt(s, have, &r)))
		return err;
	if (hist) {
		family(f, "circuit_rtt_seconds", "histogram", "TCP round trips of the circuit, by side (as rtt_seconds).");
		for (size_t i = 0; i < have->n; i++)
			for (int d = 0; d < 2; d++) {
				char *l = NULL;
				size_t n = 0;
				FILE *m = open_memstream(&l, &n);

				if (!m)
					continue;
				fputs("circuit=\"", m);
				label(m, have->v[i].id);
				fprintf(m, "\",side=\"%s\"", side[d]);
				fclose(m);
				/* 1, 4, 16, 65, 262 ms and 1 s: enough for an alert, small for a big shaper */
				rtt_hist(f, "circuit_rtt_seconds", l, r[i].side[d].total, r[i].side[d].sum_us, 5, 2);
				free(l);
			}
	}
	family(f, "circuit_retransmits_total", "counter",
	       "TCP segments of the circuit that resent data already seen, by direction.");
	for (size_t i = 0; i < have->n; i++)
		for (int d = 0; d < 2; d++)
			sample(f, "circuit_retransmits_total", "circuit", have->v[i].id, d, r[i].retrans[d]);
	free(r);
	return 0;
}

/* The page for one scrape; NULL (and *err) if the kernel could not be read. */
static char *scrape(struct exporter *e, size_t *len, int *err)
{
	struct circuit_set have = { 0 };
	struct cs_stats st = { 0 };
	struct cs_state s;
	char *buf = NULL;
	FILE *f;

	*err = state_open_ex(&s, e->lan, e->wan, STATE_GONE_OK);
	if (!*err && s.loaded && !(*err = maps_read_circuits(&s.maps, &have)) &&
	    !(*err = state_read_nodes(&s))) {
		struct stats_prev p = { &e->last_have, &e->last_st };
		uint64_t t = mono_ns();
		bool same = e->last_st.down && e->last_config == s.config_id && t - e->last_full < stats_full_ns();

		*err = stats_read(&s, &have, same ? &p : NULL, &st);
		if (!same)
			e->last_full = t;
	}
	if (*err)
		goto out;
	f = open_memstream(&buf, len);
	if (!f) {
		*err = -ENOMEM;
		goto out;
	}
	if (s.loaded) {
		write_metrics(f, &s, &have, &st, e->circuit_series);
		if (write_rtt(f, &s, &have, e->circuit_series, e->circuit_series && e->circuit_rtt))
			fprintf(f, "# the round trips could not be read\n");
		write_nodes(f, &s, &st);
		write_damage(f, &s, &st);
	} else
		fprintf(f, "# HELP cpushaper_up 1 when cpushaper is loaded on the device pair.\n"
			   "# TYPE cpushaper_up gauge\ncpushaper_up 0\n");
	write_meta(f, &s);
	if (fclose(f)) {
		free(buf);
		buf = NULL;
		*err = -ENOMEM;
	}
out:
	if (!*err && s.loaded) {
		/* the next scrape's baseline */
		stats_free(&e->last_st);
		circuit_set_free(&e->last_have);
		e->last_st = st;
		e->last_have = have;
		e->last_config = s.config_id;
	} else {
		stats_free(&st);
		circuit_set_free(&have);
	}
	state_close(&s);
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * @body compressed as gzip (a scrape of thousands of circuits shrinks ~10x), or
 * NULL. One deflate state for the exporter's life, reset per page: a quarter
 * MiB allocated and freed every second would only fragment the heap.
 */
static char *gzip_body(struct exporter *e, const char *body, size_t len, size_t *out_len)
{
	uLong cap = compressBound((uLong)len) + 32;
	char *out;

	if (!e->z_ok || deflateReset(&e->z) != Z_OK || !(out = malloc(cap)))
		return NULL;
	e->z.next_in = (Bytef *)body;
	e->z.avail_in = (uInt)len;
	e->z.next_out = (Bytef *)out;
	e->z.avail_out = (uInt)cap;
	if (deflate(&e->z, Z_FINISH) != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*out_len = e->z.total_out;
	return out;
}

static bool wants_gzip(struct MHD_Connection *conn)
{
	const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	return a && strstr(a, "gzip");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct exporter *e = cls;
	size_t len = 0;
	char *body;
	int err;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
			18, (void *)"GET and HEAD only\n", MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret;

		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, text);
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, text, "see /metrics\n", 13,
			     MHD_RESPMEM_PERSISTENT);
	if (!e->page || mono_ns() - e->page_at >= CACHE_NS) {
		struct MHD_Response *r;

		body = scrape(e, &len, &err);
		if (e->page_gz)
			MHD_destroy_response(e->page_gz);
		e->page_gz = NULL;
		if (body) {
			size_t gz_len = 0;
			char *gz = gzip_body(e, body, len, &gz_len);

			if (gz && !(e->page_gz = MHD_create_response_from_buffer(gz_len, gz, MHD_RESPMEM_MUST_FREE)))
				free(gz);
			if (e->page_gz) {
				MHD_add_response_header(e->page_gz, MHD_HTTP_HEADER_CONTENT_TYPE,
							"text/plain; version=0.0.4; charset=utf-8");
				MHD_add_response_header(e->page_gz, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
				MHD_add_response_header(e->page_gz, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
			}
			r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
			e->page_code = MHD_HTTP_OK;
			if (r) {
				MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
							"text/plain; version=0.0.4; charset=utf-8");
				MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
			} else {
				free(body);
			}
		} else {
			char msg[128];
			int n = snprintf(msg, sizeof(msg), "cannot read the kernel state: %s\n",
					 strerror(-err));

			r = MHD_create_response_from_buffer((size_t)n, msg, MHD_RESPMEM_MUST_COPY);
			e->page_code = MHD_HTTP_INTERNAL_SERVER_ERROR;
			if (r)
				MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, text);
		}
		if (!r)
			return MHD_NO;
		if (e->page)
			MHD_destroy_response(e->page); /* connections still sending it keep it */
		e->page = r;
		e->page_at = mono_ns();
	}
	if (e->page_gz && wants_gzip(conn))
		return MHD_queue_response(conn, e->page_code, e->page_gz);
	return MHD_queue_response(conn, e->page_code, e->page);
}

/* libmicrohttpd's messages (one per refused connection under a flood): at most one a minute. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct exporter *e = cls;
	uint64_t now = mono_ns();

	if (e->log_at && now - e->log_at < 60 * CACHE_NS) {
		e->log_quiet++;
		return;
	}
	if (e->log_quiet)
		fprintf(stderr, "cpushaper metrics: (%llu more messages of the server in the last minute)\n",
			(unsigned long long)e->log_quiet);
	e->log_at = now;
	e->log_quiet = 0;
	fputs("cpushaper metrics: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "listen", required_argument, NULL, 'l' },
		{ "circuit-series", no_argument, NULL, 'S' },
		{ "no-circuit-series", no_argument, NULL, 's' },
		{ "circuit-rtt", no_argument, NULL, 'R' },
		{ "no-circuit-rtt", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	const char *listen = DEFAULT_LISTEN;
	struct sockaddr_storage ss = { 0 };
	struct exporter e = { .circuit_series = true };
	struct MHD_Daemon *d;
	sigset_t sigs;
	int opt, sig, err;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		if (cli_common_opt(opt, optarg, &c))
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (opt == 'l') {
			listen = optarg;
			continue;
		}
		if (opt == 'S' || opt == 's') {
			e.circuit_series = opt == 'S';
			continue;
		}
		if (opt == 'R' || opt == 'r') {
			e.circuit_rtt = opt == 'R';
			continue;
		}
		fprintf(stderr, "Try 'cpushaper metrics --help'.\n");
		return EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "cpushaper metrics: takes no arguments; try 'cpushaper metrics --help'\n");
		return EXIT_USAGE;
	}
	if (cli_need_devices(&c, "metrics"))
		return EXIT_USAGE;
	if (config_parse_listen(listen, &ss)) {
		fprintf(stderr, "cpushaper metrics: --listen \"%s\": expected ADDR:PORT, e.g. 127.0.0.1:9630 or [::1]:9630\n",
			listen);
		return EXIT_USAGE;
	}
	e.lan = c.lan;
	e.wan = c.wan;
	e.z_ok = deflateInit2(&e.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	/*
	 * Each second makes a page and its gzip copy of up to megabytes: with a
	 * fixed threshold they are mapped and unmapped whole, instead of glibc
	 * raising the threshold after the first free and the heap keeping them.
	 */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	if ((err = tc_open(&e.sk))) {
		fprintf(stderr, "cpushaper: cannot open rtnetlink: %s\n", strerror(-err));
		return 1;
	}
	/* Signals go to this thread (sigwait), not to the server's. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * Limits against clients that misbehave (docs/failure-modes.md): epoll, so
	 * open connections cost no select() scan and no FD_SETSIZE ceiling; a
	 * total and a per-address cap, so idle or slow clients of one address
	 * cannot take every slot from Prometheus; a timeout that closes a
	 * connection that sends nothing; and a small per-connection memory pool,
	 * which bounds a request line and its headers (longer ones get 414/431).
	 */
	d = MHD_start_daemon(flags, 0, NULL, NULL, handle, &e, MHD_OPTION_SOCK_ADDR, &ss,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)EXPORTER_MAX_CONNS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)EXPORTER_MAX_PER_IP,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)EXPORTER_IDLE_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EXPORTER_CONN_MEM,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)128,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, &e, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "cpushaper metrics: cannot listen on %s\n", listen);
		tc_close(e.sk);
		return 1;
	}
	fprintf(stderr, "cpushaper metrics: serving http://%s/metrics for %s/%s\n", listen, c.lan, c.wan);
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	if (e.page)
		MHD_destroy_response(e.page);
	if (e.page_gz)
		MHD_destroy_response(e.page_gz);
	if (e.z_ok)
		deflateEnd(&e.z);
	stats_free(&e.last_st);
	circuit_set_free(&e.last_have);
	tc_close(e.sk);
	return 0;
}
