/*
 * sarif.c - findings.sarif (sarif.h): SARIF 2.1.0 built as a json-c tree
 * of the located findings only (a manifests repository declares far fewer
 * objects than a cluster has findings), serialised once at the end.
 *
 * The writer owns the manifests index, a cache of the files it read
 * (several findings point into one file) and the results array.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/money.h"
#include "stages/render/gitops/locate.h"
#include "stages/render/gitops/yamledit.h"
#include "stages/render/sarif.h"

/* Where the rules' help lives on the web: the project's home, given at
 * build time (make EXTRA_CFLAGS='-DKP_HOMEPAGE="https://..."'), as a
 * distributor knows it. Without one, informationUri and helpUri are left
 * out (both are optional in SARIF) rather than pointing at an address
 * nobody checked; each rule's help text carries the guidance either way. */
#ifndef KP_HOMEPAGE
#define KP_HOMEPAGE ""
#endif
#define README_URL KP_HOMEPAGE "/blob/main/README.md"

/* One rule per category (docs/contracts/FINDINGS.md "Categories"). The
 * level: a reliability risk is an error, money left on the table a
 * warning, hygiene that costs nothing a note. */
static const struct rule {
	const char *id, *name, *level, *anchor, *short_text, *full_text;
} rules[] = {
	{"over-provisioned", "OverProvisioned", "warning", "#rightsizing-over-provisioned-under-provisioned",
	 "Container requests well above its usage",
	 "A container's CPU or memory requests are well above what it used over the window: the nodes reserve and "
	 "bill capacity nobody uses. The proposed requests follow the observed percentiles plus a margin, never below "
	 "the peak memory."},
	{"under-provisioned", "UnderProvisioned", "error", "#rightsizing-over-provisioned-under-provisioned",
	 "Container uses more than it requests",
	 "A container uses more than it requests, was OOM-killed or throttled: a reliability risk, fixed by raising "
	 "its requests (an extra cost, shown as negative savings)."},
	{"idle-workload", "IdleWorkload", "warning", "#the-waste-catalogue", "Workload idle over the whole window",
	 "A running workload whose pods did close to nothing over the whole window: review it, or scale it down "
	 "(approval-gated)."},
	{"zero-replica-workload", "ZeroReplicaWorkload", "warning", "#the-waste-catalogue",
	 "Workload scaled to zero still holding storage or a load balancer",
	 "A workload scaled to zero that still holds persistent volumes or a load balancer, which are billed whether "
	 "or not it runs."},
	{"orphaned-pvc", "OrphanedPVC", "warning", "#orphaned-pvcs-orphaned-pvc", "PersistentVolumeClaim nothing uses",
	 "A PersistentVolumeClaim no pod mounts and no workload template, StatefulSet claim template or CronJob "
	 "references, older than the grace period: its disk is billed for nothing. Deleting it is destructive and "
	 "approval-gated."},
	{"unbound-pv", "UnboundPV", "warning", "#the-waste-catalogue", "PersistentVolume released and still billed",
	 "A PersistentVolume that is Released, Available or Failed and still billed. Deleting it is destructive and "
	 "approval-gated."},
	{"idle-loadbalancer", "IdleLoadBalancer", "warning", "#the-waste-catalogue",
	 "LoadBalancer Service without ready endpoints",
	 "A Service of type LoadBalancer with no ready endpoints: the cloud load balancer is billed and serves "
	 "nothing."},
	{"finished-job", "FinishedJob", "note", "#the-waste-catalogue", "Job finished long ago and never cleaned up",
	 "A Job that completed or failed long ago, not owned by a CronJob, without ttlSecondsAfterFinished: hygiene, "
	 "it costs nothing on the bill."},
	{"underutilized-node", "UnderutilizedNode", "warning", "#the-waste-catalogue",
	 "Node whose pods request far less than it offers",
	 "A node whose pods request far less than it offers, and whose pods fit on the other nodes: removing it saves "
	 "what the machine costs."},
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* The README heading an anchor above points at, for help text that must
 * make sense without a link. */
static const char *section_title(const char *anchor)
{
	if (!strcmp(anchor, "#rightsizing-over-provisioned-under-provisioned"))
		return "Rightsizing (over-provisioned, under-provisioned)";
	if (!strcmp(anchor, "#orphaned-pvcs-orphaned-pvc"))
		return "Orphaned PVCs (orphaned-pvc)";
	return "The waste catalogue";
}

static long rule_index(const char *category)
{
	for (size_t i = 0; category && i < NRULES; i++)
		if (!strcmp(rules[i].id, category))
			return (long)i;
	return -1;
}

typedef struct {
	char *rel, *text; /* relative to the scanned directory */
	size_t len;
	kp_error err; /* status KP_OK: read */
} cached_file;

struct kp_sarif {
	char *repo_dir;
	char *root_uri;	  /* file:///.../ of the repository's root */
	char *prefix;	  /* the checkout's path under the root, "" or "deploy/" */
	kp_manifests *m;
	json_object *header, *results;
	json_object *cq; /* the GitLab code quality issues, one per result */
	cached_file *files;
	size_t nfiles;
	size_t left_out, over_limit;
	const char *currency;
};

/* RFC 3986: everything but unreserved characters and '/' percent-encoded */
static void uri_path(kp_buf *b, const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
			kp_buf_putc(b, (char)c);
		else
			kp_buf_putc(b, '%'), kp_buf_putc(b, hex[c >> 4]), kp_buf_putc(b, hex[c & 15]);
	}
}

