/*
 * recommend.c - see recommend.h. Every money figure is computed here from
 * the prices in the configuration, and those prices are written into
 * findings.json so any figure can be recomputed by hand.
 */
#include "stages/recommend/recommend.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/findings_json.h"
#include "pipeline/focus.h"
#include "pipeline/money.h"
#include "pipeline/plan.h"
#include "pipeline/prices.h"
#include "pipeline/quantity.h"
#include "pipeline/safety.h"
#include "stages/analyze/agents/explain.h"
#include "stages/recommend/history.h"

/* Quotes a word for a POSIX shell when it holds anything but the characters
 * Kubernetes names use, so a hostile name in a hand-made snapshot cannot
 * turn a proposed command into two commands. */
static void shell_word(kp_buf *b, const char *s)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_' || *p == '/' || *p == '='))
			plain = false;
	if (plain) {
		kp_buf_puts(b, s);
		return;
	}
	kp_buf_putc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			kp_buf_puts(b, "'\\''");
		else
			kp_buf_putc(b, *p);
	}
	kp_buf_putc(b, '\'');
}

/* kubectl takes a kind in lower case as its resource name. */
static void put_kind(kp_buf *b, const char *kind)
{
	for (const char *p = kind; *p; p++)
		kp_buf_putc(b, (char)tolower((unsigned char)*p));
}

/* One quantity of a resize: the new value, or 0 where the recommendation
 * removes what is set today (`kubectl set resources` removes a value set
 * to 0). Returns false when nothing changes. */
static bool resize_value(int64_t cur, int64_t rec, bool cpu, char *q, size_t n)
{
	if (rec == cur || (rec < 0 && cur < 0))
		return false;
	if (rec < 0)
		snprintf(q, n, "0");
	else if (cpu)
		kp_quantity_format_cpu(rec, q, n);
	else
		kp_quantity_format_mem(rec, q, n);
	return true;
}

static char *resize_command(const kp_finding *f)
{
	kp_buf b;
	kp_buf_init(&b);
	char q[32];
	kp_buf_puts(&b, "kubectl -n ");
	shell_word(&b, f->namespace_ ? f->namespace_ : "default");
	kp_buf_puts(&b, " set resources ");
	put_kind(&b, f->kind);
	kp_buf_putc(&b, '/');
	shell_word(&b, f->name);
	if (f->container) {
		kp_buf_puts(&b, " -c ");
		shell_word(&b, f->container);
	}
	const kp_sizes *c = &f->current, *r = &f->recommended;
	const char *sep = " --requests=";
	/* Requests are never removed by a recommendation: only new values. */
	if (r->cpu_request_m >= 0 && resize_value(c->cpu_request_m, r->cpu_request_m, true, q, sizeof(q))) {
		kp_buf_printf(&b, "%scpu=%s", sep, q);
		sep = ",";
	}
	if (r->mem_request_b >= 0 && resize_value(c->mem_request_b, r->mem_request_b, false, q, sizeof(q)))
		kp_buf_printf(&b, "%smemory=%s", sep, q);
	sep = " --limits=";
	if (resize_value(c->cpu_limit_m, r->cpu_limit_m, true, q, sizeof(q))) {
		kp_buf_printf(&b, "%scpu=%s", sep, q);
		sep = ",";
	}
	if (resize_value(c->mem_limit_b, r->mem_limit_b, false, q, sizeof(q)))
		kp_buf_printf(&b, "%smemory=%s", sep, q);
	return kp_buf_detach(&b);
}

static char *delete_command(const kp_finding *f, const char *resource)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "kubectl ");
	if (f->namespace_) {
		kp_buf_puts(&b, "-n ");
		shell_word(&b, f->namespace_);
		kp_buf_putc(&b, ' ');
	}
	kp_buf_printf(&b, "delete %s ", resource);
	shell_word(&b, f->name);
	return kp_buf_detach(&b);
}

/* kubectl [-n NS] VERB kind/name [extra] ; nodes and other cluster-scoped
 * objects get no -n. */
static char *verb_command(const kp_finding *f, const char *verb, const char *extra)
{
	kp_buf b;
	kp_buf_init(&b);
	kp_buf_puts(&b, "kubectl ");
	if (f->namespace_) {
		kp_buf_puts(&b, "-n ");
		shell_word(&b, f->namespace_);
		kp_buf_putc(&b, ' ');
	}
	kp_buf_printf(&b, "%s ", verb);
	if (strcmp(verb, "drain") == 0 || strcmp(verb, "cordon") == 0) {
		shell_word(&b, f->name);
	} else {
		put_kind(&b, f->kind);
		kp_buf_putc(&b, '/');
		shell_word(&b, f->name);
	}
	if (extra)
		kp_buf_printf(&b, " %s", extra);
	return kp_buf_detach(&b);
}

/* A related change as `kubectl patch` with a JSON patch that first tests
 * the value the snapshot saw: if someone changed the field since, the
 * patch fails instead of overwriting their decision. The resource is named
 * kind.version.group, so an autoscaling/v1 HPA field is patched through v1
 * even where kubectl prefers v2. */
