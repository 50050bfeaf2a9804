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
} mfile;

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
} entry;

struct kp_manifests {
	mfile *files;
	size_t nfiles;
	kust *ks;
	size_t nks;
	entry *e;
	size_t ne;
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

static void add_entry(kp_manifests *m, size_t fi, const kp_yaml_object *o, const char *ns, char *how)
{
	m->e = kp_xrealloc(m->e, (m->ne + 1) * sizeof(entry));
	m->e[m->ne++] = (entry){o->kind, o->name, kp_xstrdup(ns), fi, o->doc, o->line, how};
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
static void render(kp_manifests *m, size_t ki, const char *outer_ns, const char *outer_from, int depth)
{
	const kust *k = &m->ks[ki];
	const char *ns = outer_ns ? outer_ns : k->k.ns;
	const char *from = outer_ns ? outer_from : k->path;
	for (size_t i = 0; i < k->k.nresources && depth < 16; i++) {
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
					     : kp_xstrdup("namespace from the document"));
		} else if (bi >= 0) {
			render(m, (size_t)bi, ns, from, depth + 1);
		}
		free(p);
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
	for (size_t i = 0; i < m->nks; i++)
		if (!m->ks[i].referenced)
			render(m, i, NULL, NULL, 0);
	for (size_t fi = 0; fi < m->nfiles; fi++)
		if (!m->files[fi].rendered)
			for (size_t o = 0; o < m->files[fi].nobjs; o++)
				add_entry(m, fi, &m->files[fi].objs[o], m->files[fi].objs[o].ns,
					  kp_xstrdup("namespace from the document"));
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

bool kp_manifests_find(const kp_manifests *m, const char *kind, const char *ns, const char *name, kp_manifest_loc *loc,
		       char **why)
{
	*why = NULL;
	const entry *hit = NULL, *bare = NULL;
	size_t nhit = 0, nbare = 0, nother = 0;
	kp_buf places;
	kp_buf_init(&places);
	for (size_t i = 0; i < m->ne; i++) {
		const entry *e = &m->e[i];
		if (strcmp(e->kind, kind) || strcmp(e->name, name))
			continue;
		if (!strcmp(e->ns, ns)) {
			if (!hit || e->file != hit->file || e->doc != hit->doc) {
				kp_buf_printf(&places, "%s%s:%zu", nhit ? ", " : "", m->files[e->file].rel, e->line);
				nhit++;
			}
			if (!hit)
				hit = e;
		} else if (!*e->ns) {
			bare = e, nbare++;
		} else {
			nother++;
		}
	}
	if (nhit > 1) {
		*why = kp_xasprintf("%s %s/%s is declared in %zu places (%s): which one is applied is not known", kind,
				    ns, name, nhit, kp_buf_cstr(&places));
		kp_buf_release(&places);
		return false;
	}
	kp_buf_release(&places);
	if (!hit && nbare == 1 && !nother)
		hit = bare; /* the file names no namespace: applied with -n */
	if (!hit) {
		*why = nbare > 1 || nother
			       ? kp_xasprintf("%s %s/%s: declared only for other namespaces, or several times without "
					      "one",
					      kind, ns, name)
			       : kp_xasprintf("%s %s/%s: not declared in any manifest of the repository (%zu files read, "
					      "%zu template%s not read)",
					      kind, ns, name, m->st.files, m->st.templates, m->st.templates == 1 ? "" : "s");
		return false;
	}
	/* one document; does another namespace render it too (a base)? */
	for (size_t i = 0; i < m->ne; i++) {
		const entry *e = &m->e[i];
		if (e->file == hit->file && e->doc == hit->doc && strcmp(e->ns, hit->ns)) {
			*why = kp_xasprintf("%s %s/%s is declared in %s:%zu, which namespace %s renders too (a shared "
					    "kustomize base): editing it would change both",
					    kind, ns, name, m->files[hit->file].rel, hit->line, *e->ns ? e->ns : "(none)");
			return false;
		}
	}
	loc->file = m->files[hit->file].rel;
	loc->doc = hit->doc;
	loc->line = hit->line;
	loc->how = hit == bare ? "the file names no namespace (applied with -n)" : hit->how;
	return true;
}
