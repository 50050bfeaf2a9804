/*
 * locate.c - see locate.h.
 */
#include "stages/render/gitops/locate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stages/render/gitops/yamledit.h"

typedef struct {
	char *rel;
	kp_yaml_object *objs;
	size_t nobjs;
	bool rendered; /* by a kustomization: its namespace is the kustomization's */
	bool is_patch; /* a kustomization's patch: not an object of its own */
} mfile;

#define MAX_CHAIN 16

/* a kustomization's patch of one object */
typedef struct {
	size_t k;	   /* the kustomization */
	long file;	   /* the patch file, -1: inline */
	int doc;
	const kp_yaml_object *obj; /* NULL for a JSON 6902 patch */
	char kind[64], name[254];
	bool json6902, touches; /* touches: a JSON 6902 or inline patch naming resources */
} pentry;

/* "# kopilot: resources KIND NAMESPACE/NAME CONTAINER" */
typedef struct {
	char *file;
	size_t line; /* of the resources key, from 1 */
	char kind[64], ns[64], name[254], container[254];
} marker;

typedef struct {
	char *dir; /* relative, "" for the root */
	char *path;
	kp_yaml_kustomization k;
	bool referenced; /* a base of another */
} kust;

typedef struct {
	const char *kind, *name; /* the file's */
	char *ns;
	size_t file;
	int doc;
	size_t line;
	char *how;
	int chain[MAX_CHAIN]; /* the kustomizations that render it, outermost first */
	int nchain;
} entry;

struct kp_manifests {
	mfile *files;
	size_t nfiles;
	kust *ks;
	size_t nks;
	entry *e;
	size_t ne;
	pentry *p;
	size_t np;
	marker *mk;
	size_t nmk;
	kp_manifests_stats st;
	char *first_unreadable;
};

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static bool is_kustomization(const char *name)
{
	return !strcmp(name, "kustomization.yaml") || !strcmp(name, "kustomization.yml") ||
	       !strcmp(name, "Kustomization");
}

/* "a/b/../c/./d" -> "a/c/d"; NULL when it climbs out of the root */
static char *normalize(const char *dir, const char *rel)
{
	char *all = *dir ? kp_xasprintf("%s/%s", dir, rel) : kp_xstrdup(rel);
	char **parts = kp_xcalloc(strlen(all) + 1, sizeof(char *));
	size_t n = 0;
	bool out = false;
	for (char *save = NULL, *t = strtok_r(all, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, ".") || !*t)
			continue;
		if (!strcmp(t, "..")) {
			if (!n)
				out = true;
			else
				n--;
			continue;
		}
		parts[n++] = t;
	}
	kp_buf b;
	kp_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		kp_buf_printf(&b, "%s%s", i ? "/" : "", parts[i]);
	char *r = out ? NULL : kp_buf_detach(&b);
	if (out)
		kp_buf_release(&b);
	if (!r && !out)
		r = kp_xstrdup("");
	free(parts);
	free(all);
	return r;
}

static void unreadable(kp_manifests *m, const char *why)
{
	m->st.unreadable++;
	if (!m->first_unreadable)
		m->first_unreadable = kp_xstrdup(why);
}

/* marker comments: on a comment line "kopilot: resources KIND NS/NAME
 * CONTAINER", for the resources key on the next line */
