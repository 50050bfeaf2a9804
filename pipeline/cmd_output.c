/*
 * cmd_output.c - -o/--output json|yaml|csv: the run's findings.json on
 * stdout for scripts and pipes, and the private run directory a run uses
 * when the caller wants only that (no --out, no --state-dir).
 *
 * json is the file's bytes as written to the run directory; yaml is the
 * same document through libyaml's emitter, strings that YAML would read as
 * another type quoted; csv is one row per finding (columns in
 * docs/contracts/FINDINGS.md, "CSV output").
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "pipeline/cmd.h"

/* ---- YAML ---- */

/* Whether a plain scalar s would load as something other than that
 * string (null, a boolean, a number; YAML 1.1 as PyYAML and libyaml-based
 * readers resolve it, which is wider than 1.2's core schema). */
static bool yaml_ambiguous(const char *s)
{
	static const char *const words[] = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
					    "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on",
					    "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", ".nan", ".NaN",
					    ".NAN", ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "="};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	/* anything that starts like a number (ints, floats, 0x.., 1_000, 12:30 sexagesimals) */
	const char *p = s;
	if (*p == '-' || *p == '+' || *p == '.')
		p++;
	return *p >= '0' && *p <= '9';
}

static int emit_scalar(yaml_emitter_t *e, const char *s, bool plain_ok)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = plain_ok ? YAML_PLAIN_SCALAR_STYLE
				    : yaml_ambiguous(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
							: YAML_ANY_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style))
		return 0;
	return yaml_emitter_emit(e, &ev);
}

static int emit_node(yaml_emitter_t *e, json_object *o)
{
	yaml_event_t ev;
	switch (json_object_get_type(o)) {
	case json_type_null: return emit_scalar(e, "null", true);
	case json_type_boolean: return emit_scalar(e, json_object_get_boolean(o) ? "true" : "false", true);
	case json_type_int:
	case json_type_double: {
		/* json-c's spelling, the one findings.json has; "1e+30" gains a
		 * ".0" so YAML 1.1 readers still see a float */
		const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		const char *ex = strpbrk(t, "eE");
		if (ex && !strchr(t, '.')) {
			char buf[64];
			snprintf(buf, sizeof(buf), "%.*s.0%s", (int)(ex - t), t, ex);
			return emit_scalar(e, buf, true);
		}
		return emit_scalar(e, t, true);
	}
	case json_type_string: return emit_scalar(e, json_object_get_string(o), false);
	case json_type_array: {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return 0;
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!emit_node(e, json_object_array_get_idx(o, i)))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	}
	case json_type_object: {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE) ||
		    !yaml_emitter_emit(e, &ev))
			return 0;
		json_object_object_foreach(o, k, v)
		{
			if (!emit_scalar(e, k, false) || !emit_node(e, v))
				return 0;
		}
		return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
	}
	}
	return 0;
}

static int to_buf(void *data, unsigned char *buffer, size_t size)
{
	kp_buf_add(data, (const char *)buffer, size);
	return 1;
}

kp_status kp_output_yaml(json_object *doc, kp_buf *out, kp_error *err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	if (!yaml_emitter_initialize(&e))
		return kp_fail(err, KP_ERR_NOMEM, "out of memory");
	yaml_emitter_set_output(&e, to_buf, out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1); /* no folding: a line per value, grep-able */
	int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
		 yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
		 emit_node(&e, doc) && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
		 yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
	kp_status s = ok ? KP_OK : kp_fail(err, KP_ERR_INTERNAL, "YAML output: %s", e.problem ? e.problem : "emitter failed");
	yaml_emitter_delete(&e);
	return s;
}

/* ---- CSV ---- */

static const char *const csv_columns[] = {"namespace", "kind",	 "name",		"container",
					  "category",  "monthly_cost", "monthly_savings", "risk",
					  "action",    "approval_required", "blocked",	"id"};

/* RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
static void csv_field(kp_buf *b, const char *s, bool first)
{
	if (!first)
		kp_buf_putc(b, ',');
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		kp_buf_puts(b, s);
		return;
	}
	kp_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			kp_buf_putc(b, '"');
		kp_buf_putc(b, *s);
	}
	kp_buf_putc(b, '"');
}

/* a JSON value as findings.json spells it; NULL for null or absent */
static const char *csv_value(json_object *v)
{
	if (!v)
		return NULL;
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

void kp_output_csv(json_object *doc, kp_buf *out)
{
	static const char *const paths[] = {"resource.namespace", "resource.kind", "resource.name", "container",
					    "category", "monthly_cost", "monthly_savings", "risk", "action.type",
					    "action.approval_required", "action.blocked", "id"};
	for (size_t c = 0; c < sizeof(csv_columns) / sizeof(csv_columns[0]); c++)
		csv_field(out, csv_columns[c], c == 0);
	kp_buf_putc(out, '\n');
	json_object *arr = kp_json_get(doc, "findings");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *f = json_object_array_get_idx(arr, i);
		for (size_t c = 0; c < sizeof(paths) / sizeof(paths[0]); c++)
			csv_field(out, csv_value(kp_json_get(f, paths[c])), c == 0);
		kp_buf_putc(out, '\n');
	}
}

/* ---- stdout ---- */

/* The document into b as o->output says; under a nomem guard (print_call). */
struct print_call {
	kp_opts *o;
	const char *dir;
	json_object *doc;
	kp_buf *b;
};

static kp_status build_document(void *arg, kp_error *err)
{
	struct print_call *c = arg;
	kp_status s = KP_OK;
	if (c->o->output == KP_OUTPUT_JSON || c->o->output == KP_OUTPUT_SARIF) {
		/* the bytes of the file, not a re-serialisation: "exactly as written" */
		char *path = kp_path_join(c->dir, c->o->output == KP_OUTPUT_SARIF ? "findings.sarif" : "findings.json"),
		     *data = NULL;
		size_t len = 0;
		s = kp_read_file(path, &data, &len, err);
		if (!s)
			kp_buf_add(c->b, data, len);
		free(data);
		free(path);
	} else if (c->o->output == KP_OUTPUT_YAML) {
		s = kp_output_yaml(c->doc, c->b, err);
	} else if (c->o->output == KP_OUTPUT_CSV) {
		kp_output_csv(c->doc, c->b);
	}
	return s;
}

int kp_cmd_print_output(const char *cmd, kp_opts *o, const char *dir, json_object *doc)
{
	kp_error err = {0};
	kp_buf b;
	kp_buf_init(&b);
	/* guarded: out of memory here is this command's failure (exit 4) with
	 * the cleanup still done, not an abort past it */
	struct print_call c = {o, dir, doc, &b};
	kp_status s = kp_nomem_guard(build_document, &c, &err);
	int rc = KP_EXIT_OK;
	if (s) {
		kp_cmd_error(cmd, o, "-o: %s", err.msg);
		rc = KP_EXIT_FAILED;
	} else {
		/* `| head`: the reader left. SIGPIPE is held off so the private run
		 * directory is still removed; kp_cmd_output_end then dies of it, as
		 * a pipeline expects. */
		void (*was)(int) = signal(SIGPIPE, SIG_IGN);
		errno = 0;
		if (fwrite(b.data ? b.data : "", 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
			if (errno == EPIPE) {
				o->stdout_closed = true;
			} else {
				kp_cmd_error(cmd, o, "-o: cannot write to stdout: %s", strerror(errno));
				rc = KP_EXIT_FAILED;
			}
		}
		if (!o->stdout_closed)
			signal(SIGPIPE, was);
	}
	kp_buf_release(&b);
	return rc;
}

/* ---- the private run directory ---- */

char *kp_cmd_private_run_dir(const char *cmd, kp_opts *o, char **base)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = kp_path_join(tmp && *tmp ? tmp : "/tmp", "kopilot-run.XXXXXX");
	if (!mkdtemp(tmpl)) {
		kp_cmd_error(cmd, o, "-o: cannot make a temporary run directory under %s: %s", tmp && *tmp ? tmp : "/tmp",
			     strerror(errno));
		free(tmpl);
		*base = NULL;
		return NULL;
	}
	*base = tmpl;
	/* RUN inside it, so its lock and staging directory (beside RUN) are private too */
	return kp_path_join(tmpl, "run");
}

void kp_cmd_output_end(bool stdout_closed)
{
	if (stdout_closed) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
}