/* The repository's root: the nearest directory up from dir (absolute, no
 * trailing slash) that holds .git (a directory, or a worktree's file). */
static void find_root(const char *dir, char **root, char **prefix)
{
	char *d = kp_xstrdup(dir);
	for (;;) {
		char *git = kp_path_join(*d ? d : "/", ".git");
		struct stat sb;
		bool here = stat(git, &sb) == 0;
		free(git);
		if (here)
			break;
		char *slash = strrchr(d, '/');
		if (!slash) { /* none up to / : the checkout is the root */
			free(d);
			d = kp_xstrdup(dir);
			break;
		}
		*slash = '\0';
		if (!*d) {
			free(d);
			d = kp_xstrdup(dir);
			break;
		}
	}
	size_t n = strlen(d);
	*prefix = kp_xasprintf("%s%s", dir[n] ? dir + n + 1 : "", dir[n] ? "/" : "");
	*root = d;
}

kp_status kp_sarif_begin(const char *repo_dir, json_object *header, kp_sarif **out, kp_error *err)
{
	*out = NULL;
	char abs[PATH_MAX];
	struct stat sb;
	if (!repo_dir || stat(repo_dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || !realpath(repo_dir, abs))
		return kp_fail(err, KP_ERR_USAGE, "pr.repo %s: not a directory (findings.sarif points into a checkout of "
				   "the manifests)", repo_dir ? repo_dir : "(none)");
	kp_sarif *s = kp_xcalloc(1, sizeof(*s));
	s->repo_dir = kp_xstrdup(abs);
	kp_status st = kp_manifests_scan(s->repo_dir, &s->m, err);
	if (st) {
		free(s->repo_dir);
		free(s);
		return st;
	}
	char *root = NULL;
	find_root(s->repo_dir, &root, &s->prefix);
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "file://");
	uri_path(&b, root);
	if (b.len && b.data[b.len - 1] != '/')
		kp_buf_putc(&b, '/');
	s->root_uri = kp_buf_detach(&b);
	free(root);
	s->header = json_object_get(header);
	s->results = json_object_new_array();
	s->cq = json_object_new_array();
	s->currency = kp_json_str(header, "prices.currency") ? kp_json_str(header, "prices.currency") : "USD";
	*out = s;
	return KP_OK;
}

static const cached_file *file_of(kp_sarif *s, const char *rel)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].rel, rel))
			return &s->files[i];
	s->files = kp_xrealloc(s->files, (s->nfiles + 1) * sizeof(*s->files));
	cached_file *f = &s->files[s->nfiles++];
	memset(f, 0, sizeof(*f));
	f->rel = kp_xstrdup(rel);
	char *path = kp_path_join(s->repo_dir, rel);
	kp_read_file(path, &f->text, &f->len, &f->err);
	free(path);
	return f;
}

/* lines first..last (from 1) of text, joined by "\n", without the last
 * one's line ending (CRLF read as LF) */
static char *line_text(const cached_file *f, size_t first, size_t last)
{
	const char *p = f->text, *end = f->text + f->len;
	for (size_t l = 1; l < first && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	kp_buf b;
	kp_buf_init(&b);
	for (size_t l = first; l <= last && p < end; l++) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *next = e ? e + 1 : end;
		if (!e)
			e = end;
		if (e > p && e[-1] == '\r')
			e--;
		if (l > first)
			kp_buf_putc(&b, '\n');
		kp_buf_add(&b, p, (size_t)(e - p));
		p = next;
	}
	char *r = kp_buf_detach(&b);
	return r ? r : kp_xstrdup("");
}