static void scan_markers(kp_manifests *m, const char *rel, const char *text, size_t n)
{
	size_t line = 1;
	for (const char *p = text, *end = text + n; p < end; line++) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(end - p);
		const char *q = p;
		while (q < p + len && (*q == ' ' || *q == '\t'))
			q++;
		static const char tag[] = "# kopilot: resources ";
		if ((size_t)(p + len - q) > sizeof(tag) - 1 && !memcmp(q, tag, sizeof(tag) - 1)) {
			char buf[768], kind[64], nsname[320], cont[254];
			snprintf(buf, sizeof(buf), "%.*s", (int)(p + len - q - (sizeof(tag) - 1)), q + sizeof(tag) - 1);
			char *slash;
			if (sscanf(buf, "%63s %319s %253s", kind, nsname, cont) == 3 && (slash = strchr(nsname, '/')) != NULL) {
				*slash = '\0';
				m->mk = kp_xrealloc(m->mk, (m->nmk + 1) * sizeof(marker));
				marker *k = &m->mk[m->nmk++];
				memset(k, 0, sizeof(*k));
				k->file = kp_xstrdup(rel);
				k->line = line + 1;
				snprintf(k->kind, sizeof(k->kind), "%s", kind);
				snprintf(k->ns, sizeof(k->ns), "%s", nsname);
				snprintf(k->name, sizeof(k->name), "%s", slash + 1);
				snprintf(k->container, sizeof(k->container), "%s", cont);
			}
		}
		p += len + 1;
	}
}

static kp_status walk(kp_manifests *m, const char *root, const char *rel, int depth, kp_error *err)
{
	char *dirpath = *rel ? kp_path_join(root, rel) : kp_xstrdup(root);
	DIR *d = opendir(dirpath);
	if (!d) {
		kp_status s = depth ? KP_OK : kp_fail(err, KP_ERR_INPUT, "%s: cannot read the directory", dirpath);
		free(dirpath);
		return s;
	}
	kp_status s = KP_OK;
	struct dirent *de;
	while (!s && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ., .., .git, hidden */
		char *r = *rel ? kp_xasprintf("%s/%s", rel, de->d_name) : kp_xstrdup(de->d_name);
		char *full = kp_path_join(root, r);
		struct stat sb;
		if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode) && depth < 32) {
			s = walk(m, root, r, depth + 1, err);
		} else if (lstat(full, &sb) == 0 && S_ISREG(sb.st_mode) &&
			   (has_suffix(de->d_name, ".yaml") || has_suffix(de->d_name, ".yml") ||
			    !strcmp(de->d_name, "Kustomization"))) {
			char *text = NULL;
			size_t n = 0;
			kp_error e = {0};
			if (kp_read_file(full, &text, &n, &e)) {
				unreadable(m, e.msg);
			} else if (is_kustomization(de->d_name)) {
				kust k = {0};
				if (kp_yaml_kustomization_read(r, text, n, &k.k, &e)) {
					unreadable(m, e.msg);
				} else {
					k.dir = kp_xstrdup(rel);
					k.path = kp_xstrdup(r);
					m->ks = kp_xrealloc(m->ks, (m->nks + 1) * sizeof(kust));
					m->ks[m->nks++] = k;
				}
			} else {
				mfile f = {0};
				bool templ = false;
				m->st.files++;
				scan_markers(m, r, text, n);
				if (kp_yaml_objects(r, text, n, &f.objs, &f.nobjs, &templ, &e)) {
					unreadable(m, e.msg);
				} else if (templ) {
					m->st.templates++;
				} else {
					f.rel = kp_xstrdup(r);
					m->st.objects += f.nobjs;
					m->files = kp_xrealloc(m->files, (m->nfiles + 1) * sizeof(mfile));
					m->files[m->nfiles++] = f;
					f.objs = NULL;
				}
				free(f.objs);
			}
			free(text);
		}
		free(full);
		free(r);
	}
	closedir(d);
	free(dirpath);
	return s;
}

static void add_entry(kp_manifests *m, size_t fi, const kp_yaml_object *o, const char *ns, char *how,
		      const int *chain, int nchain)
{
	m->e = kp_xrealloc(m->e, (m->ne + 1) * sizeof(entry));
	entry *e = &m->e[m->ne++];
	memset(e, 0, sizeof(*e));
	*e = (entry){o->kind, o->name, kp_xstrdup(ns), fi, o->doc, o->line, how, {0}, 0};
	for (int i = 0; i < nchain && i < MAX_CHAIN; i++)
		e->chain[e->nchain++] = chain[i];
}