static void patch_command(kp_buf *b, const kp_related_change *r)
{
	kp_buf_puts(b, "kubectl ");
	if (r->namespace_) {
		kp_buf_puts(b, "-n ");
		shell_word(b, r->namespace_);
		kp_buf_putc(b, ' ');
	}
	kp_buf_puts(b, "patch ");
	put_kind(b, r->kind);
	const char *slash = strchr(r->api_version, '/');
	if (slash) /* group/version -> .version.group */
		kp_buf_printf(b, ".%s.%.*s", slash + 1, (int)(slash - r->api_version), r->api_version);
	kp_buf_putc(b, ' ');
	shell_word(b, r->name);
	json_object *ops = json_object_new_array();
	for (int i = 0; i < 2; i++) {
		json_object *op = json_object_new_object();
		json_object_object_add(op, "op", json_object_new_string(i ? "replace" : "test"));
		json_object_object_add(op, "path", json_object_new_string(r->path));
		if (r->numeric)
			json_object_object_add(op, "value", json_object_new_int64(i ? r->recommended_n : r->current_n));
		else
			json_object_object_add(op, "value", json_object_new_string(i ? r->recommended_s : r->current_s));
		json_object_array_add(ops, op);
	}
	kp_buf_puts(b, " --type=json -p ");
	shell_word(b, json_object_to_json_string_ext(ops, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(ops);
}

/* The action's commands in the order they must run: related changes that
 * go before, the resource's own command, those that go after; one per
 * line. Takes ownership of main_cmd (NULL: none). */
static char *with_related(const kp_finding *f, char *main_cmd)
{
	if (!f->nrelated)
		return main_cmd;
	kp_buf b;
	kp_buf_init(&b);
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1) {
			if (main_cmd)
				kp_buf_printf(&b, "%s%s", b.len ? "\n" : "", main_cmd);
			continue;
		}
		for (size_t i = 0; i < f->nrelated; i++) {
			if (f->related[i].before != (pass == 0))
				continue;
			if (b.len)
				kp_buf_putc(&b, '\n');
			patch_command(&b, &f->related[i]);
		}
	}
	free(main_cmd);
	return kp_buf_detach(&b);
}

static const kp_evidence *evidence_by_metric(const kp_finding *f, const char *prefix)
{
	for (size_t i = 0; i < f->nevidence; i++)
		if (f->evidence[i].metric && strncmp(f->evidence[i].metric, prefix, strlen(prefix)) == 0)
			return &f->evidence[i];
	return NULL;
}

static void sizes_label(const kp_sizes *s, char *out, size_t n)
{
	char cpu[32] = "no CPU request", mem[32] = "no memory request";
	if (s->cpu_request_m >= 0)
		kp_format_cpu(s->cpu_request_m, cpu, sizeof(cpu));
	if (s->mem_request_b >= 0)
		kp_format_bytes(s->mem_request_b, mem, sizeof(mem));
	snprintf(out, n, "%s CPU / %s memory", cpu, mem);
}