static void add_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

/* Where the finding is: file (relative to the scanned directory), line,
 * and a note for the message when the place is not the only one involved.
 * false: no place, or *read_err set: the chosen file could not be read. */
static bool place_of(kp_sarif *s, json_object *f, const char **file, size_t *line, size_t *end_line, kp_buf *note,
		     const kp_error **read_err)
{
	*read_err = NULL;
	json_object *r = json_object_object_get(f, "resource");
	const char *kind = kp_json_str(r, "kind"), *ns = kp_json_str(r, "namespace"), *name = kp_json_str(r, "name");
	const char *cont = kp_json_str(f, "container");
	if (!kind || !name || (kp_json_str(r, "managed_by.kind") && cont))
		return false; /* an operator writes the workload: its manifest is not where the change goes */
	kp_manifest_query q = {kind, ns ? ns : "", name, cont, kp_json_str(r, "gitops.argocd_app"),
			       kp_json_str(r, "gitops.flux_kustomization"), kp_json_str(r, "gitops.helm_release")};
	kp_manifest_loc loc;
	char *why = NULL;
	if (!kp_manifests_locate(s->m, &q, &loc, &why)) {
		free(why);
		return false;
	}
	*file = loc.file;
	if (loc.mode == KP_LOC_MARKED) {
		*line = *end_line = loc.at_line; /* the resources key under the marker */
		return true;
	}
	const cached_file *cf = file_of(s, loc.file);
	if (cf->err.status) {
		*read_err = &cf->err;
		return false;
	}
	const char *what = NULL;
	kp_error e = {0};
	if (kp_yaml_object_line(loc.file, cf->text, cf->len, loc.doc, cont, line, end_line, &what, &e))
		return false;
	if (loc.mode == KP_LOC_ADD_PATCH)
		kp_buf_printf(note, " It is declared in a base other overlays share: the change belongs in a patch in %s.",
			      loc.kust_file);
	return true;
}

