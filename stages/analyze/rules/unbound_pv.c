/*
 * unbound_pv.c - PersistentVolumes no claim holds but whose disk is still billed.
 *
 * A PersistentVolume is reported (category unbound-pv) when all of these hold:
 *   - status.phase is Released (its claim was deleted), Available (no claim
 *     ever bound it, or an admin cleared the claimRef) or Failed (automatic
 *     reclamation failed);
 *   - it is older than unbound_pv.grace_days (default 7), by
 *     creationTimestamp against the analysis time;
 *   - it is not labelled or annotated kopilot.io/ignore=true, and the
 *     namespace of its former claim (spec.claimRef) is not ignored.
 * Not reported: Bound volumes (a claim holds them; orphaned-pvc judges the
 * claim), Pending volumes and volumes without a phase (nothing to judge),
 * volumes without a creationTimestamp (skipped: the age is unknown).
 * If persistentvolumes.json was not collected the rule reports nothing: the
 * snapshot's `missing` list already says so.
 *
 * The evidence says what the phase means and why the reclaim policy kept the
 * volume: Retain keeps a Released volume and its disk on purpose (someone
 * has to decide about the data); a Released volume with policy Delete means
 * the deleter failed. Confidence is high (the phase is the API's own
 * statement), the risk is HIGH: deleting the volume can delete the data.
 *
 * Ownership: findings go to ctx->out (heap strings owned by the list); the
 * rule keeps nothing.
 */
#include <stdio.h>
#include <string.h>

#include "stages/analyze/analyze.h"
#include "pipeline/quantity.h"

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static const char *phase_meaning(const char *phase)
{
	if (eq(phase, "Released"))
		return "its claim was deleted, and no new claim can bind it until an administrator clears spec.claimRef";
	if (eq(phase, "Available"))
		return "no claim is bound to it, so no pod can mount it";
	return "Kubernetes failed to reclaim it automatically, so it stays until someone deletes it";
}

void kp_rule_unbound_pv(kp_analyze_ctx *x)
{
	kp_cluster *c = x->cluster;
	if (!c->collected[KP_RES_PVS])
		return; /* reported in `missing`; nothing to list */
	int64_t grace = (int64_t)(x->cfg->rules.unbound_pv.grace_days * 86400.0);

	for (size_t i = 0; i < c->pvs.len; i++) {
		const kp_pv *v = &c->pvs.items[i];
		const char *name = v->meta.name;
		if (!eq(v->phase, "Released") && !eq(v->phase, "Available") && !eq(v->phase, "Failed"))
			continue;
		if (v->meta.ignored || kp_namespace_ignored(c, v->claim_namespace)) {
			kp_findings_skip(x->out, "v1", "PersistentVolume", NULL, name, "excluded by kopilot.io/ignore=true");
			continue;
		}
		if (!v->meta.created) {
			kp_findings_skip(x->out, "v1", "PersistentVolume", NULL, name,
					 "no creationTimestamp: cannot tell whether it is past the grace period");
			continue;
		}
		int64_t age = x->now - v->meta.created;
		if (age < grace)
			continue;

		kp_finding *f = kp_findings_add(x->out, KP_CAT_UNBOUND_PV, "v1", "PersistentVolume", NULL, name, NULL);
		f->current.storage_b = v->storage_bytes;
		f->has_recommended = false;
		f->confidence = KP_CONF_HIGH;
		f->risk = KP_RISK_HIGH; /* deleting the volume can delete the disk and its data */
		char size[32];
		kp_format_bytes(v->storage_bytes > 0 ? v->storage_bytes : 0, size, sizeof(size));

		kp_finding_add_evidence(f, "phase", 0, false, NULL, "Phase %s: %s", v->phase, phase_meaning(v->phase));
		const char *rp = v->reclaim_policy;
		if (eq(rp, "Retain")) {
			/* Deleting a Retain volume's object leaves its disk, and the
			 * bill, in the cloud: the action makes the provisioner delete
			 * the disk too, since that is what the savings count. */
			kp_finding_add_evidence(f, "reclaim_policy", 0, false, NULL,
						"Reclaim policy Retain: Kubernetes keeps the volume and its disk after the "
						"claim is deleted, on purpose, until someone decides about the data; deleting "
						"the volume object alone would leave the disk and its cost, so the action first "
						"sets the policy to Delete, and the disk goes with the volume");
			kp_related_change *r = kp_finding_add_related(
				f, "v1", "PersistentVolume", NULL, name, "/spec/persistentVolumeReclaimPolicy",
				"with Retain, deleting the volume keeps its disk: Delete lets the disk go with it");
			r->current_s = kp_xstrdup("Retain");
			r->recommended_s = kp_xstrdup("Delete");
			r->before = true;
		} else if (eq(rp, "Delete") && eq(v->phase, "Released"))
			kp_finding_add_evidence(f, "reclaim_policy", 0, false, NULL,
						"Reclaim policy Delete, yet the volume is Released: the deleter (the volume "
						"plugin or CSI provisioner) failed to delete it, so the disk is still there");
		else if (eq(rp, "Delete"))
			kp_finding_add_evidence(f, "reclaim_policy", 0, false, NULL,
						"Reclaim policy Delete: the disk would have been deleted with a released "
						"claim, but nothing released this volume, so it stays");
		else
			kp_finding_add_evidence(f, "reclaim_policy", 0, false, NULL,
						"Reclaim policy %s: nothing deletes the volume automatically",
						rp ? rp : "(unset)");
		kp_finding_add_evidence(f, "storage_bytes", v->storage_bytes > 0 ? (double)v->storage_bytes : 0, true,
					"bytes", "%s of storage%s%s still billed", size,
					v->storage_class ? " in storage class " : "", v->storage_class ? v->storage_class : "");
		if (v->claim_name)
			kp_finding_add_evidence(f, "claim_ref", 0, false, NULL, "%s claim: %s/%s (spec.claimRef)",
						eq(v->phase, "Available") ? "Reserved for" : "Former",
						v->claim_namespace ? v->claim_namespace : "", v->claim_name);
		kp_finding_add_evidence(f, "age_days", (double)age / 86400.0, true, "days",
					"Created %.0f days ago (grace period %.0f days)", (double)age / 86400.0,
					x->cfg->rules.unbound_pv.grace_days);
		kp_finding_stamp_evidence(f, "kube-api", NULL, -1);
	}
}