static char *explain(const kp_config *cfg, const kp_finding *f)
{
	kp_buf b;
	kp_buf_init(&b);
	char cur[96], rec[96], m1[32], m2[32], x[32];
	/* namespace/name, as the reports' headings name the resource, so the
	 * same name in two namespaces never reads as one finding */
	char *who_buf = f->namespace_ ? kp_xasprintf("%s/%s", f->namespace_, f->name) : NULL;
	const char *who = who_buf ? who_buf : f->name;
	switch (f->category) {
	case KP_CAT_OVER_PROVISIONED: {
		sizes_label(&f->current, cur, sizeof(cur));
		sizes_label(&f->recommended, rec, sizeof(rec));
		kp_money_format(f->monthly_savings, cfg->prices.currency, m1, sizeof(m1));
		const kp_evidence *cpu = evidence_by_metric(f, "cpu_");
		const kp_evidence *mem = evidence_by_metric(f, "memory_max");
		const kp_evidence *one = evidence_by_metric(f, "memory_sample"); /* metrics-server */
		kp_buf_printf(&b, "%s %s", f->kind, who);
		if (f->container)
			kp_buf_printf(&b, ", container %s,", f->container);
		kp_buf_printf(&b, " reserves %s per pod", cur);
		if (cpu && one) {
			char c1[32], c2[32];
			kp_format_cpu((int64_t)ceil(cpu->value), c1, sizeof(c1));
			kp_format_bytes((int64_t)one->value, c2, sizeof(c2));
			kp_buf_printf(&b, " but used %s CPU and %s memory in the one sample metrics-server gave (no "
					  "history: confidence is low; read usage from Prometheus before acting)",
				      c1, c2);
		} else if (cpu && mem) {
			char c1[32], c2[32];
			kp_format_cpu((int64_t)ceil(cpu->value), c1, sizeof(c1));
			kp_format_bytes((int64_t)mem->value, c2, sizeof(c2));
			kp_buf_printf(&b, " but used at most %s CPU (p%d) and %s memory over %s", c1, cfg->rules.rightsizing.cpu_percentile,
				      c2, cpu->window ? cpu->window : "the window");
		}
		kp_buf_printf(&b,
			      ". Requests are what the scheduler reserves and what the nodes are paid for, so the "
			      "difference is idle capacity. Setting the requests to %s keeps a margin above the "
			      "observed usage and never goes below the %s memory, and saves %s a month across "
			      "%.0f replica%s.",
			      rec, one ? "sampled" : "peak", m1, f->current.replicas, f->current.replicas == 1 ? "" : "s");
		if (!f->managed_by_kind)
			kp_buf_puts(&b, " Apply it through a pull request and watch the first day of the rollout.");
		break;
	}
	case KP_CAT_UNDER_PROVISIONED: {
		sizes_label(&f->current, cur, sizeof(cur));
		sizes_label(&f->recommended, rec, sizeof(rec));
		kp_money_format(-f->monthly_savings, cfg->prices.currency, m1, sizeof(m1));
		const kp_evidence *oom = evidence_by_metric(f, "oom_kills");
		const kp_evidence *thr = evidence_by_metric(f, "cpu_throttled_ratio");
		bool more = f->recommended.cpu_request_m > f->current.cpu_request_m ||
			    f->recommended.mem_request_b > f->current.mem_request_b;
		kp_buf_printf(&b, "%s %s", f->kind, who);
		if (f->container)
			kp_buf_printf(&b, ", container %s,", f->container);
		kp_buf_printf(&b, " requests %s per pod", cur);
		if (oom)
			kp_buf_printf(&b, " and was OOM-killed %.0f time%s in the window", oom->value,
				      oom->value == 1 ? "" : "s");
		else if (more)
			kp_buf_puts(&b, " and used more than it requests");
		if (thr) {
			char lim[32];
			kp_format_cpu(f->current.cpu_limit_m, lim, sizeof(lim));
			kp_buf_printf(&b, "%s CPU was throttled in %.0f%% of scheduling periods by its %s limit",
				      oom || more ? "; its" : ", and its", thr->value * 100.0, lim);
		}
		if (more)
			kp_buf_puts(&b, ": it depends on capacity nobody reserved for it, so it is the first to be "
					"throttled, evicted or killed when the node is busy. ");
		else
			kp_buf_puts(&b, ": its requests cover what it uses, but the limit cuts its bursts, which "
					"shows as latency. ");
		if (thr && f->recommended.cpu_limit_m < 0) {
			kp_buf_puts(&b, "Removing the CPU limit lets it burst into CPU the node has free");
		} else if (thr) {
			char lim[32];
			kp_format_cpu(f->recommended.cpu_limit_m, lim, sizeof(lim));
			kp_buf_printf(&b, "Raising the CPU limit to %s lets it burst into CPU the node has free", lim);
		}
		if (thr && more)
			kp_buf_printf(&b, ", and raising the requests to %s reserves what it uses. A limit reserves "
					  "nothing, so the whole %s a month more is the requests: the price of the "
					  "reliability it lacks today.",
				      rec, m1);
		else if (thr)
			kp_buf_puts(&b, "; a limit reserves nothing, so this costs nothing on the bill. Watch the "
					"node's CPU after the change.");
		else
			kp_buf_printf(&b, "Raising the requests to %s costs %s more a month; that is the price of the "
					  "reliability it lacks today.",
				      rec, m1);
		break;
	}
	case KP_CAT_ORPHANED_PVC: {
		kp_format_bytes(f->current.storage_b > 0 ? f->current.storage_b : 0, x, sizeof(x));
		kp_money_format(f->monthly_cost, cfg->prices.currency, m2, sizeof(m2));
		const kp_evidence *age = evidence_by_metric(f, "age_days");
		kp_buf_printf(&b,
			      "PersistentVolumeClaim %s (%s) is not mounted by any pod and no workload, StatefulSet claim "
			      "template or CronJob would mount it again",
			      who, x);
		if (age)
			kp_buf_printf(&b, "; it is %.0f days old", age->value);
		kp_buf_printf(&b,
			      ". It still costs %s a month. Deleting it is destructive and cannot be undone: confirm "
			      "with the owning team that the data is not needed (take a VolumeSnapshot if unsure), then "
			      "approve the deletion.",
			      m2);
		break;
	}
	case KP_CAT_IDLE_WORKLOAD: {
		kp_money_format(f->monthly_cost, cfg->prices.currency, m2, sizeof(m2));
		const kp_evidence *cpu = evidence_by_metric(f, "cpu_max_millicores");
		const kp_evidence *mem = evidence_by_metric(f, "memory_max_bytes");
		kp_buf_printf(&b, "%s %s runs %.0f replica%s that did close to nothing over the whole window", f->kind, who,
			      f->current.replicas, f->current.replicas == 1 ? "" : "s");
		if (cpu && mem) {
			char c1[32], c2[32];
			kp_format_cpu((int64_t)ceil(cpu->value), c1, sizeof(c1));
			kp_format_bytes((int64_t)mem->value, c2, sizeof(c2));
			kp_buf_printf(&b, " (at most %s CPU and %s memory, flat, no restarts)", c1, c2);
		}
		kp_buf_printf(&b,
			      ", yet its requests cost %s a month. Idle is not proof of unused: a standby, a "
			      "once-a-quarter batch or a service nobody calls yet look the same. Ask the owners; if it "
			      "is not needed, scale it to zero (approval required) and delete it after a quiet week.",
			      m2);
		break;
	}
	case KP_CAT_ZERO_REPLICA_WORKLOAD:
		kp_money_format(f->monthly_cost, cfg->prices.currency, m2, sizeof(m2));
		kp_buf_printf(&b,
			      "%s %s is scaled to zero but still holds ", f->kind, who);
		if (f->current.storage_b > 0) {
			kp_format_bytes(f->current.storage_b, x, sizeof(x));
			kp_buf_printf(&b, "%s of persistent volumes%s", x, f->load_balancers > 0 ? " and " : "");
		}
		if (f->load_balancers > 0)
			kp_buf_printf(&b, "%lld LoadBalancer Service%s", (long long)f->load_balancers,
				      f->load_balancers == 1 ? "" : "s");
		kp_buf_printf(&b,
			      ", which cost %s a month while nothing runs. If it is parked for good, delete its "
			      "claims (after a snapshot) and load balancers; if it comes back, this is the price of "
			      "keeping its data.",
			      m2);
		break;
	case KP_CAT_UNBOUND_PV: {
		kp_format_bytes(f->current.storage_b > 0 ? f->current.storage_b : 0, x, sizeof(x));
		kp_money_format(f->monthly_cost, cfg->prices.currency, m2, sizeof(m2));
		kp_buf_printf(&b,
			      "PersistentVolume %s (%s) is not bound to any claim, so no pod can use it, but the disk "
			      "behind it is still billed: %s a month. Volumes with reclaim policy Retain stay after "
			      "their claim is deleted, on purpose; check nobody needs the data (snapshot it if unsure), "
			      "then delete the volume and the disk (approval required).",
			      who, x, m2);
		break;
	}
	case KP_CAT_IDLE_LOADBALANCER:
		kp_money_format(f->monthly_cost, cfg->prices.currency, m2, sizeof(m2));
		kp_buf_printf(&b,
			      "LoadBalancer Service %s has no ready endpoint: traffic that reaches its cloud load "
			      "balancer has nowhere to go, and the load balancer costs %s a month. Delete the Service "
			      "if the application is gone (approval required), or fix its selector if it should work.",
			      who, m2);
		break;
	case KP_CAT_FINISHED_JOB: {
		const kp_evidence *ago = evidence_by_metric(f, "finished_days_ago");
		const kp_evidence *left = evidence_by_metric(f, "objects_left");
		kp_buf_printf(&b, "Job %s finished", who);
		if (ago)
			kp_buf_printf(&b, " %.0f days ago", ago->value);
		kp_buf_puts(&b,
			    " and is not owned by a CronJob, and it has no ttlSecondsAfterFinished, so it and its pods "
			    "stay forever, cluttering the namespace and the API server");
		if (left && left->value > 1)
			kp_buf_printf(&b, " (%.0f objects in etcd)", left->value);
		kp_buf_puts(&b,
			    ". It costs nothing on the bill: this is hygiene, not savings, and it is ranked after "
			    "everything that saves money. Delete it once its logs are no longer needed (they go with "
			    "it) and set ttlSecondsAfterFinished on future Jobs.");
		break;
	}
	case KP_CAT_UNDERUTILIZED_NODE: {
		kp_money_format(f->monthly_cost, cfg->prices.currency, m2, sizeof(m2));
		const kp_evidence *cpu = evidence_by_metric(f, "cpu_requested_ratio");
		const kp_evidence *mem = evidence_by_metric(f, "memory_requested_ratio");
		kp_buf_printf(&b, "Node %s", who);
		if (cpu && mem)
			kp_buf_printf(&b, " has only %.0f%% of its CPU and %.0f%% of its memory requested", cpu->value * 100,
				      mem->value * 100);
		kp_buf_printf(&b,
			      ", and a first-fit-decreasing simulation places all its movable pods on the other nodes, "
			      "respecting node selectors, taints and DaemonSets. Removing it saves %s a month. Review "
			      "first (PodDisruptionBudgets, local storage), then cordon and drain it with approval and "
			      "let the autoscaler retire it.",
			      m2);
		const kp_evidence *pinned = evidence_by_metric(f, "pods_not_evictable");
		if (pinned)
			kp_buf_printf(&b,
				      " But %.0f of the pods that would move %s marked not to be evicted: the autoscaler "
				      "keeps the node while they run, and a drain would override their owners, so agree "
				      "it with them first.",
				      pinned->value, pinned->value == 1 ? "is" : "are");
		break;
	}
	default:
		kp_money_format(f->monthly_savings, cfg->prices.currency, m1, sizeof(m1));
		kp_buf_printf(&b, "%s %s: %s, potential savings %s a month.", f->kind, who, kp_category_name(f->category),
			      m1);
		break;
	}
	if (f->managed_by_kind && f->managed_by_name)
		kp_buf_printf(&b,
			      " Its pod template is written by %s %s, the operator's resource that controls it, so "
			      "make the change in that resource's spec: a change to the %s itself would be reverted.",
			      f->managed_by_kind, f->managed_by_name, f->kind);
	/* What the command does besides the resource's own change. */
	for (size_t i = 0; i < f->nrelated; i++) {
		const kp_related_change *r = &f->related[i];
		if (strcmp(r->kind, "HorizontalPodAutoscaler") == 0 && r->numeric)
			kp_buf_printf(&b,
				      " Right after the resize the command moves HPA %s's target from %lld%% to %lld%%: "
				      "utilization is measured against the request, so it keeps scaling at the same load.",
				      r->name, (long long)r->current_n, (long long)r->recommended_n);
		else if (strcmp(r->kind, "PersistentVolume") == 0 && !r->numeric && f->category == KP_CAT_ORPHANED_PVC)
			kp_buf_printf(&b,
				      " Its volume %s has reclaim policy %s, so deleting the claim alone would keep the "
				      "volume, the disk and the bill: the command first sets it to %s, so they go with "
				      "the claim.",
				      r->name, r->current_s, r->recommended_s);
		else if (strcmp(r->kind, "PersistentVolume") == 0 && !r->numeric)
			kp_buf_printf(&b,
				      " Deleting the volume object alone would keep the disk and the bill (reclaim policy "
				      "%s): the command first sets the policy to %s, so the disk goes with it.",
				      r->current_s, r->recommended_s);
	}
	free(who_buf);
	return kp_buf_detach(&b);
}