kp_status kp_sarif_add(kp_sarif *s, json_object *f, kp_error *err)
{
	long ri = rule_index(kp_json_str(f, "category"));
	const char *file = NULL;
	size_t line = 0, end_line = 0;
	const kp_error *read_err = NULL;
	kp_buf note;
	kp_buf_init(&note);
	if (ri < 0 || !kp_json_str(f, "id") || !place_of(s, f, &file, &line, &end_line, &note, &read_err)) {
		kp_buf_release(&note);
		if (read_err) {
			*err = *read_err;
			return read_err->status;
		}
		s->left_out++;
		return KP_OK;
	}
	if (json_object_array_length(s->results) >= KP_SARIF_MAX_RESULTS) {
		s->left_out++, s->over_limit++;
		kp_buf_release(&note);
		return KP_OK;
	}
	const struct rule *rl = &rules[ri];
	json_object *r = json_object_object_get(f, "resource");
	const char *kind = kp_json_str(r, "kind"), *ns = kp_json_str(r, "namespace"), *name = kp_json_str(r, "name");
	const char *cont = kp_json_str(f, "container"), *risk = kp_json_str(f, "risk");
	const char *conf = kp_json_str(f, "confidence"), *action = kp_json_str(f, "action.type");
	double save = json_object_get_double(json_object_object_get(f, "monthly_savings"));
	double cost = json_object_get_double(json_object_object_get(f, "monthly_cost"));
	bool blocked = json_object_get_boolean(kp_json_get(f, "action.blocked"));
	/* blocked (review only) and low-confidence findings are notes: shown,
	 * never what fails a check */
	const char *level = blocked || (conf && !strcmp(conf, "low")) ? "note" : rl->level;
	char m[64], c[64];
	kp_money_format(save, s->currency, m, sizeof(m));
	kp_money_format(cost, s->currency, c, sizeof(c));
	kp_buf msg;
	kp_buf_init(&msg);
	kp_buf_printf(&msg, "%s %s%s%s%s%s: %s. %s %s/month (cost today %s/month); action: %s, risk %s, confidence %s%s.",
		      kind, ns ? ns : "", ns ? "/" : "", name, cont ? ", container " : "", cont ? cont : "", rl->id,
		      save < 0 ? "Costs" : "Saves", save < 0 ? m + 1 : m, c, action ? action : "review",
		      risk ? risk : "?", conf ? conf : "?", blocked ? ", blocked (protected namespace: review only)" : "");
	const char *expl = kp_json_str(f, "explanation");
	if (expl && *expl)
		kp_buf_printf(&msg, " %s", expl);
	kp_buf_puts(&msg, kp_buf_cstr(&note));
	json_object *res = json_object_new_object();
	add_str(res, "ruleId", rl->id);
	json_object_object_add(res, "ruleIndex", json_object_new_int64(ri));
	add_str(res, "level", level);
	json_object *mo = json_object_new_object();
	add_str(mo, "text", kp_buf_cstr(&msg));
	json_object_object_add(res, "message", mo);
	kp_buf uri;
	kp_buf_init(&uri);
	uri_path(&uri, s->prefix);
	uri_path(&uri, file);
	json_object *art = json_object_new_object(), *region = json_object_new_object(), *phys = json_object_new_object(),
		    *loc = json_object_new_object(), *locs = json_object_new_array();
	add_str(art, "uri", kp_buf_cstr(&uri));
	add_str(art, "uriBaseId", "%SRCROOT%");
	json_object_object_add(region, "startLine", json_object_new_int64((int64_t)line));
	if (end_line > line)
		json_object_object_add(region, "endLine", json_object_new_int64((int64_t)end_line));
	const cached_file *cf = file_of(s, file); /* read by place_of */
	if (!cf->err.status) {
		char *lt = line_text(cf, line, end_line > line ? end_line : line);
		json_object *snip = json_object_new_object();
		add_str(snip, "text", lt);
		json_object_object_add(region, "snippet", snip);
		free(lt);
	}
	json_object_object_add(phys, "artifactLocation", art);
	json_object_object_add(phys, "region", region);
	json_object_object_add(loc, "physicalLocation", phys);
	json_object_array_add(locs, loc);
	json_object_object_add(res, "locations", locs);
	/* the finding id: a hash of category, resource and container, the
	 * same every night, wherever the line moves */
	json_object *fp = json_object_new_object();
	add_str(fp, "kopilotFindingId/v1", kp_json_str(f, "id"));
	json_object_object_add(res, "partialFingerprints", fp);
	json_object *props = json_object_new_object();
	add_str(props, "finding_id", kp_json_str(f, "id"));
	add_str(props, "category", rl->id);
	json_object_object_add(props, "monthly_savings", json_object_get(json_object_object_get(f, "monthly_savings")));
	json_object_object_add(props, "monthly_cost", json_object_get(json_object_object_get(f, "monthly_cost")));
	add_str(props, "currency", s->currency);
	json_object_object_add(props, "namespace", ns ? json_object_new_string(ns) : NULL);
	add_str(props, "kind", kind);
	add_str(props, "name", name);
	if (cont)
		add_str(props, "container", cont);
	add_str(props, "risk", risk);
	add_str(props, "confidence", conf);
	add_str(props, "action", action);
	json_object_object_add(props, "blocked", json_object_new_boolean(blocked));
	json_object_object_add(res, "properties", props);
	json_object_array_add(s->results, res);
	/* GitLab: a plain relative path (no percent-encoding), severities of
	 * its own: error major, warning minor, note info */
	json_object *cq = json_object_new_object(), *cloc = json_object_new_object(), *lines = json_object_new_object();
	add_str(cq, "description", kp_buf_cstr(&msg));
	add_str(cq, "check_name", rl->id);
	add_str(cq, "fingerprint", kp_json_str(f, "id"));
	add_str(cq, "severity", !strcmp(level, "error") ? "major" : !strcmp(level, "warning") ? "minor" : "info");
	char *path = kp_xasprintf("%s%s", s->prefix, file);
	add_str(cloc, "path", path);
	free(path);
	json_object_object_add(lines, "begin", json_object_new_int64((int64_t)line));
	json_object_object_add(cloc, "lines", lines);
	json_object_object_add(cq, "location", cloc);
	json_object_array_add(s->cq, cq);
	kp_buf_release(&uri);
	kp_buf_release(&msg);
	kp_buf_release(&note);
	return KP_OK;
}

static void sarif_free(kp_sarif *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i].rel), free(s->files[i].text);
	free(s->files);
	kp_manifests_free(s->m);
	json_object_put(s->header);
	json_object_put(s->results);
	json_object_put(s->cq);
	free(s->repo_dir), free(s->root_uri), free(s->prefix);
	free(s);
}