static long find_file(const kp_manifests *m, const char *rel)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (!strcmp(m->files[i].rel, rel))
			return (long)i;
	return -1;
}

static long find_kust(const kp_manifests *m, const char *dir)
{
	for (size_t i = 0; i < m->nks; i++)
		if (!strcmp(m->ks[i].dir, dir))
			return (long)i;
	return -1;
}

/* what kustomization ki renders, with the namespace an outer one gave
 * (outer wins, as kustomize's namespace transformer runs last) */
static void render(kp_manifests *m, size_t ki, const char *outer_ns, const char *outer_from, int *chain, int depth)
{
	const kust *k = &m->ks[ki];
	chain[depth] = (int)ki;
	const char *ns = outer_ns ? outer_ns : k->k.ns;
	const char *from = outer_ns ? outer_from : k->path;
	for (size_t i = 0; i < k->k.nresources && depth + 1 < MAX_CHAIN; i++) {
		const char *r = k->k.resources[i];
		if (strstr(r, "://") || !strncmp(r, "github.com/", 11))
			continue; /* a remote base: not in this repository */
		char *p = normalize(k->dir, r);
		if (!p)
			continue;
		long fi = find_file(m, p), bi = find_kust(m, p);
		if (fi >= 0) {
			mfile *f = &m->files[fi];
			f->rendered = true;
			for (size_t o = 0; o < f->nobjs; o++)
				add_entry(m, (size_t)fi, &f->objs[o], ns ? ns : f->objs[o].ns,
					  ns ? kp_xasprintf("namespace %s from %s", ns, from)
					     : kp_xstrdup("namespace from the document"),
					  chain, depth + 1);
		} else if (bi >= 0) {
			render(m, (size_t)bi, ns, from, chain, depth + 1);
		}
		free(p);
	}
}

static void add_patch(kp_manifests *m, pentry p)
{
	m->p = kp_xrealloc(m->p, (m->np + 1) * sizeof(pentry));
	m->p[m->np++] = p;
}

/* every kustomization's patches, by the object they patch; their files are
 * patches, not objects */
static void index_patches(kp_manifests *m, const char *root)
{
	for (size_t ki = 0; ki < m->nks; ki++) {
		const kust *k = &m->ks[ki];
		for (size_t i = 0; i < k->k.npatches; i++) {
			const kp_yaml_kpatch *kp = &k->k.patches[i];
			pentry base = {ki, -1, 0, NULL, "", "", kp->json6902, false};
			snprintf(base.kind, sizeof(base.kind), "%s", kp->target_kind);
			snprintf(base.name, sizeof(base.name), "%s", kp->target_name);
			char *text = NULL;
			size_t n = 0;
			long fi = -1;
			if (kp->path) {
				char *rel = normalize(k->dir, kp->path);
				fi = rel ? find_file(m, rel) : -1;
				if (fi >= 0)
					m->files[fi].is_patch = true;
				char *full = rel ? kp_path_join(root, rel) : NULL;
				kp_error e = {0};
				if (full && kp_read_file(full, &text, &n, &e))
					text = NULL;
				free(full), free(rel);
			} else {
				text = kp_xstrdup(kp->text);
			}
			bool resources = text && strstr(text, "resources");
			if (fi >= 0 && m->files[fi].nobjs && !kp->json6902) {
				/* strategic merge patches in a file: each object */
				for (size_t o = 0; o < m->files[fi].nobjs; o++) {
					pentry p = base;
					p.file = fi;
					p.obj = &m->files[fi].objs[o];
					p.doc = p.obj->doc;
					snprintf(p.kind, sizeof(p.kind), "%s", p.obj->kind);
					snprintf(p.name, sizeof(p.name), "%s", p.obj->name);
					add_patch(m, p);
				}
			} else if (!kp->path && !kp->json6902 && text) {
				/* an inline strategic merge patch: what it names */
				kp_yaml_object *objs = NULL;
				size_t no = 0;
				bool templ = false;
				kp_error e = {0};
				if (kp_yaml_objects(k->path, text, strlen(text), &objs, &no, &templ, &e) == KP_OK)
					for (size_t o = 0; o < no; o++) {
						pentry p = base;
						snprintf(p.kind, sizeof(p.kind), "%s", objs[o].kind);
						snprintf(p.name, sizeof(p.name), "%s", objs[o].name);
						p.touches = strlen(objs[o].res_containers) > 0;
						add_patch(m, p);
					}
				free(objs);
			} else {
				/* operations (JSON 6902), on the target it names */
				base.json6902 = true;
				base.file = fi;
				base.touches = resources;
				add_patch(m, base);
			}
			free(text);
		}
	}
}