void kp_recommend_finding(const kp_config *cfg, kp_finding *f)
{
	/* Money first, in the one place it is decided (pipeline/money.c):
	 * the finding's own rates (node types, StorageClass) where its pricing
	 * inputs name a configured price, else the global ones. */
	kp_money_price_finding(cfg, f);
	free(f->action.command);
	switch (f->category) {
	case KP_CAT_OVER_PROVISIONED:
	case KP_CAT_UNDER_PROVISIONED:
		f->action.type = KP_ACT_RESIZE;
		/* `kubectl set resources` knows only built-in kinds; a Rollout
		 * is changed in its manifest (the pull request), so no command.
		 * Nor for a workload an operator writes: it would revert it. */
		f->action.command = strcmp(f->kind, "Rollout") == 0 || f->managed_by_kind ? NULL : resize_command(f);
		break;
	case KP_CAT_ORPHANED_PVC:
		f->action.type = KP_ACT_DELETE;
		f->action.command = delete_command(f, "pvc");
		break;
	case KP_CAT_UNBOUND_PV:
		f->action.type = KP_ACT_DELETE;
		f->action.command = delete_command(f, "pv");
		/* A Released volume whose policy the first command turns to
		 * Delete is deleted by Kubernetes itself, maybe before this runs. */
		if (f->nrelated) {
			char *c = kp_xasprintf("%s --ignore-not-found", f->action.command);
			free(f->action.command);
			f->action.command = c;
		}
		break;
	case KP_CAT_FINISHED_JOB:
		f->action.type = KP_ACT_DELETE;
		f->action.command = delete_command(f, "job");
		break;
	case KP_CAT_IDLE_LOADBALANCER:
		f->action.type = KP_ACT_DELETE;
		f->action.command = delete_command(f, "service");
		break;
	case KP_CAT_IDLE_WORKLOAD:
		/* A DaemonSet cannot be scaled; it is reviewed instead. */
		if (strcmp(f->kind, "DaemonSet") == 0) {
			f->action.type = KP_ACT_REVIEW;
			f->action.command = verb_command(f, "describe", NULL);
		} else {
			f->action.type = KP_ACT_SCALE_DOWN;
			f->action.command = verb_command(f, "scale", "--replicas=0");
		}
		break;
	case KP_CAT_ZERO_REPLICA_WORKLOAD:
		f->action.type = KP_ACT_REVIEW;
		f->action.command = verb_command(f, "describe", NULL);
		break;
	case KP_CAT_UNDERUTILIZED_NODE:
		/* Review is the action; the command shown is the drain a person
		 * would run after review, which the safety layer gates. */
		f->action.type = KP_ACT_REVIEW;
		f->action.command = verb_command(f, "drain", "--ignore-daemonsets --delete-emptydir-data");
		break;
	default:
		f->action.type = KP_ACT_REVIEW;
		f->action.command = NULL;
		break;
	}
	f->action.command = with_related(f, f->action.command);
	kp_safety_decide(cfg, f);
	free(f->explanation);
	f->explanation = explain(cfg, f);
	free(f->explained_by);
	f->explained_by = kp_xstrdup("template");
}