void kp_sarif_abort(kp_sarif *s) { sarif_free(s); }

kp_status kp_sarif_end(kp_sarif *s, char **text, char **codequality, size_t *results, size_t *left_out, kp_error *err)
{
	(void)err;
	json_object *jrules = json_object_new_array();
	for (size_t i = 0; i < NRULES; i++) {
		json_object *r = json_object_new_object(), *sd = json_object_new_object(), *fd = json_object_new_object(),
			    *dc = json_object_new_object(), *props = json_object_new_object(), *tags = json_object_new_array();
		add_str(r, "id", rules[i].id);
		add_str(r, "name", rules[i].name);
		add_str(sd, "text", rules[i].short_text);
		add_str(fd, "text", rules[i].full_text);
		json_object_object_add(r, "shortDescription", sd);
		json_object_object_add(r, "fullDescription", fd);
		if (KP_HOMEPAGE[0]) {
			char *help = kp_xasprintf("%s%s", README_URL, rules[i].anchor);
			add_str(r, "helpUri", help);
			free(help);
		}
		json_object *ht = json_object_new_object();
		char *htext = kp_xasprintf("%s How kopilot makes these findings: its README, \"%s\".", rules[i].full_text,
					   section_title(rules[i].anchor));
		add_str(ht, "text", htext);
		free(htext);
		json_object_object_add(r, "help", ht);
		add_str(dc, "level", rules[i].level);
		json_object_object_add(r, "defaultConfiguration", dc);
		json_object_array_add(tags, json_object_new_string("cost"));
		json_object_array_add(tags, json_object_new_string("kubernetes"));
		json_object_object_add(props, "tags", tags);
		json_object_object_add(r, "properties", props);
		json_object_array_add(jrules, r);
	}
	json_object *driver = json_object_new_object(), *tool = json_object_new_object(), *run = json_object_new_object();
	add_str(driver, "name", "kopilot");
	add_str(driver, "version", KP_VERSION);
	add_str(driver, "semanticVersion", KP_VERSION);
	if (KP_HOMEPAGE[0])
		add_str(driver, "informationUri", KP_HOMEPAGE);
	json_object_object_add(driver, "rules", jrules);
	json_object_object_add(tool, "driver", driver);
	json_object_object_add(run, "tool", tool);
	/* one analysis per cluster in code scanning: a second cluster's upload
	 * does not close the first one's alerts */
	json_object *auto_id = json_object_new_object();
	const char *cluster = kp_json_str(s->header, "cluster.name");
	char *id = kp_xasprintf("kopilot/%s/", cluster ? cluster : "cluster");
	add_str(auto_id, "id", id);
	free(id);
	json_object_object_add(run, "automationDetails", auto_id);
	json_object *bases = json_object_new_object(), *src = json_object_new_object();
	add_str(src, "uri", s->root_uri);
	json_object_object_add(bases, "%SRCROOT%", src);
	json_object_object_add(run, "originalUriBaseIds", bases);
	size_t n = json_object_array_length(s->results);
	json_object_object_add(run, "results", json_object_get(s->results));
	json_object *props = json_object_new_object();
	json_object_object_add(props, "findings", json_object_new_int64((int64_t)(n + s->left_out)));
	json_object_object_add(props, "left_out", json_object_new_int64((int64_t)s->left_out));
	json_object_object_add(props, "left_out_over_limit", json_object_new_int64((int64_t)s->over_limit));
	add_str(props, "generated_at", kp_json_str(s->header, "generated_at"));
	json_object_object_add(run, "properties", props);
	json_object *doc = json_object_new_object(), *runs = json_object_new_array();
	add_str(doc, "$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json");
	add_str(doc, "version", "2.1.0");
	json_object_array_add(runs, run);
	json_object_object_add(doc, "runs", runs);
	const char *t = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, t);
	kp_buf_putc(&b, '\n');
	*text = kp_buf_detach(&b);
	*results = n;
	*left_out = s->left_out;
	if (codequality) {
		kp_buf q;
		kp_buf_init(&q);
		kp_buf_puts(&q, json_object_to_json_string_ext(s->cq, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
									     JSON_C_TO_STRING_NOSLASHESCAPE));
		kp_buf_putc(&q, '\n');
		*codequality = kp_buf_detach(&q);
	}
	json_object_put(doc);
	sarif_free(s);
	return KP_OK;
}