kp_status kp_manifests_scan(const char *root, kp_manifests **out, kp_error *err)
{
	kp_manifests *m = kp_xcalloc(1, sizeof(*m));
	kp_status s = walk(m, root, "", 0, err);
	if (s) {
		kp_manifests_free(m);
		*out = NULL;
		return s;
	}
	/* which kustomizations are bases of others */
	for (size_t i = 0; i < m->nks; i++)
		for (size_t r = 0; r < m->ks[i].k.nresources; r++) {
			char *p = normalize(m->ks[i].dir, m->ks[i].k.resources[r]);
			long bi = p ? find_kust(m, p) : -1;
			if (bi >= 0 && (size_t)bi != i)
				m->ks[bi].referenced = true;
			free(p);
		}
	index_patches(m, root);
	int chain[MAX_CHAIN];
	for (size_t i = 0; i < m->nks; i++)
		if (!m->ks[i].referenced)
			render(m, i, NULL, NULL, chain, 0);
	for (size_t fi = 0; fi < m->nfiles; fi++)
		if (!m->files[fi].rendered && !m->files[fi].is_patch)
			for (size_t o = 0; o < m->files[fi].nobjs; o++)
				add_entry(m, fi, &m->files[fi].objs[o], m->files[fi].objs[o].ns,
					  kp_xstrdup("namespace from the document"), NULL, 0);
	m->st.first_unreadable = m->first_unreadable;
	*out = m;
	return KP_OK;
}

void kp_manifests_free(kp_manifests *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ne; i++)
		free(m->e[i].ns), free(m->e[i].how);
	free(m->e);
	free(m->p);
	for (size_t i = 0; i < m->nmk; i++)
		free(m->mk[i].file);
	free(m->mk);
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].rel), free(m->files[i].objs);
	free(m->files);
	for (size_t i = 0; i < m->nks; i++) {
		kp_yaml_kustomization_free(&m->ks[i].k);
		free(m->ks[i].dir), free(m->ks[i].path);
	}
	free(m->ks);
	free(m->first_unreadable);
	free(m);
}

kp_manifests_stats kp_manifests_get_stats(const kp_manifests *m) { return m->st; }

/* The path a GitOps object applies, and the namespace it gives: the Flux
 * Kustomization "ns/name", or the Argo CD Application "name", declared in
 * the repository. *override: Flux's targetNamespace (every object);
 * *dflt: Argo's destination namespace (objects that name none). */