static int cmp_finding(const void *a, const void *b)
{
	const kp_finding *x = a, *y = b;
	/* Compare at 1/10000 of the currency so the order matches the rounded
	 * values written to findings.json. */
	double dx = round(x->monthly_savings * 10000.0), dy = round(y->monthly_savings * 10000.0);
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return strcmp(x->id, y->id);
}

void kp_findings_sort(kp_findings *f)
{
	if (f->items.len > 1)
		qsort(f->items.items, f->items.len, sizeof(kp_finding), cmp_finding);
}

static json_object *prices_json(const kp_config *cfg)
{
	json_object *p = json_object_new_object();
	json_object_object_add(p, "cpu_core_hour", kp_json_new_number(cfg->prices.cpu_core_hour));
	json_object_object_add(p, "memory_gib_hour", kp_json_new_number(cfg->prices.memory_gib_hour));
	json_object_object_add(p, "storage_gib_month", kp_json_new_number(cfg->prices.storage_gib_month));
	json_object_object_add(p, "load_balancer_hour", kp_json_new_number(cfg->prices.load_balancer_hour));
	json_object_object_add(p, "hours_per_month", kp_json_new_number(cfg->prices.hours_per_month));
	json_object_object_add(p, "currency", json_object_new_string(cfg->prices.currency));
	json_object_object_add(p, "source", json_object_new_string(cfg->prices.source));
	/* Additive: the specific prices findings may be priced at (each
	 * finding's "price" says which it used). */
	if (cfg->prices.spot_cpu_core_hour >= 0 && cfg->prices.spot_memory_gib_hour >= 0) {
		json_object_object_add(p, "spot_cpu_core_hour", kp_json_new_number(cfg->prices.spot_cpu_core_hour));
		json_object_object_add(p, "spot_memory_gib_hour", kp_json_new_number(cfg->prices.spot_memory_gib_hour));
	}
	if (cfg->prices.nnode_types || cfg->prices.nstorage_classes) {
		json_object *tmp = json_object_new_object();
		kp_pricing_config_json(cfg, tmp);
		json_object *nt = NULL, *sc = NULL; /* keys hold dots: no kp_json_get */
		json_object_object_get_ex(tmp, "prices.node_types", &nt);
		json_object_object_get_ex(tmp, "prices.storage_classes", &sc);
		json_object_object_add(p, "node_types", json_object_get(nt));
		json_object_object_add(p, "storage_classes", json_object_get(sc));
		json_object_put(tmp);
	}
	/* Additive: the FOCUS bill's rates, and where every specific rate
	 * comes from (the reports' price-sources table). */
	if (cfg->prices.focus)
		json_object_object_add(p, "focus", kp_focus_to_json(cfg->prices.focus));
	json_object_object_add(p, "rate_sources", kp_money_sources_json(cfg));
	return p;
}

kp_status kp_recommend(const kp_config *cfg, json_object *analysis, const char *path, json_object **findings_doc,
		       json_object **plan, size_t *below, kp_error *err)
{
	kp_findings f;
	kp_findings_init(&f);
	kp_status s = kp_findings_from_json(analysis, path, false, &f, err);
	if (s) {
		kp_findings_release(&f);
		return s;
	}
	/* The findings are in f now; their JSON is dropped before
	 * findings.json's tree is built, so the two never coexist. */
	json_object_object_del(analysis, "findings");
	*plan = NULL;
	s = kp_recommend_findings(cfg, analysis, path, &f, findings_doc, below, err);
	if (!s) {
		kp_findings_fill(*findings_doc, &f, true);
		*plan = kp_plan_doc(*findings_doc);
	}
	kp_findings_release(&f);
	return s;
}

/* A finding for plan.json's entry: everything but the evidence, the sizes,
 * the prices and the explanation, which are most of its bytes. Made one at
 * a time while plan.json is written (kp_plan_write). */
static json_object *plan_view(void *ud, size_t i)
{
	const kp_findings *f = ud;
	json_object *o = kp_finding_to_json(&f->items.items[i], true);
	static const char *const heavy[] = {"evidence", "current", "recommended", "pricing", "price", "explanation"};
	for (size_t k = 0; k < sizeof(heavy) / sizeof(heavy[0]); k++)
		json_object_object_del(o, heavy[k]);
	return o;
}

/* plan.json: ordered over the findings' plan keys, each entry made from
 * its whole finding as it is written. */
static kp_status write_plan(const char *path, json_object *findings_doc, json_object *scope, const kp_findings *f,
			    kp_error *err)
{
	kp_plan_key *keys = kp_xcalloc(f->items.len + 1, sizeof(*keys));
	for (size_t i = 0; i < f->items.len; i++) {
		const kp_finding *x = &f->items.items[i];
		/* as kp_finding_to_json writes them, which is what plan.json's
		 * order is defined over (kp_plan_key_of) */
		keys[i] = (kp_plan_key){x->id, x->monthly_savings, x->action.blocked, x->action.destructive,
					x->action.approval_required};
	}
	kp_status s = kp_plan_write(path, findings_doc, keys, f->items.len, scope, plan_view, (void *)f, err);
	free(keys);
	return s;
}

kp_status kp_recommend_findings(const kp_config *cfg, json_object *analysis, const char *path, kp_findings *fin,
				json_object **findings_doc, size_t *below, kp_error *err)
{
	*findings_doc = NULL;
	const char *schema = kp_json_str(analysis, "schema");
	if (!schema || strcmp(schema, KP_ANALYSIS_SCHEMA) != 0)
		return kp_fail(err, KP_ERR_INPUT, "%s: schema: expected \"%s\"", path, KP_ANALYSIS_SCHEMA);
	/* what was not collected, already scoped by analyze; an analysis.json
	 * from before structured entries has strings, read as cluster-wide */
	json_object *missing = NULL;
	kp_status s = kp_missing_from_json(analysis, path, &missing, err);
	if (s)
		return s;
	kp_findings f = *fin; /* worked on in place, handed back at the end */
	/* Price every finding, then drop the ones that save too little at the
	 * price the user sees (rightsizing.min_monthly_savings), in order. */
	/* blocked: the savings of actions the safety layer blocked (protected
	 * namespaces); actionable: all the others, what plan.json can act on.
	 * monthly_savings keeps the contract's meaning, the sum of both. */
	double total_cost = 0, total_savings = 0, blocked_savings = 0, actionable_savings = 0;
	size_t kept = 0;
	for (size_t i = 0; i < f.items.len; i++) {
		kp_finding *x = &f.items.items[i];
		kp_recommend_finding(cfg, x);
		if (kp_money_below_threshold(cfg, x)) {
			kp_finding_release(x);
			continue;
		}
		total_cost += kp_money_round(x->monthly_cost);
		total_savings += kp_money_round(x->monthly_savings);
		if (x->action.blocked)
			blocked_savings += kp_money_round(x->monthly_savings);
		else
			actionable_savings += kp_money_round(x->monthly_savings);
		f.items.items[kept++] = *x;
	}
	if (below)
		*below = f.items.len - kept;
	f.items.len = kept;
	kp_findings_sort(&f);

	json_object *doc = json_object_new_object();
	json_object_object_add(doc, "schema", json_object_new_string(KP_FINDINGS_SCHEMA));
	json_object *v;
	static const char *const copied[] = {"generated_at", "cluster", "window"};
	for (size_t i = 0; i < 3; i++) {
		v = kp_json_get(analysis, copied[i]);
		json_object_object_add(doc, copied[i], v ? json_object_get(v) : NULL);
	}
	json_object_object_add(doc, "prices", prices_json(cfg));
	json_object *totals = json_object_new_object();
	json_object_object_add(totals, "findings", json_object_new_int64((int64_t)f.items.len));
	json_object_object_add(totals, "monthly_cost", kp_json_new_number(kp_money_round(total_cost)));
	json_object_object_add(totals, "monthly_savings", kp_json_new_number(kp_money_round(total_savings)));
	json_object_object_add(totals, "actionable_monthly_savings", kp_json_new_number(kp_money_round(actionable_savings)));
	json_object_object_add(totals, "blocked_monthly_savings", kp_json_new_number(kp_money_round(blocked_savings)));
	json_object_object_add(doc, "totals", totals);
	/* in their places; written from f one at a time (kp_findings_write_streamed) */
	json_object_object_add(doc, "findings", NULL);
	json_object_object_add(doc, "skipped", NULL);
	/* Not in the v1 contract's required set, but reports need to say what
	 * was not collected; additive fields are allowed by the contract. */
	json_object_object_add(doc, "missing", missing);
	/* gaps the run's scope left out: counted, so nobody wonders */
	int64_t out_of_scope = json_object_get_int64(kp_json_get(analysis, "counts.missing_excluded_by_scope"));
	if (out_of_scope > 0)
		json_object_object_add(doc, "missing_excluded_by_scope", json_object_new_int64(out_of_scope));
	/* references to objects the snapshot does not hold: only when there are any */
	json_object *inc = kp_json_get(analysis, "inconsistencies"), *inc_total = kp_json_get(analysis, "inconsistencies_total");
	if (json_object_is_type(inc, json_type_array) && json_object_get_int64(inc_total) > 0) {
		json_object_object_add(doc, "inconsistencies", json_object_get(inc));
		json_object_object_add(doc, "inconsistencies_total", json_object_get(inc_total));
	}
	*findings_doc = doc;
	*fin = f;
	return KP_OK;
}