static bool gitops_path(const kp_manifests *m, const kp_manifest_query *q, char **prefix, const char **override,
			const char **dflt, kp_buf *note)
{
	*prefix = NULL, *override = *dflt = NULL;
	const char *want_ns = NULL, *want_name = NULL, *kind = NULL, *api = NULL;
	char fns[254] = "";
	if (q->flux_kustomization && *q->flux_kustomization) {
		const char *sl = strchr(q->flux_kustomization, '/');
		snprintf(fns, sizeof(fns), "%.*s", sl ? (int)(sl - q->flux_kustomization) : 0, q->flux_kustomization);
		want_ns = fns, want_name = sl ? sl + 1 : q->flux_kustomization;
		kind = "Kustomization", api = "kustomize.toolkit.fluxcd.io/";
	} else if (q->argocd_app && *q->argocd_app) {
		want_name = q->argocd_app, kind = "Application", api = "argoproj.io/";
	} else {
		return false;
	}
	const kp_yaml_object *hit = NULL;
	size_t nhit = 0;
	for (size_t f = 0; f < m->nfiles; f++)
		for (size_t o = 0; o < m->files[f].nobjs; o++) {
			const kp_yaml_object *x = &m->files[f].objs[o];
			if (strcmp(x->kind, kind) || strncmp(x->api_version, api, strlen(api)) || strcmp(x->name, want_name) ||
			    (want_ns && *x->ns && strcmp(x->ns, want_ns)) || !*x->src_path)
				continue;
			if (!hit || strcmp(hit->src_path, x->src_path))
				nhit++;
			hit = x;
		}
	const char *what = !strcmp(kind, "Application") ? "Argo CD Application" : "Flux Kustomization";
	if (nhit != 1) {
		kp_buf_printf(note, " (its %s %s is %s the repository)", what,
			      want_ns ? q->flux_kustomization : want_name, nhit ? "declared with several paths in" : "not in");
		return false;
	}
	char *p = normalize("", hit->src_path);
	if (!p) {
		kp_buf_printf(note, " (its %s's path %s leaves the repository)", what, hit->src_path);
		return false;
	}
	*prefix = p;
	if (*hit->dest_ns && !strcmp(kind, "Kustomization"))
		*override = hit->dest_ns;
	else if (*hit->dest_ns)
		*dflt = hit->dest_ns;
	kp_buf_printf(note, "%s %s applies %s", what, want_ns ? q->flux_kustomization : want_name, *p ? p : ".");
	return true;
}

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return !n || (!strncmp(path, prefix, n) && (path[n] == '/' || !path[n]));
}

/* where an entry is applied from: its outermost kustomization's
 * directory, or its own file */
static const char *applied_from(const kp_manifests *m, const entry *e)
{
	return e->nchain ? m->ks[e->chain[0]].dir : m->files[e->file].rel;
}

static bool has_container(const char *list, const char *c)
{
	char k[300];
	snprintf(k, sizeof(k), ",%s,", c);
	return strstr(list, k) != NULL;
}

static void lower_copy(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] - 'A' + 'a' : src[i]);
	dst[i] = '\0';
}

bool kp_manifests_locate(const kp_manifests *m, const kp_manifest_query *q, kp_manifest_loc *loc, char **why)
{
	*why = NULL;
	memset(loc, 0, sizeof(*loc));
	const char *kind = q->kind, *ns = q->ns, *name = q->name;
	/* 1. a marker says where, whatever else the repository holds */
	const marker *mk = NULL;
	size_t nmk = 0;
	for (size_t i = 0; i < m->nmk; i++) {
		const marker *x = &m->mk[i];
		if (!strcmp(x->kind, kind) && !strcmp(x->ns, ns) && !strcmp(x->name, name) &&
		    (!q->container || !strcmp(x->container, q->container)))
			mk = x, nmk++;
	}
	if (nmk > 1) {
		*why = kp_xasprintf("%s %s/%s: marked for kopilot %zu times: which one is applied is not known", kind, ns,
				    name, nmk);
		return false;
	}
	if (mk) {
		loc->mode = KP_LOC_MARKED;
		loc->file = mk->file;
		loc->line = loc->at_line = mk->line;
		snprintf(loc->how_buf, sizeof(loc->how_buf), "marked for kopilot on line %zu", mk->line - 1);
		loc->how = loc->how_buf;
		return true;
	}
	/* 2. what the GitOps origin says */
	char *prefix = NULL;
	const char *override = NULL, *dflt = NULL;
	kp_buf note;
	kp_buf_init(&note);
	bool hinted = gitops_path(m, q, &prefix, &override, &dflt, &note);
	const entry *hit = NULL, *bare = NULL;
	size_t nhit = 0, nbare = 0, nother = 0;
	kp_buf places;
	kp_buf_init(&places);
#define EFF_NS(e) (override ? override : (!*(e)->ns && dflt ? dflt : (e)->ns))
#define CONSIDERED(e) (!strcmp((e)->kind, kind) && !strcmp((e)->name, name) && (!prefix || under(applied_from(m, e), prefix)))
	for (size_t i = 0; i < m->ne; i++) {
		const entry *e = &m->e[i];
		if (!CONSIDERED(e))
			continue;
		if (!strcmp(EFF_NS(e), ns)) {
			if (!hit || e->file != hit->file || e->doc != hit->doc) {
				kp_buf_printf(&places, "%s%s:%zu", nhit ? ", " : "", m->files[e->file].rel, e->line);
				nhit++;
			}
			if (!hit)
				hit = e;
		} else if (!*EFF_NS(e)) {
			bare = e, nbare++;
		} else {
			nother++;
		}
	}
	bool found = false;
	if (nhit > 1) {
		*why = kp_xasprintf("%s %s/%s is declared in %zu places (%s): which one is applied is not known%s", kind,
				    ns, name, nhit, kp_buf_cstr(&places), kp_buf_cstr(&note));
		goto out;
	}
	if (!hit && nbare == 1 && !nother)
		hit = bare; /* the file names no namespace: applied with -n */
	if (!hit) {
		if (q->helm_release && *q->helm_release)
			*why = kp_xasprintf("%s %s/%s comes from Helm release %s: chart templates are never edited; mark "
					    "its resources in the release's values file with a comment "
					    "\"# kopilot: resources %s %s/%s %s\" on the line above resources:",
					    kind, ns, name, q->helm_release, kind, ns, name,
					    q->container ? q->container : "CONTAINER");
		else
			*why = nbare > 1 || nother
				       ? kp_xasprintf("%s %s/%s: declared only for other namespaces, or several times "
						      "without one%s",
						      kind, ns, name, kp_buf_cstr(&note))
				       : kp_xasprintf("%s %s/%s: not declared in any manifest of the repository (%zu files "
						      "read, %zu template%s not read)%s",
						      kind, ns, name, m->st.files, m->st.templates,
						      m->st.templates == 1 ? "" : "s", kp_buf_cstr(&note));
		goto out;
	}
	loc->mode = KP_LOC_EDIT;
	loc->file = m->files[hit->file].rel;
	loc->doc = hit->doc;
	loc->line = hit->line;
	if (hinted)
		snprintf(loc->how_buf, sizeof(loc->how_buf), "%s; %s", hit == bare ? "the file names no namespace" : hit->how,
			 kp_buf_cstr(&note));
	else
		snprintf(loc->how_buf, sizeof(loc->how_buf), "%s",
			 hit == bare ? "the file names no namespace (applied with -n)" : hit->how);
	loc->how = loc->how_buf;
	/* 3. an overlay's patch on the container's resources, outermost first */
	for (int c = 0; q->container && c < hit->nchain; c++)
		for (size_t i = 0; i < m->np; i++) {
			const pentry *p = &m->p[i];
			if (p->k != (size_t)hit->chain[c] || strcmp(p->name, name) || (*p->kind && strcmp(p->kind, kind)))
				continue;
			const char *kf = m->ks[p->k].path;
			if (p->json6902 && p->touches) {
				*why = kp_xasprintf("%s %s/%s: a JSON 6902 patch in %s changes its resources: not edited (its "
						    "operations address containers by position)",
						    kind, ns, name, kf);
				goto out;
			}
			if (p->file < 0 && p->touches) {
				*why = kp_xasprintf("%s %s/%s: an inline patch in %s sets its resources: not edited", kind,
						    ns, name, kf);
				goto out;
			}
			if (p->obj && has_container(p->obj->res_containers, q->container)) {
				loc->file = m->files[p->file].rel;
				loc->doc = p->doc;
				loc->line = p->obj->line;
				snprintf(loc->how_buf, sizeof(loc->how_buf), "the patch %s:%zu of %s sets them", loc->file,
					 loc->line, kf);
				found = true;
				goto out;
			}
		}
	/* 4. one document; does another namespace, or another overlay, render
	 * it too (a shared base)? */
	const entry *other = NULL;
	size_t roots_here = 0;
	int root_seen[64];
	for (size_t i = 0; i < m->ne; i++) {
		const entry *e = &m->e[i];
		if (e->file != hit->file || e->doc != hit->doc || (prefix && !under(applied_from(m, e), prefix)))
			continue;
		if (strcmp(EFF_NS(e), EFF_NS(hit)) || (e->nchain && hit->nchain && e->chain[0] != hit->chain[0]))
			other = other ? other : e;
		if (!strcmp(EFF_NS(e), EFF_NS(hit)) && e->nchain) {
			bool seen = false;
			for (size_t r = 0; r < roots_here && r < 64; r++)
				seen = seen || root_seen[r] == e->chain[0];
			if (!seen && roots_here < 64)
				root_seen[roots_here++] = e->chain[0];
		}
	}
	if (!other) {
		found = true;
		goto out;
	}
	if (roots_here > 1 || !hit->nchain || !q->container) {
		bool same_ns = !strcmp(EFF_NS(other), EFF_NS(hit));
		*why = kp_xasprintf("%s %s/%s is declared in %s:%zu, which %s%s renders too (a shared kustomize base): "
				    "editing it would change both%s",
				    kind, ns, name, m->files[hit->file].rel, hit->line,
				    same_ns ? "another kustomization of the namespace, " : "namespace ",
				    same_ns && other->nchain ? m->ks[other->chain[0]].path
				    : *EFF_NS(other)	     ? EFF_NS(other)
							     : "(none)",
				    kp_buf_cstr(&note));
		goto out;
	}
	/* 5. a new patch in the overlay that renders this namespace */
	const kust *k = &m->ks[hit->chain[0]];
	char lk[64];
	lower_copy(lk, sizeof(lk), kind);
	char file[300];
	snprintf(file, sizeof(file), "kopilot-%s-%s.yaml", lk, name);
	char *rel = *k->dir ? kp_xasprintf("%s/%s", k->dir, file) : kp_xstrdup(file);
	if (find_file(m, rel) >= 0) {
		*why = kp_xasprintf("%s %s/%s: %s already exists but %s does not list it as a patch: not edited", kind, ns,
				    name, rel, k->path);
		free(rel);
		goto out;
	}
	loc->mode = KP_LOC_ADD_PATCH;
	snprintf(loc->kust_file, sizeof(loc->kust_file), "%s", k->path);
	snprintf(loc->new_file, sizeof(loc->new_file), "%s", rel);
	snprintf(loc->how_buf, sizeof(loc->how_buf), "a new patch in %s: the base %s is shared with %s", k->path,
		 loc->file, strcmp(EFF_NS(other), EFF_NS(hit)) ? EFF_NS(other) : m->ks[other->chain[0]].path);
	loc->how = loc->how_buf;
	free(rel);
	found = true;
out:
#undef EFF_NS
#undef CONSIDERED
	kp_buf_release(&places);
	kp_buf_release(&note);
	free(prefix);
	return found;
}

bool kp_manifests_find(const kp_manifests *m, const char *kind, const char *ns, const char *name, kp_manifest_loc *loc,
		       char **why)
{
	kp_manifest_query q = {kind, ns, name, NULL, NULL, NULL, NULL};
	return kp_manifests_locate(m, &q, loc, why);
}