/* ---- the stage ---- */

/* Something was not collected, or the snapshot refers to objects it does
 * not hold: either way the result is partial (degraded). */
static bool has_missing(json_object *doc)
{
	json_object *m = kp_json_get(doc, "missing");
	return (json_object_is_type(m, json_type_array) && json_object_array_length(m) > 0) ||
	       json_object_get_int64(kp_json_get(doc, "inconsistencies_total")) > 0;
}

/* One audit record per finding: what is proposed and what the safety layer
 * decided about it. */
static void audit_decisions(kp_audit *audit, const kp_findings *f)
{
	for (size_t i = 0; i < f->items.len; i++) {
		const kp_finding *x = &f->items.items[i];
		json_object *ev = json_object_new_object();
		json_object_object_add(ev, "finding", json_object_new_string(x->id));
		json_object_object_add(ev, "category", json_object_new_string(kp_category_name(x->category)));
		json_object_object_add(ev, "namespace", x->namespace_ ? json_object_new_string(x->namespace_) : NULL);
		json_object_object_add(ev, "name", json_object_new_string(x->name));
		json_object_object_add(ev, "command", x->action.command ? json_object_new_string(x->action.command) : NULL);
		json_object_object_add(ev, "risk", json_object_new_string(kp_risk_name(x->risk)));
		json_object_object_add(ev, "destructive", json_object_new_boolean(x->action.destructive));
		json_object_object_add(ev, "approval_required", json_object_new_boolean(x->action.approval_required));
		json_object_object_add(ev, "blocked", json_object_new_boolean(x->action.blocked));
		json_object_object_add(ev, "blocked_reason",
				       x->action.blocked_reason ? json_object_new_string(x->action.blocked_reason) : NULL);
		kp_audit_event(audit, "safety.decision", ev);
	}
}

/* summary.json, this run's few figures, and with a state directory
 * history.json, the trend over its kept runs (history.h). The trend is a
 * view for the reports: a state directory it cannot read costs the trend
 * and a warning, never the run. */
kp_status kp_recommend_write_history(kp_run *run, json_object *summary, kp_error *err)
{
	char *spath = kp_path_join(run->dir, "summary.json");
	kp_status s = kp_json_write_file(spath, summary, err);
	free(spath);
	if (!s && run->state_dir) {
		json_object *h = NULL, *warnings = json_object_new_array();
		kp_error he = {0};
		if (kp_history_trend(run->state_dir, run->run_path, run->cfg->history.keep_runs, summary, &h, warnings,
				     &he)) {
			kp_run_note(run, KP_NOTE_WARN, "history: %s; the reports have no trend", he.msg);
		} else {
			for (size_t i = 0; i < json_object_array_length(warnings); i++)
				kp_run_note(run, KP_NOTE_WARN, "history: %s",
					    json_object_get_string(json_object_array_get_idx(warnings, i)));
			char *hpath = kp_path_join(run->dir, "history.json");
			s = kp_json_write_file(hpath, h, err);
			free(hpath);
			json_object *ev = json_object_new_object();
			json_object_object_add(ev, "runs", json_object_new_int64((int64_t)json_object_array_length(
								      kp_json_get(h, "runs"))));
			json_object_object_add(ev, "left_out", json_object_get(kp_json_get(h, "left_out")));
			kp_audit_event(run->audit, "history.trend", ev);
		}
		json_object_put(h);
		json_object_put(warnings);
	}
	return s;
}

/* What the FOCUS export gave, for the terminal: its period and rows, and
 * each rate or why there is none. */
static void focus_notes(kp_run *run, const kp_focus_rates *r, size_t nkeys)
{
	kp_run_note(run, KP_NOTE_INFO,
		    "prices: FOCUS export %s, %s to %s: %lld rows, %lld usage rows, %lld matched to the cluster's nodes "
		    "and volumes, %lld of other resources",
		    r->file, r->period_start ? r->period_start : "?", r->period_end ? r->period_end : "?",
		    (long long)r->rows, (long long)r->usage_rows, (long long)r->matched_rows, (long long)r->unmatched_rows);
	if (nkeys == 0)
		kp_run_note(run, KP_NOTE_WARN,
			    "prices: analysis.json lists no node with a spec.providerID and an instance type and no volume "
			    "with a disk id and a StorageClass (one made before FOCUS exports were read has none: run kopilot "
			    "analyze again): nothing in the FOCUS export can be matched, the other prices apply");
	for (size_t i = 0; i < r->nitems; i++) {
		const kp_focus_rate *it = &r->items[i];
		if (it->note)
			kp_run_note(run, KP_NOTE_WARN, "prices: FOCUS %s %s%s: %s; the next price source applies",
				    it->storage ? "StorageClass" : "instance type", it->name, it->spot ? " (spot)" : "", it->note);
	}
}

static kp_status recommend_run(kp_run *run, kp_error *err)
{
	char *apath = kp_path_join(run->dir, "analysis.json");
	json_object *analysis = NULL;
	kp_findings f;
	kp_findings_init(&f);
	kp_status s = KP_OK;
	if (run->analysis) {
		/* analyze ran in this process and left what analysis.json holds */
		f = *run->analysis;
		free(run->analysis);
		run->analysis = NULL;
		analysis = run->analysis_doc;
		run->analysis_doc = NULL;
	} else {
		/* the findings one at a time into f, never analysis.json's whole tree */
		s = kp_findings_read_file(apath, false, &f, &analysis, err);
	}
	/* Effective prices from the bill: read before anything is written, so
	 * a bad export leaves the run as it was. The rates live on a copy of
	 * the configuration for this stage only. */
	kp_config local;
	const kp_config *cfg = run->cfg;
	kp_focus_rates focus;
	memset(&focus, 0, sizeof(focus));
	if (!s && run->cfg->prices.focus_file) {
		kp_focus_keys keys;
		kp_focus_keys_from_json(kp_json_get(analysis, "billing_keys"), &keys);
		size_t nkeys = keys.nnodes + keys.nvolumes;
		s = kp_focus_read(run->cfg->prices.focus_file, &keys, run->cfg->prices.currency,
				  run->cfg->prices.hours_per_month, &focus, err);
		kp_focus_keys_release(&keys);
		if (!s) {
			local = *run->cfg;
			local.prices.focus = &focus;
			cfg = &local;
			focus_notes(run, &focus, nkeys);
		}
	}
	json_object *findings = NULL;
	if (!s)
		s = kp_recommend_findings(cfg, analysis, apath, &f, &findings, &run->below_threshold, err);
	free(apath);
	if (!s) {
		/* the cost sub-agent's words where a provider is configured; a
		 * provider that fails leaves the templates and a degraded run,
		 * never a failed one */
		kp_explain_stats es;
		kp_explain_findings(cfg, run->audit, &f, &es);
		if (es.failed) {
			/* in findings.json's missing, so the reports say it too */
			run->degraded = true;
			kp_run_note(run, KP_NOTE_WARN, "explanations: %s; the findings keep their template explanations",
				    es.error);
			json_object *m = json_object_new_object(), *list = kp_json_get(findings, "missing");
			json_object_object_add(m, "resource", json_object_new_string("explanations"));
			json_object_object_add(m, "namespace", NULL);
			json_object_object_add(m, "workload", NULL);
			json_object_object_add(m, "reason", json_object_new_string(es.error));
			char *sum = kp_xasprintf("LLM explanations not made (%s failed): the findings keep their template "
						 "explanations",
						 es.label[0] ? es.label : "the provider");
			json_object_object_add(m, "summary", json_object_new_string(sum));
			free(sum);
			if (json_object_is_type(list, json_type_array))
				json_object_array_add(list, m);
			else
				json_object_put(m);
		}
		if (es.groups) {
			json_object *ev = json_object_new_object();
			json_object_object_add(ev, "provider_model", json_object_new_string(es.label));
			json_object_object_add(ev, "groups", json_object_new_int64(es.groups));
			json_object_object_add(ev, "calls", json_object_new_int64(es.calls));
			json_object_object_add(ev, "cache_hits", json_object_new_int64(es.cache_hits));
			json_object_object_add(ev, "explained", json_object_new_int64(es.explained));
			json_object_object_add(ev, "dropped_for_numbers", json_object_new_int64(es.dropped));
			json_object_object_add(ev, "in_tokens", json_object_new_int64(es.in_tokens));
			json_object_object_add(ev, "out_tokens", json_object_new_int64(es.out_tokens));
			json_object_object_add(ev, "failed", json_object_new_boolean(es.failed));
			kp_audit_event(run->audit, "recommend.explain", ev);
			snprintf(run->llm_label, sizeof(run->llm_label), "%s", es.label);
			run->llm_in_tokens += es.in_tokens;
			run->llm_out_tokens += es.out_tokens;
		}
	}
	if (s) {
		kp_findings_release(&f);
		json_object_put(analysis);
		kp_focus_rates_release(&focus);
		return s;
	}
	/* The scope analyze recorded, carried into findings.json and plan.json
	 * (absent in an analysis.json from before scopes: the whole cluster). */
	json_object *scope = kp_json_get(analysis, "scope");
	scope = scope ? json_object_get(scope) : kp_scope_json(NULL, 0);
	json_object_object_add(findings, "scope", scope);
	kp_history_apply_findings(findings, &f, run->previous_doc, run->previous_run);
	json_object *hist = json_object_new_object();
	json_object_object_add(hist, "previous_run", run->previous_run ? json_object_new_string(run->previous_run) : NULL);
	json_object *changes = kp_json_get(findings, "changes");
	static const char *const counts[] = {"new", "persisting", "resolved"};
	for (size_t i = 0; i < 3 && run->previous_run; i++)
		json_object_object_add(hist, counts[i], json_object_get(kp_json_get(changes, counts[i])));
	kp_audit_event(run->audit, "history", hist);
	audit_decisions(run->audit, &f);
	json_object_put(analysis); /* not needed past here: memory back before serialising */
	if (has_missing(findings))
		run->degraded = true;
	char *fpath = kp_path_join(run->dir, "findings.json"), *ppath = kp_path_join(run->dir, "plan.json");
	s = kp_findings_write_streamed(fpath, findings, &f, true, err);
	if (!s)
		s = write_plan(ppath, findings, scope, &f, err);
	if (!s) {
		json_object *summary = kp_history_summary(findings, &f, run->cfg);
		s = kp_recommend_write_history(run, summary, err);
		json_object_put(summary);
	}
	json_object_put(findings);
	kp_findings_release(&f);
	free(fpath);
	free(ppath);
	if (s) {
		kp_focus_rates_release(&focus);
		return s;
	}
	json_object *ev = json_object_new_object();
	json_object_object_add(ev, "prices_source", json_object_new_string(run->cfg->prices.source));
	if (focus.file)
		json_object_object_add(ev, "focus", kp_focus_to_json(&focus));
	kp_focus_rates_release(&focus);
	json_object_object_add(ev, "below_min_monthly_savings", json_object_new_int64((int64_t)run->below_threshold));
	kp_audit_event(run->audit, "recommend", ev);
	return KP_OK;
}

kp_status kp_recommend_run(kp_run *run, kp_error *err) { return kp_run_guarded(recommend_run, run, err); }
